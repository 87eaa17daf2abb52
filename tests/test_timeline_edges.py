"""The uptime bar's slices and deploy marks at their edges: a run exactly one bucket long, a
detail at the cut, a deploy exactly at the bar's first instant and at now. Expected texts
and positions are written out. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.alerting.maintenance import Deploy
from monitor.model import Status
from monitor.web.history import Bucket
from monitor.web.timeline import Bar, DeployMark, bar, bars, deploy_marks, deploy_text

H, D, U, K = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN
NOW = datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
FIRST = datetime(2026, 11, 29, 12, 16, tzinfo=UTC)
"""The uptime bar's first instant at NOW: 90 slices of 16 min, the last one [12:00, 12:16)."""
SLICE = timedelta(minutes=16)


def at(minute: int) -> datetime:
    return datetime(2026, 11, 30, 10, minute, tzinfo=UTC)


def slices(*cells: tuple[Status | None, str, str]) -> list[Bucket]:
    """Consecutive 16-min buckets from 10:00, one per (status, reason, detail)."""
    start = at(0)
    return [
        Bucket(start + i * SLICE, start + (i + 1) * SLICE, *cell) for i, cell in enumerate(cells)
    ]


@pytest.mark.parametrize(
    ("length", "title"),
    [
        (SLICE, "10:00 to 10:16 UTC: Healthy"),
        (SLICE + timedelta(seconds=1), "10:00 to 10:16 UTC (16 min): Healthy"),
        (2 * SLICE, "10:00 to 10:32 UTC (32 min): Healthy"),
        (timedelta(hours=3, minutes=12), "10:00 to 13:12 UTC (3 h 12 min): Healthy"),
    ],
)
def test_a_run_says_how_long_only_when_longer_than_one_slice(length: timedelta, title: str) -> None:
    assert bar(Bucket(at(0), at(0) + length, H, "ok", "")).title == title


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        (Bucket(at(0), at(16), None), Bar("none", "10:00 to 10:16 UTC: no data")),
        (Bucket(at(0), at(16), H, "ok", "fine"), Bar("healthy", "10:00 to 10:16 UTC: Healthy")),
        (
            Bucket(at(0), at(16), D, "not_found", ""),
            Bar("degraded", "10:00 to 10:16 UTC: Degraded — No health endpoint (HTTP 404)"),
        ),
        (
            Bucket(at(0), at(16), K, "not_checked", "x"),
            Bar("unknown", "10:00 to 10:16 UTC: Unknown — Not checked yet (x)"),
        ),
        (
            Bucket(at(0), at(16), U, "an_old_code", "d"),
            Bar("unhealthy", "10:00 to 10:16 UTC: Down — an old code (d)"),
        ),
    ],
)
def test_a_slice_names_status_and_for_a_problem_why(bucket: Bucket, expected: Bar) -> None:
    assert bar(bucket) == expected
    assert (bar(bucket).x, bar(bucket).width) == (0, 4)


@pytest.mark.parametrize(("length", "shown"), [(119, 119), (120, 120), (121, 120)])
def test_a_detail_is_cut_at_120_characters(length: int, shown: int) -> None:
    detail = "".join(chr(ord("a") + i % 26) for i in range(length))
    title = bar(Bucket(at(0), at(16), U, "timeout", detail)).title
    assert title == f"10:00 to 10:16 UTC: Down — Not answering in time ({detail[:shown]})"


def test_unmerged_slices_sit_five_units_apart_four_wide() -> None:
    got = bars(slices((None, "", ""), (H, "ok", ""), (U, "timeout", "t")))
    assert got == [
        Bar("none", "10:00 to 10:16 UTC: no data", 0, 4),
        Bar("healthy", "10:16 to 10:32 UTC: Healthy", 5, 4),
        Bar("unhealthy", "10:32 to 10:48 UTC: Down — Not answering in time (t)", 10, 4),
    ]
    assert bars([]) == [] and bars([], merge=True) == []


