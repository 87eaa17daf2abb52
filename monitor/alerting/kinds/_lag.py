"""What the kinds that fire on a duration over a limit share (loop_lag, schedule_lag,
checks_stalled): the signal, labelled service="monitor", and its exported fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from pydantic import Field

from monitor.alerting.kinds._base import (
    Context,
    HeldKind,
    RuleKind,
    RuleModel,
    Signal,
    base_labels,
)
from monitor.alerting.state import RuleInput
from monitor.config import Duration
from monitor.durations import format_duration

M = TypeVar("M", bound=RuleModel)


class OverLimitKind(RuleKind[M]):
    """A monitor kind that fires while `measure` exceeds `limit`; no measure means no data."""

    about_monitor = True

    def measure(self, rule: M, ctx: Context) -> float | None:
        raise NotImplementedError

    def limit(self, rule: M) -> float:
        raise NotImplementedError

    def signals(self, rule: M, ctx: Context) -> Iterator[Signal]:
        value, limit = self.measure(rule, ctx), self.limit(rule)
        yield Signal(
            base_labels(rule, None),
            None if value is None else value > limit,
            True,
            {"value": format_duration(value or 0.0), "threshold": format_duration(limit)},
        )

    def export_fields(self, rule: M, fields: dict[str, str]) -> None:
        fields["value"] = "{{ $value | humanizeDuration }}"
        fields["threshold"] = format_duration(self.limit(rule))


class LagRule(RuleModel):
    """A rule that fires while a lag exceeds `threshold`; each kind sets its default."""

    threshold: Duration = Field(gt=0)


L = TypeVar("L", bound=LagRule)


class LagKind(HeldKind[L], OverLimitKind[L]):
    """A held kind that fires while `lag(view)` exceeds the rule's `threshold`."""

    def lag(self, view: RuleInput) -> float | None:
        raise NotImplementedError

    def measure(self, rule: L, ctx: Context) -> float | None:
        return self.lag(ctx.view)

    def limit(self, rule: L) -> float:
        return rule.threshold
