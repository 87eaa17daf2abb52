"""What every rule kind shares (alerting/kinds/_base.py) at its edges: `for` and
`resolve_after` as written (refusals with their words, N checks exported as N - 1 intervals),
`match` by service and label, the labels and template values a page carries, and which kinds
a failing dependency holds back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from monitor.alerting.evaluate import evaluate
from monitor.alerting.prometheus_export import alerting_rule
from monitor.alerting.state import AlertEvent, AlertState, RuleInput, ServiceInput
from monitor.errors import ConfigError
from tests.alerting_fixtures import INTERVAL, T0, D, H, U, rules, service


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("true", "expected a number of checks (3) or a duration (1m), not a boolean"),
        ("0", "a number of checks must be at least 1"),
        ("'3'", "expected a number of checks (3) or a duration with a unit (1m), got '3'"),
        ("1.5", "expected a number of checks (3) or a duration with a unit (1m), got 1.5"),
    ],
)
def test_a_for_that_is_neither_checks_nor_a_duration_is_refused(written: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        rules(f"rules:\n  - {{name: Down, kind: status, for: {written}}}\n")
    assert f"rules[0].for: {message}" in str(refused.value)


@pytest.mark.parametrize(
    ("fields", "timing"),
    [
        ("for: 1, resolve_after: 1", {}),  # one check: at once, nothing to export
        ("for: 2, resolve_after: 4", {"for": "30s", "keep_firing_for": "90s"}),
        ("for: 90s, resolve_after: 1", {"for": "90s"}),
        ("for: 1, resolve_after: 2m", {"keep_firing_for": "2m"}),
        ("for: 500ms, resolve_after: 1", {"for": "500ms"}),  # under a second stays so
    ],
)
def test_checks_export_as_one_interval_fewer_and_zero_is_left_out(
    fields: str, timing: dict[str, str]
) -> None:
    config = rules(f"rules:\n  - {{name: Down, kind: status, {fields}}}\n").config
    exported = alerting_rule(config.rules[0], config, 30.0)
    assert {k: exported[k] for k in ("for", "keep_firing_for") if k in exported} == timing


def test_for_three_checks_fires_on_the_third() -> None:
    config, state, fired = (
        rules("rules:\n  - {name: Down, kind: status, for: 3}\n"),
        AlertState(),
        [],
    )
    for tick in range(4):
        now = T0 + tick * INTERVAL
        view = RuleInput({"svc": service("svc", U, now, since=T0)}, T0, now)
        state, events = evaluate(config, state, view, now)
        fired += [tick for e in events if e.kind == "firing"]
    assert fired == [2]


def _fire(
    text: str, services: list[ServiceInput], now: timedelta = timedelta(0)
) -> list[AlertEvent]:
    at = T0 + now
    view = RuleInput({s.name: s for s in services}, T0, at)
    return evaluate(rules(text), AlertState(), view, at)[1]


def test_match_by_service_and_by_label() -> None:
    text = """rules:
  - {name: ByName, kind: status, for: 1, match: {services: [a]}}
  - {name: ByLabel, kind: status, for: 1, match: {labels: {tier: db}}}
"""
    down = [
        service("a", U, T0),
        service("b", U, T0, labels={"tier": "db"}),
        service("c", U, T0, labels={"tier": "web"}),
    ]
    assert sorted((e.rule, e.labels["service"]) for e in _fire(text, down)) == [
        ("ByLabel", "b"),
        ("ByName", "a"),
    ]


def test_a_page_carries_the_service_labels_team_and_the_rule_labels() -> None:
    svc = replace(service("svc", U, T0, labels={"tier": "db"}), team="storage")
    text = (
        "rules:\n  - {name: Down, kind: status, severity: critical, for: 1,"
        " labels: {page: 'yes'}}\n"
    )
    (fired,) = _fire(text, [svc])
    assert fired.labels == {
        "tier": "db",
        "team": "storage",
        "service": "svc",
        "page": "yes",
        "alertname": "Down",
        "severity": "critical",
    }


def test_templates_read_the_service_values() -> None:
    svc = replace(service("svc", D, T0, since=T0 - timedelta(minutes=7)), team="storage")
    text = (
        "rules:\n  - {name: Down, kind: status, status: [degraded], for: 1, annotations: "
        "{description: '{service} {status} {reason} since {since} team {team} {runbook}'}}\n"
    )
    (fired,) = _fire(text, [svc])
    assert fired.annotations["description"] == (
        "svc degraded server_error since 11:53 team storage https://runbooks.example/svc"
    )


def test_an_unknown_since_is_left_empty_in_a_template() -> None:
    text = (
        "rules:\n  - {name: Down, kind: status, for: 1,"
        " annotations: {description: 'since [{since}]'}}\n"
    )
    (fired,) = _fire(text, [service("svc", U, T0)])
    assert fired.annotations["description"] == "since []"


DEPENDS = """rules:
  - {name: Down, kind: status, for: 1, resolve_after: 1}
  - {name: DownAnyway, kind: status, for: 1, resolve_after: 1, inhibit_by_dependencies: false}
  - {name: Flaps, kind: flapping, changes: 1, window: 5m}
"""


def test_a_failing_dependency_holds_back_service_pages_but_not_other_kinds() -> None:
    config, state, out = rules(DEPENDS), AlertState(), []
    for tick, status in enumerate([U, H, U]):
        now = T0 + tick * INTERVAL
        view = RuleInput(
            {
                "db": service("db", U, now, since=T0),
                "api": service("api", status, now, depends_on=["db"]),
            },
            T0,
            now,
        )
        state, events = evaluate(config, state, view, now)
        out += [(tick, e.kind, e.rule, e.labels["service"]) for e in events]
    assert out == [
        (0, "firing", "Down", "db"),
        (0, "firing", "DownAnyway", "db"),
        (0, "firing", "DownAnyway", "api"),
        (1, "resolved", "DownAnyway", "api"),
        (2, "firing", "Flaps", "api"),  # and DownAnyway waits while api flaps
    ]
