"""Alert rules: load errors, and the decisions over timelines of checks (one letter = one check
30 s apart: H healthy, D degraded, U unhealthy)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.alerting.evaluate import evaluate
from monitor.alerting.rules import load_alert_rules
from monitor.alerting.state import AlertState, CheckInput, Phase, RuleInput, Silence, fingerprint
from monitor.errors import ConfigError
from monitor.model import CheckKind
from tests.alerting_fixtures import INTERVAL, T0, H, U, rules, run, service
from tests.refusals import assert_refused

STATUS = """
rules:
  - name: ServiceDown
    kind: status
    status: [degraded, unhealthy]
    severity: critical
    route: [page]
"""


@pytest.mark.parametrize(
    ("extra", "timeline", "expected"),
    [
        pytest.param("", "HHUHHHH", [], id="a blip does not page"),
        pytest.param("", "HHUUUUUU", [(4, "firing")], id="three in a row page once"),
        pytest.param("", "DUD", [(2, "firing")], id="degraded and unhealthy both count"),
        pytest.param("", "UUUUHHHHH", [(2, "firing"), (5, "resolved")], id="resolve once"),
        pytest.param(
            "",
            "UUUHUHUUHUHH",
            [(2, "firing"), (11, "resolved")],
            id="hysteresis: a single healthy check does not resolve",
        ),
        pytest.param("    for: 1m\n", "UUUUU", [(2, "firing")], id="for a duration"),
        pytest.param("    for: 90s\n", "UUUUU", [(3, "firing")], id="for 90s"),
        pytest.param(
            "    resolve_after: 1m\n",
            "UUUHHHH",
            [(2, "firing"), (5, "resolved")],
            id="resolve after a duration",
        ),
        pytest.param(
            "    repeat_interval: 1m\n",
            "UUUUUUU",
            [(2, "firing"), (4, "repeat"), (6, "repeat")],
            id="repeat interval",
        ),
        pytest.param(
            "    send_resolved: false\n", "UUUHHH", [(2, "firing")], id="no resolve when not wanted"
        ),
        pytest.param(
            "    for: 1\n    resolve_after: 1\n",
            "UHUH",
            [(0, "firing"), (1, "resolved"), (2, "firing"), (3, "resolved")],
            id="without hysteresis every flip pages",
        ),
    ],
)
def test_status_rule(extra: str, timeline: str, expected: list[tuple[int, str]]) -> None:
    events, _ = run(rules(STATUS + extra), {"svc": timeline})
    assert [(tick, kind) for tick, kind, _, _ in events] == expected


def test_fast_recheck_is_advised_while_a_failure_is_unconfirmed() -> None:
    _, state = run(rules(STATUS), {"svc": "HU"})
    assert state.recheck_soon == ["svc"]
    _, state = run(rules(STATUS), {"svc": "HUUU"})
    assert state.recheck_soon == []


FLAPPING = (
    STATUS
    + """
  - name: ServiceFlapping
    kind: flapping
    changes: 3
    window: 10m
"""
)


def test_flapping_becomes_one_alert_and_holds_back_status_pages() -> None:
    events, _ = run(rules(FLAPPING), {"svc": "UHUHUH" + "U" * 30})
    # 4 changes by tick 4; last change at tick 6; quiet for 10 min at tick 27
    assert events == [
        (4, "firing", "ServiceFlapping", "svc"),
        (27, "resolved", "ServiceFlapping", "svc"),
        (27, "firing", "ServiceDown", "svc"),
    ]


def test_flapping_after_a_page_is_one_more_alert_not_a_page_per_flip() -> None:
    events, _ = run(rules(FLAPPING), {"svc": "UUUHUUUHUUUH"})
    assert events == [(2, "firing", "ServiceDown", "svc"), (8, "firing", "ServiceFlapping", "svc")]


def test_silence_holds_back_the_page_until_it_ends() -> None:
    silence = Silence(
        id="deploy", matchers={"service": "svc"}, starts_at=T0, ends_at=T0 + timedelta(minutes=2)
    )
    events, _ = run(rules(STATUS), {"svc": "UUUUUU"}, silences=(silence,))
    assert [(t, k) for t, k, _, _ in events] == [(4, "firing")]


def test_silence_from_the_file_matches_by_label() -> None:
    text = (
        STATUS
        + f"""
