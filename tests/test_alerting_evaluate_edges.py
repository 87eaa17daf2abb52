"""Alert evaluation (alerting/evaluate.py) at its edges: what counts as a new observation, a
check exactly at its target, resolve counts that wait for new checks, several services and
rules in one evaluation, and what the events carry (end time, link, annotation values)."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.alerting.evaluate import evaluate
from monitor.alerting.state import AlertEvent, AlertState, CheckInput, RuleInput, ServiceInput
from monitor.model import CheckKind, Status
from tests.alerting_fixtures import INTERVAL, T0, H, U, rules, service

DOWN = "rules:\n  - {name: Down, kind: status, for: %s, resolve_after: %s}\n"


def _steps(
    text: str, steps: list[list[ServiceInput]], state: AlertState | None = None
) -> list[tuple[int, str, str, str]]:
    """Evaluate each list of services 30 s after the previous one."""
    config, state = rules(text), state or AlertState()
    out: list[tuple[int, str, str, str]] = []
    for tick, services in enumerate(steps):
        now = T0 + tick * INTERVAL
        view = RuleInput({s.name: s for s in services}, T0, now)
        state, events = evaluate(config, state, view, now)
        out += [(tick, e.kind, e.rule, e.labels.get("service", "")) for e in events]
    return out


def _at(tick: int) -> datetime:
    return T0 + tick * INTERVAL


def test_an_evaluation_without_a_new_check_does_not_count_towards_for() -> None:
    # the same result (checked at tick 0) evaluated three times: `for: 2` is never met
    same = service("svc", U, _at(0))
    assert _steps(DOWN % (2, 1), [[same], [same], [same]]) == []
    assert _steps(DOWN % (2, 1), [[same], [service("svc", U, _at(1))]]) == [
        (1, "firing", "Down", "svc")
    ]


def test_a_service_never_checked_is_never_observed() -> None:
    never = service("svc", U, None)
    assert _steps(DOWN % (2, 1), [[never], [never], [never]]) == []


def test_resolve_after_counts_new_checks_not_evaluations() -> None:
    healthy_once = service("svc", H, _at(1))
    steps = [[service("svc", U, _at(0))], [healthy_once], [healthy_once], [healthy_once]]
    assert _steps(DOWN % (1, 2), steps) == [(0, "firing", "Down", "svc")]
    steps = [[service("svc", U, _at(0))], [healthy_once], [service("svc", H, _at(2))]]
    assert _steps(DOWN % (1, 2), steps) == [
        (0, "firing", "Down", "svc"),
        (2, "resolved", "Down", "svc"),
    ]


def test_a_healthy_service_first_does_not_stop_the_others() -> None:
    steps = [[service("a", H, _at(t)), service("b", U if t < 2 else H, _at(t))] for t in range(3)]
    assert _steps(DOWN % (1, 1), steps) == [
        (0, "firing", "Down", "b"),
        (2, "resolved", "Down", "b"),
    ]


def test_a_pending_or_resolved_service_first_does_not_stop_the_others() -> None:
    text = DOWN % (1, 1) + "  - {name: Slow, kind: status, for: 3}\n"
    steps = [[service("a", U if t == 0 else H, _at(t)), service("b", U, _at(t))] for t in range(3)]
    assert _steps(text, steps) == [
        (0, "firing", "Down", "a"),
        (0, "firing", "Down", "b"),
        (1, "resolved", "Down", "a"),
        (2, "firing", "Slow", "b"),
    ]


def test_a_silenced_service_first_does_not_stop_the_others() -> None:
    text = DOWN % (1, 1) + (
        "silences:\n  - matchers: [{name: service, op: '=', value: a}]\n"
        f"    starts_at: '{T0.isoformat()}'\n"
        f"    ends_at: '{(T0 + timedelta(hours=1)).isoformat()}'\n"
    )
    steps = [[service("a", U, _at(0)), service("b", U, _at(0))]]
    assert _steps(text, steps) == [(0, "firing", "Down", "b")]


def test_a_check_exactly_at_its_target_is_not_bad() -> None:
    text = (
        "rules:\n  - {name: Burn, kind: burn_rate, objective: 0.5, burn_rate: 1, long: 10m,"
        " short: 5m, min_samples: 1}\n"
    )

    def search(tick: int, duration: float) -> list[ServiceInput]:
        c = CheckInput(
            "search", CheckKind.HTTP, Status.HEALTHY, _at(tick), duration_s=duration, target_s=0.050
        )
        return [service("svc", H, _at(tick), checks=[c])]

    assert _steps(text, [search(0, 0.050)]) == []
    assert _steps(text, [search(0, 0.0501)]) == [(0, "firing", "Burn", "svc")]


def test_every_check_of_a_service_is_observed() -> None:
    text = "rules:\n  - {name: Slow, kind: latency, for: 2, resolve_after: 1}\n"

    def checks(tick: int) -> list[ServiceInput]:
        stale = CheckInput(
            "a",
            CheckKind.RPC,
            Status.HEALTHY,
            _at(0),
            duration_s=0.001,
            target_s=0.005,
            p95_s=0.001,
        )
        slow = CheckInput(
            "b",
            CheckKind.RPC,
            Status.HEALTHY,
            _at(tick),
            duration_s=0.009,
            target_s=0.005,
            p95_s=0.009,
        )
        return [service("svc", H, _at(tick), checks=[stale, slow])]

    assert _steps(text, [checks(0), checks(1)]) == [(1, "firing", "Slow", "svc")]


def _events(text: str, steps: list[list[ServiceInput]]) -> list[AlertEvent]:
    config, state, out = rules(text), AlertState(), []
    for tick, services in enumerate(steps):
        now = _at(tick)
        view = RuleInput({s.name: s for s in services}, T0, now, loop_lag_s=0.5 if tick else 0)
        state, events = evaluate(config.config, state, view, now)  # the config alone will do
        out += events
    return out


EVENTS = """external_url: https://monitor.example/
dashboard_url: https://grafana.example/d/fleet?var-service={service}&sev={severity}
rules:
  - name: Down
    kind: status
    for: 1
    resolve_after: 1
    repeat_interval: 30s
    severity: critical
    annotations: {description: '{alertname}/{rule} {severity} at {external_url}'}
  - {name: LoopLag, kind: loop_lag, threshold: 100ms, for: 1, resolve_after: 1}
