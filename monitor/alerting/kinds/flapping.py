"""`flapping`: more than `changes` status changes within `window` is one alert of its own.

While it fires, the service's status rules are held back (they stay pending). It resolves
after `quiet` (default: `window`) without a change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Literal

from pydantic import Field

from monitor.alerting.kinds._base import RuleKind, RuleModel, Signal, Subject, base_labels
from monitor.alerting.kinds._promql import selector
from monitor.alerting.state import Phase, ServiceHistory, alert_key
from monitor.config import Duration
from monitor.durations import format_duration


class FlappingRule(RuleModel):
    """More than `changes` status changes within `window` is one alert of its own.

    While it holds, the service's status rules are held back (they stay pending). It resolves
    after `quiet` (default: `window`) without a change.
    """

    kind: Literal["flapping"]
    changes: int = Field(default=4, ge=1)
    window: Duration = Field(default=600.0, gt=0)
    quiet: Duration | None = None


def _flap_count(hist: ServiceHistory | None, window: float, now: datetime) -> int:
    if hist is None:
        return 0
    return sum(1 for t in hist.changes if (now - t).total_seconds() <= window)


class FlappingKind(RuleKind[FlappingRule]):
    model = FlappingRule
    summary = "{service} is flapping"
    description = (
        "{value} status changes in {window}; its status alerts are held back "
        "while it flaps. Last: {status} ({reason}): {detail}"
    )
    marks_flapping = True

    def change_window(self, rule: FlappingRule) -> float:
        return rule.window

    def service_signals(self, rule: FlappingRule, at: Subject) -> Iterator[Signal]:
        now, labels = at.ctx.now, base_labels(rule, at.service)
        count = _flap_count(at.history, rule.window, now)
        quiet = _flap_count(at.history, rule.quiet or rule.window, now)
        record = at.ctx.state.alerts.get(alert_key(rule.name, labels))
        firing = record is not None and record.phase is not Phase.RESOLVED
        active = count > rule.changes or (firing and quiet > 0)
        yield Signal(
            labels,
            active,
            at.observed,
            {**at.values, "value": count, "window": format_duration(rule.window)},
            at.service.name,
        )

    def expr(self, rule: FlappingRule) -> str:
        sel = selector(rule, 'kind="health"')
        return (
            f"max by (service) (changes(monitor_check_status_since_timestamp_seconds{sel}"
            f"[{format_duration(rule.window)}])) > {rule.changes}"
        )

    def export_fields(self, rule: FlappingRule, fields: dict[str, str]) -> None:
        fields["value"] = '{{ printf "%.0f" $value }}'
        fields["window"] = format_duration(rule.window)

    def export_timing(self, rule: FlappingRule, interval: float) -> dict[str, str]:
        return {"keep_firing_for": format_duration(rule.quiet or rule.window)}


KIND = FlappingKind()