silences:
  - matchers: [{{name: service, op: "=~", value: "s.c"}}]
    starts_at: "{T0.isoformat()}"
    ends_at: "{(T0 + timedelta(hours=1)).isoformat()}"
    comment: deploy window
"""
    )
    events, state = run(rules(text), {"svc": "UUUU"})
    assert events == []
    (record,) = state.alerts.values()
    assert record.phase is Phase.FIRING and record.suppressed_by == "silence:file-0"


def test_a_silenced_alert_that_was_notified_still_resolves() -> None:
    config = rules(STATUS)
    events, state = run(config, {"svc": "UUU"})
    assert [k for _, k, _, _ in events] == ["firing"]
    silence = Silence(
        id="late", matchers={"service": "svc"}, starts_at=T0, ends_at=T0 + timedelta(hours=1)
    )
    for tick in (3, 4):
        now = T0 + tick * INTERVAL
        view = RuleInput({"svc": service("svc", H, now)}, T0, now, silences=(silence,))
        state, out = evaluate(config, state, view, now)
    assert [e.kind for e in out] == ["resolved"]


def test_events_carry_identity_annotations_and_a_stable_fingerprint() -> None:
    config = rules(STATUS + "    labels: {tier: core}\n")
    _, state = run(config, {"svc": "UUU"})
    (record,) = state.alerts.values()
    expected_labels = {
        "alertname": "ServiceDown",
        "severity": "critical",
        "service": "svc",
        "tier": "core",
    }
    assert record.labels == expected_labels
    assert record.fingerprint == fingerprint(expected_labels) and len(record.fingerprint) == 16
    assert record.annotations["summary"] == "svc is unhealthy (server_error)"
    assert "svc said unhealthy" in record.annotations["description"]
    assert record.annotations["runbook_url"] == "https://runbooks.example/svc"


LATENCY = """
rules:
  - name: RpcSlow
    kind: latency
    checks: [rpc]
    for: 1m
    resolve_after: 1m
"""


@pytest.mark.parametrize(
    ("p95s", "expected"),
    [
        pytest.param([4, 6, 4, 6, 4], [], id="brief excursions do not fire"),
        pytest.param([6, 6, 6, 6, 4, 4, 4], [(2, "firing"), (6, "resolved")], id="sustained"),
        pytest.param([6, None, 6, 6], [(2, "firing")], id="no data keeps the state"),
    ],
)
def test_latency_rule(p95s: list[float | None], expected: list[tuple[int, str]]) -> None:
    config, state, out = rules(LATENCY), AlertState(), []
    for tick, p95 in enumerate(p95s):
        now = T0 + tick * INTERVAL
        rpc = CheckInput(
            "db-read",
            CheckKind.RPC,
            H,
            now,
            duration_s=0.004,
            target_s=0.005,
            p95_s=None if p95 is None else p95 / 1000,
        )
        view = RuleInput({"svc": service("svc", H, now, checks=[rpc])}, T0, now)
        state, events = evaluate(config, state, view, now)
        out += [(tick, e.kind) for e in events]
        for e in events:
            assert e.labels["check"] == "db-read"
    assert out == expected


BURN = """
rules:
  - name: ErrorBudgetBurn
    kind: burn_rate
    objective: 0.99
    long: 1h
    short: 5m
    burn_rate: 14.4
    min_samples: 10
