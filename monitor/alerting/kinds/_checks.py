"""The per-check walk that the check-level kinds (latency, burn_rate) share."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Annotated

from pydantic import AfterValidator

from monitor.alerting.kinds._base import RuleModel, Subject, base_labels, ms
from monitor.alerting.state import CheckInput
from monitor.model import CheckKind


def _timed(kind: CheckKind) -> CheckKind:
    if kind is CheckKind.PUSH:
        raise ValueError(
            "push checks have no latency to judge; a missed heartbeat is a status rule's"
        )
    return kind


TimedKind = Annotated[CheckKind, AfterValidator(_timed)]
"""A check kind with a measured latency: what latency and burn-rate rules may select."""


def each_check(
    rule: RuleModel, kinds: Collection[CheckKind], at: Subject
) -> Iterator[tuple[CheckInput, dict[str, str], dict[str, object], bool]]:
    """(check, labels, template values, observed) for each of the service's checks of `kinds`."""
    s = at.service
    for c in s.checks:
        if c.kind not in kinds:
            continue
        labels = {**base_labels(rule, s), "check": c.name}
        v = {
            **at.values,
            "check": c.name,
            "kind": c.kind.value,
            "p95_ms": ms(c.p95_s),
            "target_ms": ms(c.target_s),
        }
        yield c, labels, v, (s.name, c.name) in at.ctx.seen_checks
