"""History's window edges with the clock passed in: a change exactly at a check's `since`
and at now, a segment ending exactly where a bucket starts, an incident ending exactly a week
ago, the 20th and 21st incident. Expected values are written out. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.model import CheckKind, CheckStatus, FleetStatus, Reason, ServiceStatus, Status
from monitor.runtime.store import StatusChange
from monitor.web.history import (
    Bucket,
    Incident,
    Segment,
    Uptime,
    bucket_starts,
    buckets,
    check_segments,
    fleet_history,
    incidents,
    service_segments,
    uptime,
    window_start,
)

H, D, U, K = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN
NOW = datetime(2026, 11, 27, 12, 5, tzinfo=UTC)
"""5 min into the bucket [12:00, 12:16); the bar's first bucket starts 2026-11-26 12:16."""


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def change(
    minutes: float, to: Status, reason: str = "x", cid: str = "a/health/health"
) -> StatusChange:
    return StatusChange(cid, cid.split("/")[0], ago(minutes), None, to, reason, f"d-{reason}")


def seg(start: float, end: float, status: Status, reason: str = "r", detail: str = "") -> Segment:
    return Segment(ago(start), ago(end), status, reason, detail)


def spans(segments: list[Segment]) -> list[tuple[float, float, Status, str]]:
    """(start, end) in minutes ago, status and reason: compact expected values."""
    return [
        (
            (NOW - s.start) / timedelta(minutes=1),
            (NOW - s.end) / timedelta(minutes=1),
            s.status,
            s.reason,
        )
        for s in segments
    ]


# -- one check's timeline ---------------------------------------------------------------------


def test_segment_seconds_never_negative() -> None:
    assert seg(10, 4, H).seconds == 360.0
    assert seg(4, 10, H).seconds == 0.0


def test_changes_alone_run_until_now() -> None:
    timeline = check_segments([change(10, U, "t"), change(30, H, "ok")], None, NOW)
    assert spans(timeline) == [(30, 10, H, "ok"), (10, 0, U, "t")]
    assert (timeline[1].reason, timeline[1].detail) == ("t", "d-t")


def test_a_change_exactly_at_the_current_since_gives_way_to_the_current_state() -> None:
    changes = [change(30, H, "ok"), change(10, U, "stale")]
    timeline = check_segments(changes, (D, "slow", "s", ago(10)), NOW)
    assert spans(timeline) == [(30, 10, H, "ok"), (10, 0, D, "slow")]
    assert timeline[1].detail == "s"


def test_a_change_and_the_current_state_both_at_now_leave_only_the_current_one() -> None:
    timeline = check_segments(
        [change(20, H, "ok"), change(0, U, "stale")], (D, "now", "", NOW), NOW
    )
    assert spans(timeline) == [(20, 0, H, "ok"), (0, 0, D, "now")]


def test_a_current_state_since_after_now_is_not_shown() -> None:
    """A clock step back: `since` is ahead of now; the past stays, the future does not."""
    future = NOW + timedelta(minutes=1)
    timeline = check_segments([change(20, H, "ok")], (U, "t", "", future), NOW)
    assert spans(timeline) == [(20, -1, H, "ok")]


def test_an_instant_between_two_changes_at_once_is_dropped_but_one_at_now_is_kept() -> None:
    timeline = check_segments(
        [change(20, U, "blip"), change(20, H, "ok"), change(0, D, "n")], None, NOW
    )
    # the two changes at the same instant: one of them lasts no time and is dropped
    assert [s.seconds for s in timeline] == [1200.0, 0.0]
    assert timeline[-1].status is D and timeline[-1].start == timeline[-1].end == NOW


# -- a service's timeline -------------------------------------------------------------------


def test_health_alone_is_the_service() -> None:
    health = [seg(60, 30, H, "ok"), seg(30, 0, U, "t")]
    assert spans(service_segments(health, [])) == [(60, 30, H, "ok"), (30, 0, U, "t")]


