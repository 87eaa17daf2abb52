"""Development receiver: one structlog event per notification (a group: one event listing its
alerts), nothing sent."""

from __future__ import annotations

import json
from typing import ClassVar, Literal

import aiohttp
import structlog

from monitor.alerting.state import Batch
from monitor.receivers._base import (
    DeliveryResult,
    Outcome,
    ReceiverConfig,
    Request,
    group_title,
    listed,
)
from monitor.receivers.webhook import payload


class LogConfig(ReceiverConfig):
    type: Literal["log"]


class LogReceiver:
    kind: ClassVar[str] = "log"
    config_model: ClassVar[type[LogConfig]] = LogConfig

    def __init__(
        self, config: LogConfig, logger: structlog.typing.FilteringBoundLogger | None = None
    ) -> None:
        self.config = config
        self.name = config.name
        self._log = logger or structlog.get_logger("monitor.alerts")

    def render(self, batch: Batch) -> list[Request]:
        body = json.dumps(payload(batch, self.name)).encode()
        return [Request("LOG", "log:", {}, body)]

    async def send(self, session: aiohttp.ClientSession, batch: Batch) -> DeliveryResult:
        if len(batch.events) > 1 and batch.group_labels is not None:
            lines = listed(batch)
            self._log.info(
                "alert_notification",
                receiver=self.name,
                kind=batch.status,
                title=group_title(batch),
                count=len(batch.events),
                alerts=lines,
            )
            return DeliveryResult(Outcome.DELIVERED, None, None, "logged")
        for event in batch.events:
            self._log.info(
                "alert_notification",
                receiver=self.name,
                kind=event.kind,
                alertname=event.rule,
                service=event.labels.get("service"),
                severity=event.severity,
                fingerprint=event.fingerprint,
                summary=event.annotations.get("summary", ""),
            )
        return DeliveryResult(Outcome.DELIVERED, None, None, "logged")