"""


def test_burn_rate_fires_when_both_windows_burn_and_resolves_when_the_short_one_cools() -> None:
    config, state, out = rules(BURN), AlertState(), []
    # 20 fast checks, 10 over the 50 ms target, then 20 fast ones again
    durations = [0.010] * 20 + [0.080] * 10 + [0.010] * 20
    for tick, duration in enumerate(durations):
        now = T0 + tick * INTERVAL
        http = CheckInput("search", CheckKind.HTTP, H, now, duration_s=duration, target_s=0.050)
        view = RuleInput({"svc": service("svc", H, now, checks=[http])}, T0, now)
        state, events = evaluate(config, state, view, now)
        out += [(tick, e.kind) for e in events]
    # budget 1 %, burn 14.4x: both windows need >= 14.4 % bad. Long window: 4 bad of 24 is
    # the first (3 of 23 = 13 %); the short window (5 min, ~10 checks) is over it by then.
    fired = [t for t, k in out if k == "firing"]
    resolved = [t for t, k in out if k == "resolved"]
    assert fired == [23]
    # the short window cools once at most one bad check is left in its ~10 checks
    assert len(resolved) == 1 and 36 <= resolved[0] <= 40


def test_burn_rate_exactly_at_the_threshold_fires() -> None:
    """1 slow check of 20 at a 95 % objective burns at exactly 1x: `burn_rate: 1` fires. In
    binary 0.05 / (1 - 0.95) is 0.9999999999999991, which used to leave the tie unpaged."""
    config, state, out = (
        rules(
            "rules:\n  - {name: Burn, kind: burn_rate, objective: 0.95, long: 1h, short: 30m,"
            " burn_rate: 1, min_samples: 20}\n"
        ),
        AlertState(),
        [],
    )
    for tick, duration in enumerate([0.010] * 19 + [0.080]):
        now = T0 + tick * INTERVAL
        http = CheckInput("search", CheckKind.HTTP, H, now, duration_s=duration, target_s=0.050)
        view = RuleInput({"svc": service("svc", H, now, checks=[http])}, T0, now)
        state, events = evaluate(config, state, view, now)
        out += [(tick, e.kind, e.annotations.get("summary")) for e in events]
    assert out == [(19, "firing", "svc search burns its error budget 1.0x too fast")]


def test_burn_rate_needs_samples() -> None:
    config, state = rules(BURN), AlertState()
    now = T0
    http = CheckInput("search", CheckKind.HTTP, H, now, duration_s=0.5, target_s=0.050)
    state, events = evaluate(
        config, state, RuleInput({"svc": service("svc", H, now, checks=[http])}, T0), now
    )
    assert events == []


def test_watchdog_fires_on_its_schedule_and_never_resolves() -> None:
    config = rules("rules:\n  - {name: Watchdog, kind: watchdog, repeat_interval: 1m}\n")
    events, _ = run(config, {"svc": "HHHHHH"})
    assert [(t, k) for t, k, _, _ in events] == [(0, "firing"), (2, "repeat"), (4, "repeat")]


def test_checks_stalled_and_loop_lag() -> None:
    config = rules("""
rules:
  - {name: ChecksStalled, kind: checks_stalled, after: 2m}
  - {name: LoopLag, kind: loop_lag, threshold: 100ms, for: 1m, resolve_after: 1m}
""")
    state = AlertState()
    fired: list[tuple[int, str, str]] = []
    for minute, (last_check, lag) in enumerate(
        [(0, 0.01), (1, 0.5), (1, 0.5), (1, 0.5), (1, 0.01), (5, 0.01)]
    ):
        now = T0 + timedelta(minutes=minute)
        view = RuleInput({}, T0, T0 + timedelta(minutes=last_check), loop_lag_s=lag)
        state, events = evaluate(config, state, view, now)
        fired += [(minute, e.rule, e.kind) for e in events]
    assert fired == [
        (2, "LoopLag", "firing"),
        (4, "ChecksStalled", "firing"),
        (5, "ChecksStalled", "resolved"),
        (5, "LoopLag", "resolved"),
    ]


def test_schedule_lag_fires_after_for_and_resolves_after_resolve_after() -> None:
    config = rules("""
rules:
  - {name: Behind, kind: schedule_lag, threshold: 1s, for: 2m, resolve_after: 2m}
