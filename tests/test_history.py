"""Uptime, the uptime bar and incidents from hand-made change lists (pure maths)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import parse_config
from monitor.model import CheckKind, CheckStatus, FleetStatus, Reason, ServiceStatus, Status
from monitor.runtime.store import StatusChange
from monitor.web.history import (
    BUCKET_WIDTH,
    Segment,
    bucket_starts,
    buckets,
    check_id,
    check_segments,
    fleet_history,
    incidents,
    service_segments,
    uptime,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
H, U, D = Status.HEALTHY, Status.UNHEALTHY, Status.DEGRADED


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def change(
    at: datetime, to: Status, cid: str = "a/health/health", reason: str = "x"
) -> StatusChange:
    return StatusChange(cid, cid.split("/")[0], at, None, to, reason, f"detail {reason}")


def seg(start: float, end: float, status: Status, reason: str = "r") -> Segment:
    return Segment(ago(start), ago(end), status, reason, "")


def test_check_id_matches_config() -> None:
    config = parse_config(
        '{"services": [{"name": "a", "url": "http://x", "rpc": [{"name": "db", "path": "/s"}]}]}',
        "<t>",
    )
    assert [c.id for c in config.checks()] == [
        check_id("a", CheckKind.HEALTH, "health"),
        check_id("a", CheckKind.RPC, "db"),
    ]


@pytest.mark.parametrize(
    ("segments", "window_min", "up", "available"),
    [
        ([seg(60, 0, H)], 60, 1.0, 1.0),
        ([seg(60, 30, H), seg(30, 0, U)], 60, 0.5, 0.5),
        ([seg(60, 45, U), seg(45, 0, D)], 60, 0.0, 0.75),
        # only the last 30 min observed: 15 down of 30 observed, not of 60
        ([seg(30, 15, H), seg(15, 0, U)], 60, 0.5, 0.5),
        # a segment starting before the window counts only inside it
        ([seg(120, 30, U), seg(30, 0, H)], 60, 0.5, 0.5),
        ([], 60, None, None),
    ],
)
def test_uptime_is_time_weighted_over_observed_time(
    segments: list[Segment], window_min: int, up: float | None, available: float | None
) -> None:
    result = uptime(segments, ago(window_min), NOW)
    assert result.up == up
    assert result.available == available


def test_check_segments_from_changes_and_current_state() -> None:
    changes = [change(ago(50), U, reason="timeout"), change(ago(60), H, reason="ok")]
    # the current state (unflushed) says healthy again since 10 min ago
    timeline = check_segments(changes, (H, "ok", "fine", ago(10)), NOW)
    assert [(s.start, s.end, s.status) for s in timeline] == [
        (ago(60), ago(50), H),
        (ago(50), ago(10), U),
        (ago(10), NOW, H),
    ]
    assert timeline[1].reason == "timeout"


def test_check_segments_current_state_wins_from_its_since() -> None:
    changes = [change(ago(60), H), change(ago(20), U, reason="timeout")]
    timeline = check_segments(changes, (U, "connection_refused", "refused", ago(20)), NOW)
    assert [(s.status, s.reason) for s in timeline] == [(H, "x"), (U, "connection_refused")]


def test_service_takes_health_and_caps_smoke_at_degraded() -> None:
    health = [seg(60, 0, H, "ok")]
    smoke = [[seg(60, 30, H, "ok"), seg(30, 0, U, "timeout")]]
    result = service_segments(health, smoke)
    assert [(s.start, s.end, s.status, s.reason) for s in result] == [
        (ago(60), ago(30), H, "ok"),
        (ago(30), NOW, D, "timeout"),
    ]


def test_service_not_observed_before_its_health_check() -> None:
    result = service_segments([seg(30, 0, H)], [[seg(60, 0, U)]])
    assert result[0].start == ago(30)
    assert service_segments([], [[seg(60, 0, U)]]) == []


@pytest.mark.parametrize(
    ("now", "first_start"),
    [
        (datetime(2026, 11, 27, 12, 0, tzinfo=UTC), datetime(2026, 11, 26, 12, 16, tzinfo=UTC)),
        (
            datetime(2026, 11, 27, 12, 15, 59, tzinfo=UTC),
            datetime(2026, 11, 26, 12, 16, tzinfo=UTC),
        ),
        (datetime(2026, 11, 27, 12, 16, tzinfo=UTC), datetime(2026, 11, 26, 12, 32, tzinfo=UTC)),
    ],
)
def test_buckets_are_aligned_and_the_last_holds_now(now: datetime, first_start: datetime) -> None:
    starts = bucket_starts(now)
    assert len(starts) == 90
    assert starts[0] == first_start
    assert starts[-1] <= now < starts[-1] + BUCKET_WIDTH
    assert all(b - a == BUCKET_WIDTH for a, b in itertools.pairwise(starts))


def test_bucket_boundaries_are_half_open() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a boundary: the last bucket is [12:00, 12:16)
    edge = now - BUCKET_WIDTH  # 11:44, start of the second-to-last bucket
    segments = [
        Segment(now - timedelta(hours=2), edge, U, "timeout", "t"),  # ends exactly at 11:44
        Segment(edge, now, H, "ok", ""),
    ]
    bar = buckets(segments, now)
    assert bar[-3].status is U and bar[-3].reason == "timeout"  # [11:28, 11:44)
    assert bar[-2].status is H  # [11:44, 12:00): the down segment ended at its start
    assert bar[-1].status is None  # [12:00, 12:16): nothing observed yet at 12:00 sharp
    assert bar[0].status is None  # 24 h ago: not observed


def test_bucket_shows_its_worst_status_and_reason() -> None:
    now = NOW + timedelta(minutes=5)
    start = bucket_starts(now)[-2]
    segments = [
        Segment(start, start + timedelta(minutes=1), D, "not_found", "404"),
        Segment(start + timedelta(minutes=1), start + timedelta(minutes=2), U, "timeout", "slow"),
        Segment(start + timedelta(minutes=2), now, H, "ok", ""),
    ]
    bar = buckets(segments, now)
    assert (bar[-2].status, bar[-2].reason, bar[-2].detail) == (U, "timeout", "slow")
    assert bar[-1].status is H


def test_a_change_at_this_instant_shows_in_the_last_bucket() -> None:
    now = NOW + timedelta(minutes=3)
    bar = buckets([Segment(now, now, U, "timeout", "")], now)
    assert bar[-1].status is U


def test_incidents_are_runs_of_non_healthy_status() -> None:
    segments = [
        seg(300, 200, H),
        seg(200, 150, D, "not_found"),
        seg(150, 120, U, "timeout"),
        seg(120, 60, H),
        seg(60, 0, U, "connection_refused"),
    ]
    found = incidents("a", segments, NOW)
    assert [(i.start, i.end, i.status, i.reason, i.duration_s) for i in found] == [
        (ago(200), ago(120), U, "timeout", 80 * 60.0),
        (ago(60), None, U, "connection_refused", 3600.0),
    ]


def _fleet(status: Status, reason: Reason, detail: str, since: datetime | None) -> FleetStatus:
    """One service, `a`, with only its health check, in this state."""
    health = CheckStatus(
        name="health",
        kind=CheckKind.HEALTH,
        url="http://x/health",
        status=status,
        reason=reason,
        detail=detail,
        since=since,
    )
    service = ServiceStatus(
        name="a", status=status, reason=reason, detail="", url="http://x", checks=[health]
    )
    return FleetStatus(status=service.status, generated_at=NOW, counts={}, services=[service])


def test_fleet_history_end_to_end_on_a_change_list() -> None:
    changes = [
        change(ago(24 * 60), H, reason="ok"),
        change(ago(12 * 60), U, reason="timeout"),
        change(ago(6 * 60), H, reason="ok"),
    ]
    history = fleet_history(changes, _fleet(H, Reason.OK, "ok", ago(6 * 60)), NOW)
    a = history.services["a"]
    assert a.uptime_24h.up == pytest.approx(0.75)
    assert a.uptime_7d.up == pytest.approx(0.75)  # only 24 h observed
    assert [i.reason for i in history.incidents] == ["timeout"]
    assert history.incidents[0].duration_s == 6 * 3600
    assert sum(b.status is U for b in a.buckets) in (22, 23, 24)  # 6 h of 16-min buckets


def test_fleet_history_without_a_store_uses_current_state() -> None:
    history = fleet_history([], _fleet(U, Reason.TIMEOUT, "slow", ago(30)), NOW)
    assert history.services["a"].uptime_24h.up == 0.0
    assert history.incidents[0].end is None and history.incidents[0].reason == "timeout"


def test_never_checked_is_not_observed() -> None:
    fleet = _fleet(Status.UNKNOWN, Reason.NOT_CHECKED, "not checked yet", None)
    history = fleet_history([], fleet, NOW)
    assert history.services["a"].uptime_24h.up is None
    assert all(b.status is None for b in history.services["a"].buckets)
    assert history.incidents == []
