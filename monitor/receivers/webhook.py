"""Generic webhook: the body is Alertmanager's webhook payload, version "4".

So every tool that takes Alertmanager webhooks takes ours. With `hmac_secret` set, the body is
signed: header `X-Monitor-Signature-256: sha256=<hex HMAC-SHA256 of the exact body bytes>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar, Literal

from pydantic import Field

from monitor.alerting.state import AlertEvent, Batch
from monitor.receivers._base import (
    HttpReceiver,
    ReceiverConfig,
    Request,
    Secret,
    rfc3339,
)

SIGNATURE_HEADER = "X-Monitor-Signature-256"
ZERO_TIME = "0001-01-01T00:00:00Z"
"""What Alertmanager writes as `endsAt` of an alert still firing."""


class WebhookConfig(ReceiverConfig):
    type: Literal["webhook"]
    secret_files = ("url", "hmac_secret")
    url: Secret
    hmac_secret: Secret | None = None
    max_alerts: int = Field(
        default=0, ge=0, description="0 = no limit; extra alerts are counted in truncatedAlerts"
    )


def sign(secret: str, body: bytes) -> str:
    """The signature header value; receivers recompute it and compare in constant time."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _alert(event: AlertEvent) -> dict[str, Any]:
    return {
        "status": event.status,
        "labels": event.labels,
        "annotations": event.annotations,
        "startsAt": rfc3339(event.starts_at),
        "endsAt": rfc3339(event.ends_at) if event.ends_at else ZERO_TIME,
        "generatorURL": event.generator_url,
        "fingerprint": event.fingerprint,
    }


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    first, *rest = maps
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in rest)}


def payload(batch: Batch, receiver: str, max_alerts: int = 0) -> dict[str, Any]:
    """The webhook body as a dict (pure): Alertmanager's `version: "4"` message."""
    events = list(batch.events)
    kept = events[:max_alerts] if max_alerts else events
    names = sorted({e.rule for e in events})
    return {
        "version": "4",
        "groupKey": batch.group_key,
        "truncatedAlerts": len(events) - len(kept),
        "status": batch.status,
        "receiver": receiver,
        "groupLabels": (
            batch.group_labels
            if batch.group_labels is not None
            else ({"alertname": names[0]} if len(names) == 1 else {})
        ),
        "commonLabels": _common([e.labels for e in events]),
        "commonAnnotations": _common([e.annotations for e in events]),
        "externalURL": batch.external_url,
        "alerts": [_alert(e) for e in kept],
    }


class WebhookReceiver(HttpReceiver[WebhookConfig]):
    kind: ClassVar[str] = "webhook"
    config_model: ClassVar[type[WebhookConfig]] = WebhookConfig

    def render(self, batch: Batch) -> list[Request]:
        body = json.dumps(
            payload(batch, self.name, self.config.max_alerts), separators=(",", ":")
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.config.hmac_secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.config.hmac_secret.get_secret_value(), body)
        return [Request("POST", self.config.url.get_secret_value(), headers, body)]
