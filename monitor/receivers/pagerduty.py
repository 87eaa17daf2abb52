"""PagerDuty Events API v2 (`POST /v2/enqueue`): one event per group of alerts.

A grouped batch (`alerting/grouping.py`) is one event keyed by its group, listing its alerts.
Rows written before grouping carry one alert each and are sent as before, one event per alert:

`dedup_key` is the alert's incident key (rule + fingerprint, <= 255 chars): the same for the
trigger, every repeat and the resolve, and the same after a restart, so PagerDuty keeps one
incident. A resolve carries only routing_key, event_action and dedup_key. PagerDuty answers
202; 400 is final, 429/5xx are retried (about 120 events/min per routing key).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from monitor.alerting.state import AlertEvent, Batch, fingerprint
from monitor.receivers._base import (
    HttpReceiver,
    ReceiverConfig,
    Request,
    Secret,
    group_title,
    listed,
    rfc3339,
)

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = frozenset({"critical", "error", "warning", "info"})


class PagerDutyConfig(ReceiverConfig):
    type: Literal["pagerduty"]
    secret_files = ("routing_key",)
    routing_key: Secret
    url: str = EVENTS_URL
    source: str = "fleet-monitor"
    client: str = "fleet monitor"


def event_body(event: AlertEvent, config: PagerDutyConfig) -> dict[str, Any]:
    """One Events v2 message (pure)."""
    routing_key = config.routing_key.get_secret_value()
    if event.kind == "resolved":
        return {
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": event.incident_key,
        }
    summary = event.annotations.get("summary") or f"{event.rule} {event.labels.get('service', '')}"
    labels = event.labels
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": event.incident_key,
        "payload": {
            "summary": summary[:1024],
            "source": labels.get("service", config.source),
            "severity": event.severity if event.severity in SEVERITIES else "warning",
            "timestamp": rfc3339(event.starts_at),
            "component": labels.get("check", labels.get("service", "")),
            "group": labels.get("team", ""),
            "class": event.rule,
            "custom_details": {
                "description": event.annotations.get("description", ""),
                "likely_cause": event.annotations.get("likely_cause", ""),
                "likely_cause_of": event.annotations.get("likely_cause_of", ""),
                "labels": labels,
                "fingerprint": event.fingerprint,
            },
        },
        "client": config.client,
    }
    body["payload"] = {k: v for k, v in body["payload"].items() if v != ""}
    links = [
        {"href": event.annotations[key], "text": text}
        for key, text in (("runbook_url", "Runbook"), ("dashboard_url", "Dashboard"))
        if event.annotations.get(key, "").startswith(("http://", "https://"))
    ]
    if event.generator_url:
        body["client_url"] = event.generator_url
        links.append({"href": event.generator_url, "text": "Status"})
    if links:
        body["links"] = links
    return body


_SEVERITY_ORDER = ("info", "warning", "error", "critical")


def group_body(batch: Batch, config: PagerDutyConfig) -> dict[str, Any]:
    """A group of alerts as one Events v2 message (pure), keyed by the group as Alertmanager
    does: one incident per group, resolved when the whole group is."""
    labels = batch.group_labels or {}
    dedup_key = f"group/{fingerprint(labels)}/{batch.receiver}"[:255]
    routing_key = config.routing_key.get_secret_value()
    if batch.status == "resolved":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}
    firing = [e for e in batch.events if e.status == "firing"]
    severity = max(
        (e.severity if e.severity in SEVERITIES else "warning" for e in firing),
        key=_SEVERITY_ORDER.index,
    )
    lines = listed(batch)
    services = sorted({e.labels.get("service", "") for e in firing} - {""})
    summary = f"{group_title(batch)}: {', '.join(services)}"
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": summary if len(summary) <= 1024 else summary[:1023] + "…",
            "source": config.source,
            "severity": severity,
            "timestamp": rfc3339(min(e.starts_at for e in firing)),
            "class": ", ".join(sorted({e.rule for e in firing}))[:255],
            "custom_details": {
                "firing": len(firing),
                "resolved": len(batch.events) - len(firing),
                "alerts": lines,
                "group_labels": labels,
            },
        },
        "client": config.client,
    }
    if batch.external_url:
        status = batch.external_url.rstrip("/") + "/status"
        body["client_url"] = status
        body["links"] = [{"href": status, "text": "Status"}]
    return body


class PagerDutyReceiver(HttpReceiver[PagerDutyConfig]):
    kind: ClassVar[str] = "pagerduty"
    config_model: ClassVar[type[PagerDutyConfig]] = PagerDutyConfig

    def render(self, batch: Batch) -> list[Request]:
        headers = {"Content-Type": "application/json"}
        if batch.group_labels is not None:
            body = json.dumps(group_body(batch, self.config)).encode()
            return [Request("POST", self.config.url, headers, body)]
        return [
            Request(
                "POST", self.config.url, headers, json.dumps(event_body(e, self.config)).encode()
            )
            for e in batch.events
        ]
