"""`schedule_lag`: checks start more than `threshold` late (p99 over the last minute) for
`for`: the monitor cannot keep up and runs every check less often than configured."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from monitor.alerting.kinds._base import Threshold, ThresholdField
from monitor.alerting.kinds._lag import LagKind, LagRule
from monitor.alerting.state import RuleInput
from monitor.config import Duration


class ScheduleLagRule(LagRule):
    """Checks start more than `threshold` late (p99 over the last minute) for `for`: the
    monitor cannot keep up and runs every check less often than configured."""

    kind: Literal["schedule_lag"]
    threshold: Duration = Field(default=1.0, gt=0)
    for_: ThresholdField = Field(default=Threshold(seconds=300.0), alias="for")
    resolve_after: ThresholdField = Threshold(seconds=300.0)


class ScheduleLagKind(LagKind[ScheduleLagRule]):
    model = ScheduleLagRule
    summary = "Monitor checks start {value} late"
    description = (
        "Checks start over {threshold} behind schedule (p99 over a minute): the "
        "monitor is short of CPU and runs every check less often than configured."
    )

    def lag(self, view: RuleInput) -> float | None:
        return view.schedule_lag_s

    def expr(self, rule: ScheduleLagRule) -> str:
        return (
            "max(histogram_quantile(0.99, sum by (instance, le) "
            f"(rate(monitor_schedule_lag_seconds_bucket[1m])))) > {rule.threshold:g}"
        )


KIND = ScheduleLagKind()