def test_slices_are_not_merged_unless_asked() -> None:
    same = slices((H, "ok", ""), (H, "ok", ""))
    assert [(b.x, b.width) for b in bars(same)] == [(0, 4), (5, 4)]
    assert [(b.x, b.width) for b in bars(same, merge=True)] == [(0, 9)]


def test_merged_runs_split_on_status_reason_or_detail() -> None:
    got = bars(
        slices(
            (U, "timeout", "a"),
            (U, "timeout", "a"),
            (U, "timeout", "b"),  # another detail
            (U, "connection_refused", "b"),  # another reason
            (D, "connection_refused", "b"),  # another status
            (D, "connection_refused", "b"),
            (D, "connection_refused", "b"),
        ),
        merge=True,
    )
    assert [(b.css, b.x, b.width) for b in got] == [
        ("unhealthy", 0, 9), ("unhealthy", 10, 4), ("unhealthy", 15, 4), ("degraded", 20, 14)
    ]  # fmt: skip
    assert got[0].title == "10:00 to 10:32 UTC (32 min): Down — Not answering in time (a)"
    assert got[1].title == "10:32 to 10:48 UTC: Down — Not answering in time (b)"
    assert got[3].title.startswith("11:04 to 11:52 UTC (48 min): Degraded")


def test_one_run_over_the_whole_bar_is_one_bar() -> None:
    got = bars(slices(*[(H, "ok", "")] * 90), merge=True)
    assert got == [Bar("healthy", "10:00 to 10:00 UTC (1 d): Healthy", 0, 449)]


def deploy(started_at: datetime, passed: bool | None = True, service: str = "auth") -> Deploy:
    return Deploy(id="d", services=(service,), version="v1", started_at=started_at, passed=passed)


@pytest.mark.parametrize(
    ("started_at", "x"),
    [
        (FIRST - timedelta(microseconds=1), None),  # before the bar
        (FIRST, 0.0),
        (FIRST + timedelta(minutes=1), 0.3),  # 1/16 of a slice: 0.3125
        (FIRST + timedelta(minutes=3), 0.9),  # 0.9375
        (FIRST + 45 * SLICE, 225.0),
        (NOW, 446.6),  # 89 slices and 5/16 of the next: 445 + 1.5625
        (NOW + timedelta(microseconds=1), None),  # announced for later than now
    ],
)
def test_a_deploy_is_marked_only_within_the_bar(started_at: datetime, x: float | None) -> None:
    marks = deploy_marks([deploy(started_at)], "auth", NOW)
    assert [m.x for m in marks] == ([] if x is None else [x])


def test_deploys_are_marked_oldest_first_and_only_their_services() -> None:
    late = Deploy(id="1", services=("db", "auth"), version="v2", started_at=at(30), passed=None)
    early = Deploy(id="2", services=("auth",), version="v1", started_at=at(0), passed=False)
    elsewhere = Deploy(id="3", services=("db",), version="v3", started_at=at(10))
    assert deploy_marks(iter([late, elsewhere, early]), "auth", NOW) == [
        DeployMark(407.5, "Deploy v1 at 10:00 UTC, gate failed", False),
        DeployMark(416.9, "Deploy v2 at 10:30 UTC, gate running", None),
    ]
    assert deploy_marks([late, early], "email", NOW) == []
    assert deploy_marks([], "auth", NOW) == []


@pytest.mark.parametrize(
    ("passed", "verdict"), [(True, "gate passed"), (False, "gate failed"), (None, "gate running")]
)
def test_a_deploy_s_text_is_in_utc_whatever_zone_it_was_announced_in(
    passed: bool | None, verdict: str
) -> None:
    berlin = datetime(2026, 11, 30, 11, 5, tzinfo=timezone(timedelta(hours=1)))
    assert deploy_text(deploy(berlin, passed)) == f"Deploy v1 at 10:05 UTC, {verdict}"


@pytest.mark.usefixtures("new_york_machine")
def test_a_deploy_s_text_is_in_utc_whatever_zone_the_machine_is_in() -> None:
    assert deploy_text(deploy(at(5))) == "Deploy v1 at 10:05 UTC, gate passed"
