"""Prometheus Alertmanager API v2: `POST <url>/api/v2/alerts` with a list of alerts.

Teams that run Alertmanager get its routing, grouping, inhibition and silences; replicas of
the monitor send identical labels, so Alertmanager de-duplicates them. A firing alert is sent
with `endsAt = decision time + hold`: Alertmanager resolves it by itself if the monitor stops
re-sending, so rules routed here need a `repeat_interval` shorter than `hold`. A resolve is
sent with `endsAt` = the time it resolved.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from monitor.alerting.state import AlertEvent, Batch
from monitor.config import Duration
from monitor.receivers._base import (
    HttpReceiver,
    ReceiverConfig,
    Request,
    Secret,
    rfc3339,
)


class AlertmanagerConfig(ReceiverConfig):
    groups_downstream: ClassVar[bool] = True
    """Alertmanager groups by its own route: sent at once, one alert per group here."""

    type: Literal["alertmanager"]
    url: Secret
    hold: Duration = Field(default=5 * 3600.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value


def postable(event: AlertEvent, hold: float) -> dict[str, Any]:
    """One `postableAlert` (pure)."""
    ends = (
        event.ends_at
        if event.kind == "resolved" and event.ends_at
        else (event.at + timedelta(seconds=hold))
    )
    alert: dict[str, Any] = {
        "labels": event.labels,
        "annotations": event.annotations,
        "startsAt": rfc3339(event.starts_at),
        "endsAt": rfc3339(ends),
    }
    if event.generator_url:
        alert["generatorURL"] = event.generator_url
    return alert


class AlertmanagerReceiver(HttpReceiver[AlertmanagerConfig]):
    kind: ClassVar[str] = "alertmanager"
    config_model: ClassVar[type[AlertmanagerConfig]] = AlertmanagerConfig

    def render(self, batch: Batch) -> list[Request]:
        body = json.dumps([postable(e, self.config.hold) for e in batch.events]).encode()
        url = self.config.url.get_secret_value().rstrip("/") + "/api/v2/alerts"
        return [Request("POST", url, {"Content-Type": "application/json"}, body)]
