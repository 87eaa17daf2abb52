"""The `flapping` rule kind (alerting/kinds/flapping.py) at its edges: one change more than
`changes`, a change exactly `window` old, `quiet` holding the alert, the page's words, and the
exported Prometheus rule."""

from __future__ import annotations

from monitor.alerting.evaluate import evaluate
from monitor.alerting.prometheus_export import alerting_rule
from monitor.alerting.state import AlertEvent, AlertState, RuleInput
from tests.alerting_fixtures import INTERVAL, LETTERS, T0, page, rules, service

RULE = "external_url: https://monitor.example\nrules:\n  - {name: Flaps, kind: flapping%s}\n"


def _evaluate(timeline: str, fields: str) -> list[tuple[int, AlertEvent]]:
    """One evaluation every 30 s, the service's status by letter (H/U)."""
    config, state, out = rules(RULE % fields), AlertState(), []
    for tick, letter in enumerate(timeline):
        now = T0 + tick * INTERVAL
        view = RuleInput({"svc": service("svc", LETTERS[letter], now)}, T0, now)
        state, events = evaluate(config, state, view, now)
        out += [(tick, e) for e in events]
    return out


def _run(timeline: str, fields: str) -> list[tuple[int, str]]:
    return [(tick, e.kind) for tick, e in _evaluate(timeline, fields)]


def test_one_change_more_than_changes_fires() -> None:
    # changes at ticks 1, 2, 3: the third is one more than `changes: 2`
    assert _run("HUHU", ", changes: 2, window: 5m") == [(3, "firing")]
    assert _run("HUHH", ", changes: 2, window: 5m") == []


def test_a_change_exactly_window_old_still_counts() -> None:
    # at tick 3 (90 s) the change at tick 1 (30 s) is exactly 60 s old
    assert _run("HUHU", ", changes: 2, window: 1m") == [(3, "firing")]


def test_a_change_one_tick_older_than_the_window_does_not_count() -> None:
    # at tick 4 (120 s) the changes at 30 s and 60 s are out of a 50 s window: only 90 and 120
    assert _run("HUHHU", ", changes: 2, window: 50s") == []


def test_quiet_holds_the_alert_until_no_change_for_that_long() -> None:
    # fires at tick 3 (changes at 30, 60, 90 s); the last change is 30 s old at tick 4
    assert _run("HUHUUUU", ", changes: 2, window: 1m, quiet: 30s") == [
        (3, "firing"),
        (5, "resolved"),
    ]


def test_quiet_defaults_to_the_window() -> None:
    assert _run("HUHUUUU", ", changes: 2, window: 1m") == [(3, "firing"), (6, "resolved")]


def test_the_page_counts_the_changes_and_links_the_service() -> None:
    ((tick, fired),) = _evaluate("HUHU", ", changes: 2, window: 2m")
    assert tick == 3
    assert page(fired) == {
        "kind": "firing",
        "labels": {"alertname": "Flaps", "severity": "warning", "service": "svc"},
        "summary": "svc is flapping",
        "description": "3 status changes in 2m; its status alerts are held back while it flaps. "
        "Last: unhealthy (server_error): svc said unhealthy",
        "link": "https://monitor.example/status?service=svc",
    }


def test_the_exported_rule_counts_changes_and_keeps_firing_for_quiet() -> None:
    config = rules(RULE % ", changes: 2, window: 5m" + "  - {name: Q, kind: flapping, quiet: 2m}\n")
    flaps, quiet = (alerting_rule(r, config.config, 30.0) for r in config.config.rules)
    assert flaps["expr"] == (
        "max by (service) (changes(monitor_check_status_since_timestamp_seconds"
        '{kind="health"}[5m])) > 2'
    )
    assert flaps["keep_firing_for"] == "5m"
    assert quiet["keep_firing_for"] == "2m"
    assert quiet["expr"].endswith("[10m])) > 4")
    assert flaps["annotations"]["description"].startswith(
        '{{ printf "%.0f" $value }} status changes in 5m; its status alerts are held back'
    )