def test_smoke_counts_only_within_health_and_from_its_own_start() -> None:
    health = [seg(60, 10, H, "ok")]
    smoke = [[seg(90, 50, U, "before"), seg(40, 20, D, "mid")]]
    assert spans(service_segments(health, smoke)) == [
        (60, 50, D, "before"),  # capped at degraded; its part before health's start is unseen
        (50, 40, H, "ok"),  # between the smoke segments: the smoke check is not observed
        (40, 20, D, "mid"),
        (20, 10, H, "ok"),
    ]


def test_a_smoke_check_of_equal_severity_does_not_take_the_reason() -> None:
    health = [seg(60, 0, D, "health_reason", "hd")]
    smoke = [[seg(60, 0, U, "smoke_reason", "sd")], [seg(60, 0, D, "other", "od")]]
    [only] = service_segments(health, smoke)
    assert (only.status, only.reason, only.detail) == (D, "health_reason", "hd")


def test_the_worst_smoke_check_wins_and_unknown_is_not_capped() -> None:
    health = [seg(60, 0, H, "ok")]
    smoke = [[seg(60, 0, K, "first")], [seg(60, 30, U, "second", "sd")]]
    result = service_segments(health, smoke)
    assert spans(result) == [(60, 30, D, "second"), (30, 0, K, "first")]
    assert result[0].detail == "sd"


def test_a_gap_in_the_health_check_is_a_gap_in_the_service() -> None:
    health = [seg(60, 40, H, "ok"), seg(20, 0, U, "t")]
    assert spans(service_segments(health, [])) == [(60, 40, H, "ok"), (20, 0, U, "t")]


def test_equal_neighbours_merge_into_one_segment() -> None:
    health = [seg(60, 30, H, "ok"), seg(30, 0, H, "ok")]
    smoke = [[seg(45, 15, H, "fine")]]
    assert spans(service_segments(health, smoke)) == [(60, 0, H, "ok")]


def test_a_health_check_first_seen_at_now_is_that_instant() -> None:
    [only] = service_segments([Segment(NOW, NOW, U, "t", "")], [[seg(10, 0, H)]])
    assert (only.start, only.end, only.status, only.reason) == (NOW, NOW, U, "t")


def test_a_health_check_that_changed_at_now_shows_that_instant_after_its_past() -> None:
    health = [seg(30, 0, H, "ok"), Segment(NOW, NOW, U, "t", "")]
    result = service_segments(health, [])
    assert spans(result) == [(30, 0, H, "ok"), (0, 0, U, "t")]
    assert buckets(result, NOW)[-1].status is U  # the bar's last bucket, as the card says
    [incident] = incidents("a", result, NOW)
    assert (incident.start, incident.end, incident.duration_s) == (NOW, None, 0.0)


def test_a_smoke_check_not_observed_yet_does_not_hide_the_next_one() -> None:
    health = [seg(60, 0, H, "ok")]
    smoke = [[seg(10, 0, H, "fine")], [seg(60, 0, U, "second")]]
    assert spans(service_segments(health, smoke)) == [(60, 0, D, "second")]


# -- uptime ---------------------------------------------------------------------------------


def test_uptime_counts_only_the_part_inside_the_window() -> None:
    segments = [seg(120, 50, U), seg(50, 40, D), seg(40, -30, H)]
    assert uptime(segments, ago(60), NOW) == Uptime(40 / 60, 50 / 60, 3600.0)


def test_segments_touching_the_window_from_outside_are_not_observed() -> None:
    assert uptime([seg(120, 60, U), seg(0, -10, U)], ago(60), NOW) == Uptime(None, None, 0.0)


def test_a_segment_touching_the_window_does_not_stop_the_count() -> None:
    assert uptime([seg(120, 60, U), seg(60, 0, H)], ago(60), NOW) == Uptime(1.0, 1.0, 3600.0)


def test_unknown_is_neither_up_nor_available() -> None:
    assert uptime([seg(60, 30, K), seg(30, 0, H)], ago(60), NOW) == Uptime(0.5, 0.5, 3600.0)


# -- the uptime bar -------------------------------------------------------------------------


