"""PagerDuty Events API v2 (`POST /v2/enqueue`): one event per alert.

`dedup_key` is the alert's incident key (rule + fingerprint, <= 255 chars): the same for the
trigger, every repeat and the resolve, and the same after a restart, so PagerDuty keeps one
incident. A resolve carries only routing_key, event_action and dedup_key. PagerDuty answers
202; 400 is final, 429/5xx are retried (about 120 events/min per routing key).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from pydantic import model_validator

from monitor.alerting.state import AlertEvent, Batch
from monitor.receivers._base import (
    HttpReceiver,
    ReceiverConfig,
    Request,
    Secret,
    read_secret_files,
    rfc3339,
)

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = frozenset({"critical", "error", "warning", "info"})


class PagerDutyConfig(ReceiverConfig):
    type: Literal["pagerduty"]
    routing_key: Secret
    url: str = EVENTS_URL
    source: str = "fleet-monitor"
    client: str = "fleet monitor"

    @model_validator(mode="before")
    @classmethod
    def _files(cls, data: Any) -> Any:
        return read_secret_files(data, ("routing_key",))


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


class PagerDutyReceiver(HttpReceiver[PagerDutyConfig]):
    kind: ClassVar[str] = "pagerduty"
    config_model: ClassVar[type[PagerDutyConfig]] = PagerDutyConfig

    def render(self, batch: Batch) -> list[Request]:
        headers = {"Content-Type": "application/json"}
        return [
            Request(
                "POST", self.config.url, headers, json.dumps(event_body(e, self.config)).encode()
            )
            for e in batch.events
        ]
