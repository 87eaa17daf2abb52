"""`burn_rate`: error-budget burn over a long and a short window (SRE workbook, multiwindow).

The budget and burn arithmetic is `monitor.slo`'s; this module decides which checks are bad
(failed, or slower than their target) and reads their counts from the alert state's buckets.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
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
from monitor.alerting.kinds._promql import CHECK, bad, check_kinds, selector
from monitor.alerting.state import CheckHistory
from monitor.config import Duration
from monitor.durations import format_duration
from monitor.model import CheckKind
from monitor.slo import BURN_RATE_RULE_OBJECTIVE, burn_rate, burning, error_budget


class BurnRateRule(RuleModel):
    """Error-budget burn over a long and a short window (SRE workbook, multiwindow).

    A check result is bad when the check failed or took longer than its target. Fires when the
    bad ratio divided by the budget (1 - objective) is at least `burn_rate` in both windows.
    """

    kind: Literal["burn_rate"]
    checks: list[TimedKind] = Field(default_factory=lambda: [CheckKind.RPC, CheckKind.HTTP])
    objective: float = Field(default=BURN_RATE_RULE_OBJECTIVE, gt=0, lt=1)
    long: Duration = Field(default=3600.0, gt=0)
    short: Duration = Field(default=300.0, gt=0)
    burn_rate: float = Field(default=14.4, gt=0)
    min_samples: int = Field(default=10, ge=1)
    for_: ThresholdField = Field(default=Threshold(checks=1), alias="for")
    resolve_after: ThresholdField = Threshold(checks=1)
    inhibit_by_dependencies: bool = True


def _bad_ratio(bad_count: int, total: int) -> float:
    """An empty window has no bad results: it burns at 0, and so never pages."""
    return bad_count / total if total else 0.0


def _ratios(
    ch: CheckHistory, now: datetime, long: float, short: float, size: float
) -> tuple[int, float, float]:
    """Samples in the long window, and the bad ratio over the long and the short one, in one
    pass."""
    oldest_long = int((now.timestamp() - long) // size)
    oldest_short = int((now.timestamp() - short) // size)
    n_long = bad_long = n_short = bad_short = 0
    for i, (total, bad_count) in ch.buckets.items():
        if i >= oldest_long:
            n_long += total
            bad_long += bad_count
            if i >= oldest_short:
                n_short += total
                bad_short += bad_count
    return n_long, _bad_ratio(bad_long, n_long), _bad_ratio(bad_short, n_short)


class BurnRateKind(ServicePageKind[BurnRateRule]):
    model = BurnRateRule
    summary = "{service} {check} burns its error budget {value}x too fast"
    description = (
        "Checks of {service}/{check} failed or missed the {target_ms} ms target "
        "{value}x the budgeted rate over {window} (threshold {threshold}x)."
    )

    def problems(self, rule: BurnRateRule) -> list[tuple[str, str]]:
        if rule.short >= rule.long:
            return [("short", "the short window must be shorter than the long one")]
        return []

    def burn_windows(self, rule: BurnRateRule) -> tuple[float, float]:
        return rule.long, rule.short

    def service_signals(self, rule: BurnRateRule, at: Subject) -> Iterator[Signal]:
        name = at.service.name
        # evaluate's first step gives every check in the view a history, before any kind reads it
        histories = at.ctx.state.services[name].checks
        for c, labels, v, seen in each_check(rule, rule.checks, at):
            n_long, bad_long, bad_short = _ratios(
                histories[c.name], at.ctx.now, rule.long, rule.short, at.ctx.bucket_seconds
            )
            long_rate = burn_rate(bad_long, rule.objective)
            short_rate = burn_rate(bad_short, rule.objective)
            active = n_long >= rule.min_samples and burning(long_rate, short_rate, rule.burn_rate)
            v.update(
                value=f"{min(long_rate, short_rate):.1f}",
                threshold=f"{rule.burn_rate:g}",
                window=f"{format_duration(rule.long)} and {format_duration(rule.short)}",
            )
            yield Signal(labels, active, seen, v, name)

    def expr(self, rule: BurnRateRule) -> str:
        sel = selector(rule, check_kinds(rule.checks))
        budget = f"{error_budget(rule.objective):.6g}"
        long, short = format_duration(rule.long), format_duration(rule.short)
        return (
            f"max by (service, check) (\n"
            f"  {bad(long)}{sel} / {budget} >= {rule.burn_rate:g}\n"
            f"  and on ({CHECK}) {bad(short)} / {budget} >= {rule.burn_rate:g}\n"
            f"  and on ({CHECK}) sum by ({CHECK}) (increase(monitor_checks_total[{long}]))"
            f" >= {rule.min_samples}\n)"
        )

    def export_fields(self, rule: BurnRateRule, fields: dict[str, str]) -> None:
        fields["value"] = '{{ printf "%.1f" $value }}'
        fields["threshold"] = f"{rule.burn_rate:g}"
        fields["window"] = f"{format_duration(rule.long)} and {format_duration(rule.short)}"


KIND = BurnRateKind()