"""


def test_events_carry_their_end_link_and_annotation_values() -> None:
    steps = [[service("svc", U, _at(0))], [service("svc", U, _at(1))], [service("svc", H, _at(2))]]
    events = _events(EVENTS, steps)
    assert [(e.kind, e.rule, e.at, e.ends_at, e.generator_url) for e in events] == [
        ("firing", "Down", _at(0), None, "https://monitor.example/status?service=svc"),
        ("repeat", "Down", _at(1), None, "https://monitor.example/status?service=svc"),
        ("firing", "LoopLag", _at(1), None, "https://monitor.example/status"),
        ("resolved", "Down", _at(2), _at(2), "https://monitor.example/status?service=svc"),
    ]
    assert events[0].annotations["description"] == (
        "Down/Down critical at https://monitor.example/"
    )
    assert events[0].annotations["dashboard_url"] == (
        "https://grafana.example/d/fleet?var-service=svc&sev=critical"
    )
    without = EVENTS.replace(
        "dashboard_url: https://grafana.example/d/fleet?var-service={service}&sev={severity}\n", ""
    )
    assert "dashboard_url" not in _events(without, steps)[0].annotations


def test_a_removed_service_resolves_with_its_link_and_end() -> None:
    events = _events(EVENTS, [[service("svc", U, _at(0))], []])
    assert [(e.kind, e.ends_at, e.generator_url) for e in events if e.rule == "Down"] == [
        ("firing", None, "https://monitor.example/status?service=svc"),
        ("resolved", _at(1), "https://monitor.example/status?service=svc"),
    ]


def test_without_an_external_url_there_is_no_link() -> None:
    text = DOWN % (1, 1)
    config = rules(text)
    view = RuleInput({"svc": service("svc", U, T0)}, T0, T0)
    (fired,) = evaluate(config, AlertState(), view, T0)[1]
    assert fired.generator_url == ""


def test_the_root_cause_names_the_services_it_explains() -> None:
    steps = [[service("db", U, _at(0)), service("api", U, _at(0), depends_on=["db"])]]
    (fired,) = _events(DOWN % (1, 1), steps)
    assert (fired.labels["service"], fired.annotations["likely_cause_of"]) == ("db", "api")


def test_evaluate_leaves_the_input_state_s_buckets_and_changes_alone() -> None:
    text = "rules:\n  - {name: Burn, kind: burn_rate}\n  - {name: Flaps, kind: flapping}\n"
    config, state = rules(text), AlertState()
    for tick, status in enumerate([Status.UNHEALTHY, Status.HEALTHY]):
        c = CheckInput(
            "search", CheckKind.HTTP, Status.HEALTHY, _at(tick), duration_s=0.1, target_s=0.05
        )
        view = RuleInput({"svc": service("svc", status, _at(tick), checks=[c])}, T0, _at(tick))
        state, _ = evaluate(config, state, view, _at(tick))
    before = state.model_dump_json()
    c = CheckInput("search", CheckKind.HTTP, Status.HEALTHY, _at(5), duration_s=0.1, target_s=0.05)
    view = RuleInput({"svc": service("svc", U, _at(5), checks=[c])}, T0, _at(5))
    after, _ = evaluate(config, state, view, _at(5) + timedelta(hours=2))
    assert state.model_dump_json() == before
    assert after.model_dump_json() != before


HELD = f"""rules:
  - {{name: Down, kind: status, for: 1, resolve_after: 1}}
  - {{name: Flaps, kind: flapping, changes: 1, window: 5m}}
