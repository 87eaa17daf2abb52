"""The per-check walk of the check-level kinds (alerting/kinds/_checks.py): a push check
cannot be selected (it has no latency), and a check of another kind listed first does not
hide the selected ones after it."""

from __future__ import annotations

import pytest

from monitor.alerting.evaluate import evaluate
from monitor.alerting.state import AlertState, CheckInput, RuleInput
from monitor.errors import ConfigError
from monitor.model import CheckKind, Status
from tests.alerting_fixtures import T0, rules, service


@pytest.mark.parametrize("kind", ["latency", "burn_rate"])
def test_a_push_check_selected_for_latency_is_refused_with_why(kind: str) -> None:
    with pytest.raises(ConfigError) as refused:
        rules(f"rules:\n  - {{name: S, kind: {kind}, checks: [rpc, push]}}\n")
    assert str(refused.value).startswith("alerts.yaml:")
    assert str(refused.value).endswith(
        ": rules[0].checks[1]: push checks have no latency to judge; a missed heartbeat is a "
        "status rule's"
    )


def test_a_check_of_another_kind_first_does_not_hide_the_selected_one_after_it() -> None:
    config = rules("rules:\n  - {name: Slow, kind: latency, for: 1}\n")
    health = CheckInput("health", CheckKind.HEALTH, Status.HEALTHY, T0, p95_s=1.0, target_s=0.2)
    rpc = CheckInput("db-read", CheckKind.RPC, Status.HEALTHY, T0, p95_s=0.006, target_s=0.005)
    view = RuleInput({"svc": service("svc", Status.HEALTHY, T0, checks=[health, rpc])}, T0, T0)
    events = evaluate(config, AlertState(), view, T0)[1]
    assert [(e.kind, e.labels["check"]) for e in events] == [("firing", "db-read")]
