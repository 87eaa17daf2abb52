"""Rule kinds: one module per `kind:` of alerts.yaml, each holding the kind's model, its
evaluation, its Prometheus export and its default annotations, and one registry.

`RULE_KINDS` is the only list of kinds: `rules.py` builds its discriminated union from it (in
this order, which pydantic's "expected one of" message follows), and `evaluate.py`,
`prometheus_export.py` and the annotations dispatch through it. To add a kind, add a module
with a `KIND` and one entry here; tests/test_rule_kinds.py checks nothing was left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from monitor.alerting.kinds import (
    burn_rate,
    checks_stalled,
    flapping,
    latency,
    loop_lag,
    schedule_lag,
    status,
    watchdog,
)
from monitor.alerting.kinds._base import (
    ALERT_NAME,
    AT_ONCE,
    Context,
    Match,
    RuleKind,
    RuleModel,
    Severity,
    Signal,
    Strict,
    Threshold,
    duration,
)
from monitor.alerting.kinds._promql import CHECK, P95, UnsupportedRule, recording_rules

RULE_KINDS: Final[Mapping[str, RuleKind[Any]]] = MappingProxyType(
    {
        "status": status.KIND,
        "latency": latency.KIND,
        "burn_rate": burn_rate.KIND,
        "flapping": flapping.KIND,
        "watchdog": watchdog.KIND,
        "checks_stalled": checks_stalled.KIND,
        "loop_lag": loop_lag.KIND,
        "schedule_lag": schedule_lag.KIND,
    }
)


def kind_of(rule: RuleModel) -> RuleKind[Any]:
    """The kind of a validated rule (config validation admits only registered kinds)."""
    return RULE_KINDS[rule.kind]


__all__ = [
    "ALERT_NAME",
    "AT_ONCE",
    "CHECK",
    "P95",
    "RULE_KINDS",
    "Context",
    "Match",
    "RuleKind",
    "RuleModel",
    "Severity",
    "Signal",
    "Strict",
    "Threshold",
    "UnsupportedRule",
    "duration",
    "kind_of",
    "recording_rules",
]