""")
    state = AlertState()
    fired: list[tuple[int, str, str]] = []
    # p99 start delay each minute; None: no check started in the last minute
    lags = [None, 0.2, 3.0, 3.0, 3.0, 0.1, 0.1, 0.1, None]
    for minute, lag in enumerate(lags):
        now = T0 + timedelta(minutes=minute)
        state, events = evaluate(config, state, RuleInput({}, T0, now, schedule_lag_s=lag), now)
        fired += [(minute, e.rule, e.kind) for e in events]
        assert all(e.labels["service"] == "monitor" for e in events)
    assert fired == [(4, "Behind", "firing"), (7, "Behind", "resolved")]


def test_a_removed_service_resolves_instead_of_being_forgotten() -> None:
    config = rules(STATUS)
    _, state = run(config, {"svc": "UUU"})
    now = T0 + 3 * INTERVAL
    state, events = evaluate(config, state, RuleInput({}, T0, now), now)
    assert [e.kind for e in events] == ["resolved"]


def test_evaluate_does_not_modify_its_input() -> None:
    config = rules(STATUS)
    _, state = run(config, {"svc": "UU"})
    before = state.model_dump_json()
    now = T0 + 2 * INTERVAL
    evaluate(config, state, RuleInput({"svc": service("svc", U, now)}, T0, now), now)
    assert state.model_dump_json() == before


@pytest.mark.parametrize(
    ("text", "line", "location", "message"),
    [
        (
            "rules:\n  - name: X\n    kind: status\n    bogus: 1\n",
            7,
            "rules[0].bogus",
            "unknown key",
        ),
        ("rules:\n  - name: X\n    kind: nonsense\n", 5, "rules[0]", "does not match any"),
        (
            "rules:\n  - name: X\n    kind: status\n    for: soon\n",
            7,
            "rules[0].for",
            "expected a duration",
        ),
        (
            "rules:\n  - name: X\n    kind: status\n    route: [nowhere]\n",
            7,
            "rules[0].route[0]",
            "unknown receiver 'nowhere'",
        ),
        (
            "rules:\n  - name: X\n    kind: status\n    annotations: {summary: '{service.x}'}\n",
            7,
            "rules[0].annotations",
            "stray",
        ),
        (
            "rules:\n  - {name: X, kind: status}\n  - {name: X, kind: status}\n",
            6,
            "rules[1].name",
            "duplicate rule name",
        ),
        ("dashboard_url: 'javascript:alert(1)'\n", 4, "dashboard_url", "http:// or https://"),
        ("external_url: 'data:text/html,x'\n", 4, "external_url", "http:// or https://"),
        (
            "rules:\n  - name: X\n    kind: status\n"
            "    annotations: {runbook_url: 'javascript:alert(1)'}\n",
            7,
            "rules[0].annotations",
            "http:// or https://",
        ),
        (
            "rules:\n  - {name: X, kind: status, status: [healthy]}\n",
            5,
            "rules[0].status",
            "cannot alert on healthy",
        ),
        (
            "rules:\n  - {name: X, kind: status, match: {services: [ghost]}}\n",
            5,
            "rules[0].match.services[0]",
            "unknown service 'ghost'",
        ),
    ],
)
def test_bad_rules_name_file_line_and_field(
    text: str, line: int, location: str, message: str
) -> None:
    error = assert_refused(lambda: rules(text, services=["svc"]), line, location, message)
    assert str(error).startswith(f"alerts.yaml:{line}: ")


def test_bad_receiver_is_reported_with_its_field() -> None:
    with pytest.raises(ConfigError) as info:
        rules("  - {name: pd, type: pagerduty}\nrules: []\n")
    assert [(p.location, p.line) for p in info.value.problems] == [("receivers[2].routing_key", 4)]


def test_shipped_alerts_yaml_covers_the_seed_fleet() -> None:
    seed = [
        "do-gateway",
        "do-db",
        "auth",
        "do-schedule",
        "webhooks",
        "queue",
        "do-mcp",
        "email",
        "deploy",
        "dispatcher",
    ]
    env = {
        "PAGERDUTY_ROUTING_KEY": "k",
        "SLACK_WEBHOOK_URL": "https://hooks.example/x",
        "ALERT_WEBHOOK_URL": "https://hooks.example/y",
        "ALERT_WEBHOOK_SECRET": "s",
        "ALERTMANAGER_URL": "http://127.0.0.1:9093",
    }
    loaded = load_alert_rules(Path(__file__).parent.parent / "alerts.yaml", env=env, services=seed)
    status_rules = [r for r in loaded.config.rules if r.kind == "status"]
    for name in seed:
        assert any(r.match.matches(name, {}) for r in status_rules), name
    kinds = {r.kind for r in loaded.config.rules}
    assert kinds == {
        "status",
        "latency",
        "burn_rate",
        "flapping",
        "watchdog",
        "checks_stalled",
        "loop_lag",
        "schedule_lag",
    }


def test_the_decision_modules_stay_pure() -> None:
    """rules/evaluate/dependencies import no aiohttp (the functional core)."""
    import subprocess
    import sys

    code = (
        "import sys, monitor.alerting.evaluate, monitor.alerting.dependencies, "
        "monitor.alerting.silences; print('aiohttp' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
        timeout=60,
    )
    assert result.stdout.strip() == "False"
