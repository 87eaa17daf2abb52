"""`watchdog`: always firing, re-sent every `repeat_interval`: a receiver outside expects it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from monitor.alerting.kinds._base import (
    Context,
    RuleKind,
    RuleModel,
    Severity,
    Signal,
    base_labels,
)
from monitor.config import Duration


class WatchdogRule(RuleModel):
    """Always firing, re-sent every `repeat_interval`: a receiver outside expects it."""

    kind: Literal["watchdog"]
    severity: Severity = "info"
    repeat_interval: Duration = Field(default=60.0, gt=0)
    send_resolved: bool = False


class WatchdogKind(RuleKind[WatchdogRule]):
    model = WatchdogRule
    summary = "Watchdog: the fleet monitor is alive"
    description = "Always firing. If this stops arriving, the monitor itself is down."
    about_monitor = True

    def signals(self, rule: WatchdogRule, ctx: Context) -> Iterator[Signal]:
        yield Signal(base_labels(rule, None), True, True)

    def expr(self, rule: WatchdogRule) -> str:
        return "vector(1)"


KIND = WatchdogKind()
