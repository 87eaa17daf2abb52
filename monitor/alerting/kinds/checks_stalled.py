"""`checks_stalled`: no check has completed for `after`: the scheduler or the loop is stuck."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar, Literal

from pydantic import Field

from monitor.alerting.kinds._base import Context, RuleKind, RuleModel, Signal, base_labels
from monitor.config import Duration
from monitor.durations import format_duration


class ChecksStalledRule(RuleModel):
    """No check has completed for `after`: the scheduler or the loop is stuck."""

    kind: Literal["checks_stalled"]
    after: Duration = Field(default=120.0, gt=0)


class ChecksStalledKind(RuleKind[ChecksStalledRule]):
    model = ChecksStalledRule
    annotations: ClassVar[Mapping[str, str]] = {
        "summary": "No check has completed for {value}",
        "description": "The monitor's scheduler or event loop is stuck; the fleet is unwatched.",
    }
    about_monitor = True

    def signals(self, rule: ChecksStalledRule, ctx: Context) -> Iterator[Signal]:
        last = ctx.view.last_check_at or ctx.view.started_at
        idle = (ctx.now - last).total_seconds()
        yield Signal(
            base_labels(rule, None),
            idle > rule.after,
            True,
            {"value": format_duration(idle), "threshold": format_duration(rule.after)},
        )

    def expr(self, rule: ChecksStalledRule) -> str:
        return f"time() - max(monitor_check_last_run_timestamp_seconds) > {rule.after:g}"

    def export_fields(self, rule: ChecksStalledRule, fields: dict[str, str]) -> None:
        fields["value"] = "{{ $value | humanizeDuration }}"
        fields["threshold"] = format_duration(rule.after)


KIND = ChecksStalledKind()
