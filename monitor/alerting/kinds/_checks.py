"""What the check-level kinds (latency, burn_rate) share: the `checks` field of their model and
the walk over a service's checks of those kinds."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from monitor.alerting.kinds._base import ServicePageRule, Subject, base_labels, ms
from monitor.alerting.state import CheckInput
from monitor.model import CheckKind


class CheckRule(ServicePageRule):
    """A page about one check of a service; `checks` names the check kinds it watches."""

    checks: list[CheckKind] = Field(default_factory=lambda: [CheckKind.RPC, CheckKind.HTTP])


def each_check(
    rule: CheckRule, at: Subject
) -> Iterator[tuple[CheckInput, dict[str, str], dict[str, object], bool]]:
    """(check, labels, template values, observed) for each of the service's checks of
    `rule.checks`."""
    s = at.service
    for c in s.checks:
        if c.kind not in rule.checks:
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
