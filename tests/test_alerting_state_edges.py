"""Alert state (`monitor/alerting/state.py`) at its edges: the adapter from /status (ms to
s, every field), matchers on values that look like patterns, zoned silence times, the
re-keying of saved state, and which records are firing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.alerting.state import (
    AlertRecord,
    AlertState,
    Matcher,
    Phase,
    RuleInput,
    Silence,
    alert_key,
    fingerprint,
    keyed_by_labels,
)
from monitor.model import (
    CheckKind,
    FleetStatus,
    LatencySummary,
    Reason,
    ServiceStatus,
    Status,
)
from tests.check_builders import check_status

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def fleet() -> FleetStatus:
    check = check_status(
        "rpc",
        CheckKind.RPC,
        Status.DEGRADED,
        Reason.LATENCY_OVER_TARGET,
        url="http://db/rpc",
        detail="slow",
        duration_ms=250.0,
        latency_ms=LatencySummary(p95=120.0),
        target_ms=100.0,
        checked_at=T0,
    )
    bare = check.model_copy(
        update={"name": "bare", "duration_ms": None, "latency_ms": None, "target_ms": None}
    )
    service = ServiceStatus(
        name="db",
        status=Status.DEGRADED,
        reason=Reason.LATENCY_OVER_TARGET,
        detail="rpc slow",
        url="http://db/health",
        checked_at=T0,
        since=T0 - timedelta(minutes=3),
        labels={"tier": "core"},
        team="data",
        runbook="https://runbooks.example/db",
        depends_on=["auth"],
        checks=[check, bare],
    )
    return FleetStatus(
        status=Status.DEGRADED, generated_at=T0, counts={Status.DEGRADED: 1}, services=[service]
    )


def test_the_rules_see_every_field_of_the_status_in_seconds() -> None:
    silence = Silence(matchers={"service": "db"}, starts_at=T0, ends_at=T0 + timedelta(hours=1))
    view = RuleInput.from_fleet(
        fleet(),
        started_at=T0 - timedelta(hours=1),
        last_check_at=T0,
        loop_lag_s=0.25,
        silences=(silence,),
        schedule_lag_s=0.5,
    )
    assert (view.started_at, view.last_check_at) == (T0 - timedelta(hours=1), T0)
    assert (view.loop_lag_s, view.schedule_lag_s, view.silences) == (0.25, 0.5, (silence,))
    (name,) = view.services
    db = view.services["db"]
    assert name == "db" and db.name == "db"
    assert (db.status, db.reason, db.detail) == (Status.DEGRADED, "latency_over_target", "rpc slow")
    assert (db.since, db.checked_at) == (T0 - timedelta(minutes=3), T0)
    assert (dict(db.labels), db.team, db.runbook) == (
        {"tier": "core"},
        "data",
        "https://runbooks.example/db",
    )
    assert db.depends_on == ("auth",)
    rpc, bare = db.checks
    assert (rpc.name, rpc.kind, rpc.status, rpc.checked_at) == (
        "rpc",
        CheckKind.RPC,
        Status.DEGRADED,
        T0,
    )
    assert (rpc.duration_s, rpc.target_s, rpc.p95_s) == (0.25, 0.1, 0.12)
    assert (bare.duration_s, bare.target_s, bare.p95_s) == (None, None, None)


def test_from_fleet_defaults_say_nothing_is_known() -> None:
    view = RuleInput.from_fleet(fleet(), started_at=T0)
    assert (view.last_check_at, view.loop_lag_s, view.schedule_lag_s, view.silences) == (
        None,
        None,
        None,
        (),
    )


@pytest.mark.parametrize(
    ("op", "value", "actual", "hit"),
    [
        ("=", "a.b", "a.b", True),
        ("=", "a.b", "axb", False),
        ("!=", "a.b", "axb", True),  # not a pattern: "axb" is not "a.b"
        ("!=", "a.b", "a.b", False),
        ("=~", "a", "a", True),
        ("=~", "a.b", "axb", True),
        ("=~", "a", "ab", False),  # the whole value
        ("!~", "a.b", "axb", False),
        ("!~", "a", "ab", True),
        ("=", "", None, True),  # a missing label is the empty value
        ("!=", "", None, False),
    ],
)
def test_a_matcher_compares_plainly_or_as_a_whole_pattern(
    op: str, value: str, actual: str | None, hit: bool
) -> None:
    labels = {} if actual is None else {"service": actual}
    assert Matcher(name="service", value=value, op=op).matches(labels) is hit  # type: ignore[arg-type]


def test_a_silence_time_with_a_zone_keeps_it_and_one_without_is_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    zoned = Silence(
        matchers={"service": "db"},
        starts_at=datetime(2026, 11, 30, 13, 0, tzinfo=berlin),  # 12:00 UTC
        ends_at=datetime(2026, 11, 30, 14, 0, tzinfo=berlin),
    )
    assert zoned.active(T0) and not zoned.active(T0 + timedelta(hours=1))
    naive = Silence(
        matchers={"service": "db"}, starts_at=datetime(2026, 11, 30, 12), ends_at=T0 + timedelta(1)
    )
    assert naive.starts_at == T0 and naive.starts_at.tzinfo is UTC


LABELS = {"alertname": "Down", "service": "db"}


def record(phase: Phase, notified: bool, print_: str = "old-fingerprint") -> AlertRecord:
    return AlertRecord(
        rule="Down",
        fingerprint=print_,
        labels=LABELS,
        phase=phase,
        active_since=T0,
        notified_at=T0 if notified else None,
    )


@pytest.mark.parametrize(
    ("phase", "notified", "kept"),
    [
        (Phase.FIRING, True, "old-fingerprint"),  # its resolve must reach the same incident
        (Phase.PENDING, True, "old-fingerprint"),
        (Phase.FIRING, False, None),  # never notified: nothing to keep
        (Phase.PENDING, False, None),
        (Phase.RESOLVED, True, None),  # its incident is over: the next one takes the new one
    ],
)
def test_rekeyed_state_keeps_a_notified_fingerprint_until_it_resolves(
    phase: Phase, notified: bool, kept: str | None
) -> None:
    rekeyed = keyed_by_labels({"old-key": record(phase, notified)})
    assert list(rekeyed) == [alert_key("Down", LABELS)]
    assert rekeyed[alert_key("Down", LABELS)].fingerprint == (kept or fingerprint(LABELS))


@pytest.mark.parametrize("firing_first", [True, False])
def test_of_two_saved_records_for_one_alert_the_live_one_wins(firing_first: bool) -> None:
    live = record(Phase.FIRING, True, "live")
    over = record(Phase.RESOLVED, True, "over")
    saved = {"a": live, "b": over} if firing_first else {"a": over, "b": live}
    (kept,) = keyed_by_labels(saved).values()
    assert (kept.phase, kept.fingerprint) == (Phase.FIRING, "live")


def test_firing_lists_only_the_firing_records() -> None:
    state = AlertState(
        alerts={
            "p": record(Phase.PENDING, False),
            "f": record(Phase.FIRING, True),
            "r": record(Phase.RESOLVED, True),
        }
    )
    assert [r.phase for r in state.firing()] == [Phase.FIRING]
