"""Rule kinds exported as Prometheus rules (`monitor rules export`): golden expressions and
descriptions, so a kind's PromQL cannot drift from what it decides in the daemon; and the
watchdog's record as the alerts API lists it."""

from __future__ import annotations

from datetime import timedelta

from monitor.alerting.evaluate import evaluate
from monitor.alerting.prometheus_export import alerting_rule
from monitor.alerting.state import AlertState, RuleInput
from tests.alerting_fixtures import T0, rules

STATUS_RULES = """rules:
  - {name: Down, kind: status, status: [unhealthy, degraded], match: {services: [a, b]}}
  - {name: Bad, kind: status, status: [unhealthy]}
"""


def test_a_status_rule_selects_its_statuses_and_services() -> None:
    config = rules(STATUS_RULES, services=["a", "b"]).config
    down, bad = (alerting_rule(r, config, 30.0) for r in config.rules)
    assert down["expr"] == (
        'max by (service) (monitor_service_status{status=~"unhealthy|degraded", service=~"a|b"})'
        " == 1"
    )
    assert bad["expr"] == 'max by (service) (monitor_service_status{status=~"unhealthy"}) == 1'


def test_one_status_is_written_out_and_several_are_queried() -> None:
    config = rules(STATUS_RULES, services=["a", "b"]).config
    down, bad = (alerting_rule(r, config, 30.0)["annotations"]["description"] for r in config.rules)
    assert bad.startswith("{{ $labels.service }} has been unhealthy since ")
    assert down.startswith(
        "{{ $labels.service }} has been {{ range printf `max by (status) (monitor_service_status"
    )


def test_the_watchdog_exports_as_always_true() -> None:
    config = rules("rules:\n  - {name: Watchdog, kind: watchdog}\n").config
    assert alerting_rule(config.rules[0], config, 30.0)["expr"] == "vector(1)"


def test_the_watchdog_is_active_through_every_evaluation() -> None:
    # as GET /api/alerts lists it: the watchdog watches the monitor itself, which every
    # evaluation observes anew, so each one counts (a status rule counts only new checks)
    config, state = rules("rules:\n  - {name: Watchdog, kind: watchdog}\n").config, AlertState()
    for minute in range(3):
        now = T0 + timedelta(minutes=minute)
        state, _ = evaluate(config, state, RuleInput({}, T0, now), now)
    (record,) = state.alerts.values()
    listed = record.model_dump(mode="json")
    assert (listed["phase"], listed["firing_since"], listed["active_count"]) == (
        "firing",
        "2026-03-01T12:00:00Z",
        3,
    )
