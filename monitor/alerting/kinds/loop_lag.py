"""`loop_lag`: the event loop lags more than `threshold` for `for`: latencies are distorted."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from monitor.alerting.kinds._base import Threshold, ThresholdField
from monitor.alerting.kinds._lag import LagKind, LagRule
from monitor.alerting.state import RuleInput
from monitor.config import Duration


class LoopLagRule(LagRule):
    """The event loop lags more than `threshold` for `for`: latencies are being distorted."""

    kind: Literal["loop_lag"]
    threshold: Duration = Field(default=0.1, gt=0)
    for_: ThresholdField = Field(default=Threshold(seconds=60.0), alias="for")
    resolve_after: ThresholdField = Threshold(seconds=60.0)


class LoopLagKind(LagKind[LoopLagRule]):
    model = LoopLagRule
    summary = "Monitor event loop lags {value}"
    description = "Loop lag over {threshold} distorts every latency measurement."

    def lag(self, view: RuleInput) -> float | None:
        return view.loop_lag_s

    def expr(self, rule: LoopLagRule) -> str:
        return f"max(monitor_event_loop_lag_seconds) > {rule.threshold:g}"


KIND = LoopLagKind()