def test_the_bar_of_ninety_sixteen_minute_buckets_ending_with_now() -> None:
    starts = bucket_starts(NOW)
    assert (starts[0], starts[-1]) == (
        datetime(2026, 11, 26, 12, 16, tzinfo=UTC),
        datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
    )
    assert bucket_starts(NOW, 3, timedelta(hours=1)) == [
        datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 11, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
    ]
    assert window_start(NOW) == datetime(
        2026, 11, 20, 12, 5, tzinfo=UTC
    )  # the week reaches further


def test_an_empty_timeline_is_an_unobserved_bar() -> None:
    bar = buckets([], NOW)
    assert len(bar) == 90 and {b.status for b in bar} == {None}
    assert bar[0] == Bucket(
        datetime(2026, 11, 26, 12, 16, tzinfo=UTC), datetime(2026, 11, 26, 12, 32, tzinfo=UTC), None
    )


def test_a_bar_of_another_count_and_width() -> None:
    hour = timedelta(hours=1)
    segment = Segment(ago(125), ago(65), D, "r", "d")  # 10:00 to 11:00
    assert buckets([segment], NOW, 3, hour) == [
        Bucket(
            datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
            datetime(2026, 11, 27, 11, 0, tzinfo=UTC),
            D,
            "r",
            "d",
        ),
        Bucket(
            datetime(2026, 11, 27, 11, 0, tzinfo=UTC),
            datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
            None,
        ),
        Bucket(
            datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
            datetime(2026, 11, 27, 13, 0, tzinfo=UTC),
            None,
        ),
    ]


def test_a_segment_marks_every_bucket_it_overlaps_and_no_other() -> None:
    # 11:28 to 11:44:00.000001: buckets [11:28, 11:44) and [11:44, 12:00)
    start = datetime(2026, 11, 27, 11, 28, tzinfo=UTC)
    segment = Segment(start, start + timedelta(minutes=16, microseconds=1), U, "t", "d")
    bar = buckets([segment], NOW)
    marked = [i for i, b in enumerate(bar) if b.status is not None]
    assert marked == [87, 88]
    assert bar[87] == Bucket(start, start + timedelta(minutes=16), U, "t", "d")


def test_a_segment_ending_exactly_at_a_bucket_start_leaves_that_bucket() -> None:
    start = datetime(2026, 11, 27, 11, 28, tzinfo=UTC)
    bar = buckets([Segment(start - timedelta(microseconds=1), start, U, "t", "")], NOW)
    assert [i for i, b in enumerate(bar) if b.status is not None] == [86]


def test_segments_reaching_past_both_ends_of_the_bar_fill_it_without_overflow() -> None:
    segment = Segment(NOW - timedelta(days=3), NOW + timedelta(days=3), D, "r", "")
    assert [b.status for b in buckets([segment], NOW)] == [D] * 90


def test_a_bucket_keeps_the_first_of_its_worst_segments() -> None:
    start = datetime(2026, 11, 27, 11, 28, tzinfo=UTC)
    minute = timedelta(minutes=1)
    segments = [
        Segment(start, start + minute, D, "first", ""),
        Segment(start + minute, start + 2 * minute, D, "second", ""),
        Segment(start + 2 * minute, start + 3 * minute, H, "ok", ""),
    ]
    assert buckets(segments, NOW)[87].reason == "first"


def test_an_instant_on_a_bucket_start_marks_nothing_unless_it_is_now() -> None:
    earlier = datetime(2026, 11, 27, 11, 28, tzinfo=UTC)
    assert all(b.status is None for b in buckets([Segment(earlier, earlier, U, "t", "")], NOW))
    bar = buckets([Segment(NOW, NOW, U, "t", "")], NOW)
    assert [i for i, b in enumerate(bar) if b.status is not None] == [89]


def test_an_instant_at_now_on_a_bucket_start_marks_the_new_bucket() -> None:
    boundary = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    bar = buckets([Segment(boundary, boundary, U, "t", "")], boundary)
    assert [i for i, b in enumerate(bar) if b.status is not None] == [89]