silences:
  - matchers: [{{name: service, op: '=', value: quiet}}]
    starts_at: '{T0.isoformat()}'
    ends_at: '{(T0 + timedelta(hours=1)).isoformat()}'
"""


def _state(text: str, steps: list[list[ServiceInput]]) -> AlertState:
    config, state = rules(text), AlertState()
    for tick, services in enumerate(steps):
        view = RuleInput({s.name: s for s in services}, T0, _at(tick))
        state, _ = evaluate(config, state, view, _at(tick))
    return state


def _held(state: AlertState) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {
        (r.rule, r.labels["service"]): (r.phase.value, r.suppressed_by)
        for r in state.alerts.values()
    }


def test_what_holds_a_page_back_is_recorded_and_cleared_on_resolve() -> None:
    def step(t: int, api: Status, quiet: Status) -> list[ServiceInput]:
        return [
            service("db", U, _at(t)),
            service("cache", U, _at(t)),
            service("api", api, _at(t), depends_on=["db", "cache"]),
            service("quiet", quiet, _at(t)),
        ]

    state = _state(HELD, [step(0, U, U), step(1, H, H), step(2, U, H)])
    assert _held(state) == {
        ("Down", "db"): ("firing", None),
        ("Down", "cache"): ("firing", None),
        ("Down", "api"): ("pending", "flapping"),
        ("Down", "quiet"): ("resolved", None),
        ("Flaps", "api"): ("firing", None),
    }
    state = _state(HELD, [step(0, U, U)])
    api = next(r for r in state.alerts.values() if r.labels["service"] == "api")
    assert api.suppressed_by == "dependency:db,cache"
    assert api.annotations["likely_cause"] == "db unhealthy; cache unhealthy"
    db = next(r for r in state.alerts.values() if r.labels["service"] == "db")
    assert db.annotations["likely_cause_of"] == "api"


def test_a_root_cause_names_every_service_it_explains() -> None:
    steps = [
        [
            service("db", U, _at(0)),
            service("api", U, _at(0), depends_on=["db"]),
            service("web", U, _at(0), depends_on=["db"]),
        ]
    ]
    (fired,) = _events(DOWN % (1, 1), steps)
    assert fired.annotations["likely_cause_of"] == "api, web"


def test_only_pending_status_pages_ask_for_a_fast_recheck() -> None:
    text = (
        DOWN % (3, 1)
        + "  - {name: LoopLag, kind: loop_lag, threshold: 100ms, for: 3}\n"
        + "  - {name: Slow, kind: latency, for: 3}\n"
    )
    slow = CheckInput(
        "read", CheckKind.RPC, Status.HEALTHY, T0, duration_s=0.009, target_s=0.005, p95_s=0.009
    )
    services = [service("a", U, T0), service("b", H, T0), service("c", H, T0, checks=[slow])]
    view = RuleInput({s.name: s for s in services}, T0, T0, loop_lag_s=0.5)
    state, _ = evaluate(rules(text), AlertState(), view, T0)
    assert state.recheck_soon == ["a"]
    assert {r.rule: (r.phase.value, r.suppressed_by) for r in state.alerts.values()} == {
        "Down": ("pending", None),
        "LoopLag": ("pending", None),
        "Slow": ("pending", None),
    }


def test_a_firing_page_that_is_clearing_is_not_repeated() -> None:
    text = (
        "rules:\n  - {name: Down, kind: status, for: 1, resolve_after: 2, repeat_interval: 30s}\n"
    )
    steps = [[service("svc", U, _at(0))], [service("svc", H, _at(1))], [service("svc", U, _at(2))]]
    assert _steps(text, steps) == [(0, "firing", "Down", "svc"), (2, "repeat", "Down", "svc")]


def test_every_removed_service_resolves_but_only_a_notified_page_says_so() -> None:
    # Slow's records come first: a removed pending one must not end the sweep
    text = (
        "rules:\n  - {name: Slow, kind: status, for: 5}\n"
        + (DOWN % (1, 1)).removeprefix("rules:\n")
        + HELD.split("\n", 3)[3]
    )
    both = [service(n, U, _at(0)) for n in ("a", "b", "quiet")]
    out = _steps(text, [both, [service("a", U, _at(1))]])
    assert out == [
        (0, "firing", "Down", "a"),
        (0, "firing", "Down", "b"),
        (1, "resolved", "Down", "b"),
    ]


def test_the_link_keeps_the_external_url_s_path() -> None:
    text = "external_url: https://monitor.example/PROX/\n" + DOWN % (1, 1)
    (fired,) = _events(text, [[service("svc", U, _at(0))]])
    assert fired.generator_url == "https://monitor.example/PROX/status?service=svc"


def test_buckets_follow_the_short_window() -> None:
    # short 10m: buckets of 120 s, so at 660 s the short window still holds the bad check
    # made at 30 s (its bucket starts at 0 s); buckets of 60 s would have dropped it
    text = (
        "rules:\n  - {name: Burn, kind: burn_rate, objective: 0.5, burn_rate: 1, long: 20m,"
        " short: 10m, min_samples: 1}\n"
    )

    def search(second: int, duration: float) -> list[ServiceInput]:
        at = T0 + timedelta(seconds=second)
        c = CheckInput(
            "search", CheckKind.HTTP, Status.HEALTHY, at, duration_s=duration, target_s=0.050
        )
        return [service("svc", H, at, checks=[c])]

    config, state, out = rules(text), AlertState(), []
    for second, duration in [(30, 0.1), (660, 0.01)]:
        now = T0 + timedelta(seconds=second)
        view = RuleInput({"svc": search(second, duration)[0]}, T0, now)
        state, events = evaluate(config, state, view, now)
        out += [(second, e.kind) for e in events]
    assert out == [(30, "firing")]


def test_an_alerts_file_without_rules_evaluates_to_nothing() -> None:
    steps = [[service("svc", U, _at(0))], [service("svc", H, _at(1))], [service("svc", U, _at(2))]]
    assert _steps("rules: []\n", steps) == []
