"""`checks_stalled`: no check has completed for `after`: the scheduler or the loop is stuck."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from monitor.alerting.kinds._base import Context, RuleModel
from monitor.alerting.kinds._lag import OverLimitKind
from monitor.config import Duration


class ChecksStalledRule(RuleModel):
    """No check has completed for `after`: the scheduler or the loop is stuck."""

    kind: Literal["checks_stalled"]
    after: Duration = Field(default=120.0, gt=0)


class ChecksStalledKind(OverLimitKind[ChecksStalledRule]):
    model = ChecksStalledRule
    summary = "No check has completed for {value}"
    description = "The monitor's scheduler or event loop is stuck; the fleet is unwatched."

    def measure(self, rule: ChecksStalledRule, ctx: Context) -> float:
        last = ctx.view.last_check_at or ctx.view.started_at
        return (ctx.now - last).total_seconds()

    def limit(self, rule: ChecksStalledRule) -> float:
        return rule.after

    def expr(self, rule: ChecksStalledRule) -> str:
        return f"time() - max(monitor_last_check_timestamp_seconds) > {rule.after:g}"


KIND = ChecksStalledKind()