# -- incidents ------------------------------------------------------------------------------


def test_an_incident_ends_where_the_health_comes_back() -> None:
    found = incidents("a", [seg(60, 40, D, "slow", "sd"), seg(40, 0, H, "ok")], NOW)
    assert found == [Incident("a", ago(60), ago(40), D, "slow", "sd", 1200.0)]


def test_a_gap_in_observation_splits_a_run() -> None:
    found = incidents("a", [seg(60, 50, U, "one"), seg(40, 30, U, "two")], NOW)
    assert found == [
        Incident("a", ago(60), ago(50), U, "one", "", 600.0),
        Incident("a", ago(40), ago(30), U, "two", "", 600.0),
    ]


def test_touching_segments_of_a_run_stay_one_incident_named_by_the_first_worst() -> None:
    segments = [seg(60, 50, D, "d1"), seg(50, 40, U, "u1"), seg(40, 30, U, "u2"), seg(30, 20, D)]
    assert incidents("a", segments, NOW) == [Incident("a", ago(60), ago(20), U, "u1", "", 2400.0)]


def test_a_run_up_to_now_is_ongoing_and_one_that_stopped_before_is_not() -> None:
    [ongoing] = incidents("a", [seg(30, 0, U, "t")], NOW)
    assert (ongoing.end, ongoing.duration_s) == (None, 1800.0)
    [stopped] = incidents("a", [seg(30, 1, U, "t")], NOW)
    assert (stopped.end, stopped.duration_s) == (ago(1), 1740.0)
    assert incidents("a", [], NOW) == []
    assert incidents("a", [seg(30, 0, H)], NOW) == []


def test_an_ongoing_incident_that_started_after_now_lasts_zero() -> None:
    [future] = incidents("a", [seg(-5, -10, U, "t")], NOW)
    assert (future.end, future.duration_s) == (None, 0.0)


# -- the fleet ------------------------------------------------------------------------------


def _check(
    kind: CheckKind, name: str, status: Status, reason: Reason, since: datetime | None
) -> CheckStatus:
    return CheckStatus(
        name=name, kind=kind, url="http://x", status=status, reason=reason, detail="", since=since
    )


def _service(name: str, *checks: CheckStatus) -> ServiceStatus:
    return ServiceStatus(
        name=name, status=H, reason=Reason.OK, detail="", url="http://x", checks=list(checks)
    )


def _fleet(*services: ServiceStatus) -> FleetStatus:
    return FleetStatus(status=H, generated_at=NOW, counts={}, services=list(services))


def test_a_smoke_check_s_changes_are_filed_under_its_own_id() -> None:
    fleet = _fleet(
        _service(
            "a",
            _check(CheckKind.HEALTH, "health", H, Reason.OK, ago(60)),
            _check(CheckKind.RPC, "db", H, Reason.OK, ago(10)),
        )
    )
    changes = [change(60, U, "timeout", cid="a/rpc/db")]
    a = fleet_history(changes, fleet, NOW).services["a"]
    # rpc down 50 of 60 min: degraded, so not up but available
    assert a.uptime_24h == Uptime(10 / 60, 1.0, 3600.0)
    assert [(i.status, i.reason) for i in a.incidents] == [(D, "timeout")]


def test_a_check_not_checked_yet_adds_no_current_state() -> None:
    fleet = _fleet(_service("a", _check(CheckKind.HEALTH, "health", K, Reason.NOT_CHECKED, ago(5))))
    a = fleet_history([change(30, H, "ok")], fleet, NOW).services["a"]
    assert a.uptime_24h == Uptime(1.0, 1.0, 1800.0)


def test_a_check_without_since_is_judged_by_its_changes_alone() -> None:
    fleet = _fleet(_service("a", _check(CheckKind.HEALTH, "health", U, Reason.TIMEOUT, None)))
    history = fleet_history([change(30, H, "ok")], fleet, NOW)
    a = history.services["a"]
    assert (a.name, a.uptime_24h, a.incidents) == ("a", Uptime(1.0, 1.0, 1800.0), [])


