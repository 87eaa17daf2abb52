"""What the two lag kinds (loop_lag, schedule_lag) share: a measured lag over `threshold`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, TypeVar, cast

from monitor.alerting.kinds._base import (
    Context,
    HeldKind,
    RuleModel,
    Signal,
    base_labels,
)
from monitor.alerting.state import RuleInput
from monitor.durations import format_duration


class _LagRule(Protocol):
    threshold: float


L = TypeVar("L", bound=RuleModel)


class LagKind(HeldKind[L]):
    """A monitor kind that fires while `lag(view)` exceeds the rule's `threshold`."""

    about_monitor = True

    def lag(self, view: RuleInput) -> float | None:
        raise NotImplementedError

    def _rule(self, rule: L) -> _LagRule:
        return cast("_LagRule", rule)  # every lag kind's model has these fields

    def signals(self, rule: L, ctx: Context) -> Iterator[Signal]:
        lag, threshold = self.lag(ctx.view), self._rule(rule).threshold
        yield Signal(
            base_labels(rule, None),
            None if lag is None else lag > threshold,
            True,
            {"value": format_duration(lag or 0.0), "threshold": format_duration(threshold)},
        )

    def export_fields(self, rule: L, fields: dict[str, str]) -> None:
        fields["value"] = "{{ $value | humanizeDuration }}"
        fields["threshold"] = format_duration(self._rule(rule).threshold)
