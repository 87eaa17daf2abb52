"""`latency`: a check's rolling p95 is over `factor` x its target for `for`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from monitor.alerting.kinds._base import (
    RuleModel,
    ServicePageKind,
    Signal,
    Subject,
    Threshold,
    ThresholdField,
)
from monitor.alerting.kinds._checks import TimedKind, each_check
from monitor.alerting.kinds._promql import CHECK, P95, check_kinds, selector
from monitor.model import CheckKind


class LatencyRule(RuleModel):
    """A check's rolling p95 is over `factor` x its target for `for`."""

    kind: Literal["latency"]
    checks: list[TimedKind] = Field(default_factory=lambda: [CheckKind.RPC, CheckKind.HTTP])
    factor: float = Field(default=1.0, gt=0)
    for_: ThresholdField = Field(default=Threshold(seconds=300.0), alias="for")
    resolve_after: ThresholdField = Threshold(seconds=300.0)
    inhibit_by_dependencies: bool = True


class LatencyKind(ServicePageKind[LatencyRule]):
    model = LatencyRule
    summary = "{service} {check} p95 {p95_ms} ms is over its {target_ms} ms target"
    description = (
        "The rolling p95 of {service}/{check} ({kind}) is {p95_ms} ms; "
        "the target is {target_ms} ms."
    )

    def service_signals(self, rule: LatencyRule, at: Subject) -> Iterator[Signal]:
        for c, labels, v, seen in each_check(rule, rule.checks, at):
            active = (
                None
                if c.p95_s is None or c.target_s is None
                else c.p95_s > c.target_s * rule.factor
            )
            yield Signal(labels, active, seen, v, at.service.name)

    def expr(self, rule: LatencyRule) -> str:
        sel = selector(rule, check_kinds(rule.checks))
        factor = "" if rule.factor == 1 else f"{rule.factor:g} * "
        return (
            f"1000 * max by (service, check) ({P95}{sel}\n"
            f"  > on ({CHECK}) group_left () {factor}max by ({CHECK}) "
            f"(monitor_check_latency_target_seconds))"
        )

    def export_fields(self, rule: LatencyRule, fields: dict[str, str]) -> None:
        fields["p95_ms"] = '{{ printf "%.1f" $value }}'  # the expression is in milliseconds


KIND = LatencyKind()