def test_windows_are_24_hours_and_7_days() -> None:
    fleet = _fleet(_service("a", _check(CheckKind.HEALTH, "health", H, Reason.OK, ago(60))))
    changes = [change(8 * 24 * 60, U, "old"), change(2 * 24 * 60, H, "ok")]
    a = fleet_history(changes, fleet, NOW).services["a"]
    assert a.uptime_24h == Uptime(1.0, 1.0, 86400.0)
    # the week: 5 of its 7 days down (the 8-day-old change covers the week's start)
    assert a.uptime_7d == Uptime(2 / 7, 2 / 7, 7 * 86400.0)


@pytest.mark.parametrize(
    ("ended_minutes_ago", "shown"), [(7 * 24 * 60, True), (7 * 24 * 60 + 1, False)]
)
def test_an_incident_is_listed_for_a_week_after_it_ended(
    ended_minutes_ago: int, shown: bool
) -> None:
    fleet = _fleet(
        _service("a", _check(CheckKind.HEALTH, "health", H, Reason.OK, ago(ended_minutes_ago)))
    )
    changes = [change(ended_minutes_ago + 10, U, "t")]
    history = fleet_history(changes, fleet, NOW)
    assert len(history.incidents) == (1 if shown else 0)
    assert len(history.services["a"].incidents) == (1 if shown else 0)


def test_only_services_with_a_bar_get_buckets() -> None:
    fleet = _fleet(
        _service("a", _check(CheckKind.HEALTH, "health", H, Reason.OK, ago(60))),
        _service("b", _check(CheckKind.HEALTH, "health", H, Reason.OK, ago(60))),
    )
    history = fleet_history([], fleet, NOW, bars={"b"})
    assert history.services["a"].buckets == []
    assert [b.status for b in history.services["b"].buckets][-6:] == [None, H, H, H, H, H]
    assert len(fleet_history([], fleet, NOW).services["a"].buckets) == 90


def _flapping(n: int) -> list[StatusChange]:
    """`n` incidents of 1 min, one every 10 min, the newest ended 5 min ago."""
    out = []
    for i in range(n):
        out += [change(10 * i + 6, U, f"i{i}"), change(10 * i + 5, H, "ok")]
    return out


@pytest.mark.parametrize(("n", "listed"), [(20, 20), (21, 20)])
def test_the_fleet_lists_at_most_20_incidents_newest_first(n: int, listed: int) -> None:
    fleet = _fleet(_service("a", _check(CheckKind.HEALTH, "health", H, Reason.OK, ago(5))))
    history = fleet_history(_flapping(n), fleet, NOW)
    assert [i.reason for i in history.incidents] == [f"i{i}" for i in range(listed)]
    assert len(history.services["a"].incidents) == n  # a service's own list is not cut


def test_ongoing_incidents_come_first_then_by_end_then_by_start() -> None:
    fleet = _fleet(
        _service("a", _check(CheckKind.HEALTH, "health", U, Reason.TIMEOUT, ago(100))),
        _service("b", _check(CheckKind.HEALTH, "health", H, Reason.OK, ago(10))),
        _service("c", _check(CheckKind.HEALTH, "health", H, Reason.OK, ago(10))),
        _service("d", _check(CheckKind.HEALTH, "health", H, Reason.OK, ago(5))),
        _service("e", _check(CheckKind.HEALTH, "health", U, Reason.TIMEOUT, ago(1))),
    )
    changes = [
        change(30, U, "b", cid="b/health/health"),
        change(20, U, "c", cid="c/health/health"),
        change(300, U, "d", cid="d/health/health"),
    ]
    history = fleet_history(changes, fleet, NOW)
    assert [(i.service, i.end) for i in history.incidents] == [
        ("e", None),  # ongoing, the newest start first
        ("a", None),
        ("d", ago(5)),  # ended most recently
        ("c", ago(10)),  # b and c ended together: the later start first
        ("b", ago(10)),
    ]
