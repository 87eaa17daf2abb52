"""Maintenance windows at their edges: the instant a window opens and closes, the fall-back
night's repeated hour, which window a service is shown under, what a deploy's window says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerting.maintenance import Deploy, MaintenanceWindow, last_start, service_windows

BERLIN = "Europe/Berlin"
SECOND_PASS_BEGINS = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 03:00 CEST -> 02:00 CET


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


def daily_0230(duration: float = 7200.0) -> MaintenanceWindow:
    return MaintenanceWindow(
        name="nightly", services=("db",), schedule="30 2 * * *", duration=duration, timezone=BERLIN
    )


def test_a_window_open_over_the_fall_back_hour_stays_open_through_it() -> None:
    """Daily 02:30 Berlin for 2 h on 25 October: it opens at 02:30 CEST (00:30 UTC) and is
    open until 02:30 UTC. In the second pass of 02:00-03:00 (02:00 CET on) croniter, stepping
    back in wall time, found the day before's 02:30: the window closed from 01:00 to 01:29 UTC
    and pages went out in the middle of the maintenance."""
    window = daily_0230()
    opening = (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30))
    minutes = [utc(2026, 10, 25, 0, 30) + timedelta(minutes=m) for m in range(120)]
    assert [window.occurrence(now) for now in minutes] == [opening] * 120
    assert window.occurrence(utc(2026, 10, 25, 0, 29, 59)) is None
    assert window.occurrence(utc(2026, 10, 25, 2, 30)) is None


@pytest.mark.parametrize(
    ("now", "started"),
    [
        (SECOND_PASS_BEGINS, utc(2026, 10, 25, 0, 30)),
        (SECOND_PASS_BEGINS + timedelta(minutes=29), utc(2026, 10, 25, 0, 30)),
        (SECOND_PASS_BEGINS + timedelta(minutes=30), utc(2026, 10, 25, 0, 30)),  # 02:30 again
        (SECOND_PASS_BEGINS + timedelta(minutes=59), utc(2026, 10, 25, 0, 30)),
        (SECOND_PASS_BEGINS - timedelta(microseconds=1), utc(2026, 10, 25, 0, 30)),
        (utc(2026, 10, 25, 0, 30) - timedelta(microseconds=1), utc(2026, 10, 24, 0, 30)),
    ],
)
def test_the_repeated_wall_time_fires_once_at_the_first_pass(
    now: datetime, started: datetime
) -> None:
    assert last_start("30 2 * * *", BERLIN, now) == started


def test_a_weekly_start_in_the_repeated_hour_counts_its_first_pass() -> None:
    """At 03:00 CET croniter's two latest runs are 02:00 CET and 02:00 CEST: one wall time,
    kept at its first pass."""
    assert last_start("0 2 * * SUN", BERLIN, utc(2026, 10, 25, 2, 0)) == utc(2026, 10, 25, 0, 0)


def test_last_start_is_exact_to_the_microsecond() -> None:
    fires = utc(2026, 3, 22, 1, 0)  # Sunday 02:00 CET
    assert last_start("0 2 * * SUN", BERLIN, fires) == fires
    assert last_start("0 2 * * SUN", BERLIN, fires - timedelta(microseconds=1)) == utc(
        2026, 3, 15, 1, 0
    )


@pytest.mark.usefixtures("new_york_machine")
def test_openings_are_in_utc_whatever_the_host_zone() -> None:
    window = daily_0230()
    begins, ends = window.occurrence(utc(2026, 10, 25, 1, 0)) or (None, None)
    assert begins is not None and ends is not None
    assert (begins.isoformat(), ends.isoformat()) == (
        "2026-10-25T00:30:00+00:00",
        "2026-10-25T02:30:00+00:00",
    )
    following = window.next_start(utc(2026, 11, 1, 12, 0))
    assert following is not None and following.isoformat() == "2026-11-02T01:30:00+00:00"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 3, 22, 0, 59), utc(2026, 3, 22, 1, 0)),
        (utc(2026, 3, 22, 1, 0), utc(2026, 3, 29, 1, 0)),  # at its start: the next one
        # spring forward: 02:00 does not exist on 29 March, it opens at 03:00 CEST
        (utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 1, 0)),
        (utc(2026, 3, 29, 1, 0), utc(2026, 4, 5, 0, 0)),
    ],
)
def test_next_start_of_a_recurring_window(now: datetime, expected: datetime) -> None:
    window = MaintenanceWindow(
        name="w", services=("a",), schedule="0 2 * * SUN", duration=3600.0, timezone=BERLIN
    )
    assert window.next_start(now) == expected


def test_next_start_of_a_one_off_is_its_start_until_it_has_begun() -> None:
    window = MaintenanceWindow(
        name="x", services=("a",), start=utc(2026, 1, 1, 10), end=utc(2026, 1, 1, 11)
    )
    assert window.next_start(utc(2026, 1, 1, 10) - timedelta(microseconds=1)) == utc(2026, 1, 1, 10)
    assert window.next_start(utc(2026, 1, 1, 10)) is None
    assert window.next_start(utc(2026, 1, 1, 10, 30)) is None


def one_off(name: str, ends: datetime) -> MaintenanceWindow:
    return MaintenanceWindow(name=name, services=("db",), start=utc(2026, 1, 1), end=ends)


@pytest.mark.parametrize(
    ("windows", "shown"),
    [
        ((("a", 12), ("b", 13)), ("b", 13)),  # the one that ends last
        ((("b", 13), ("a", 12)), ("b", 13)),
        ((("a", 12), ("b", 12)), ("a", 12)),  # a tie: the first listed keeps it
        ((("b", 12), ("a", 12)), ("b", 12)),
    ],
)
def test_a_service_in_two_windows_is_shown_under_the_one_that_ends_last(
    windows: tuple[tuple[str, int], ...], shown: tuple[str, int]
) -> None:
    listed = [one_off(name, utc(2026, 1, 1, hour)) for name, hour in windows]
    held = service_windows(listed, {"db": {}}, utc(2026, 1, 1, 11))
    assert held == {"db": (shown[0], utc(2026, 1, 1, shown[1]))}


def test_a_window_silence_carries_its_comment_and_author() -> None:
    window = MaintenanceWindow(
        name="w",
        services=("db",),
        start=utc(2026, 1, 1),
        end=utc(2026, 1, 2),
        comment="disk swap",
        created_by="ops",
    )
    silence = window.silence(utc(2026, 1, 1), utc(2026, 1, 2))
    assert (silence.comment, silence.created_by) == ("disk swap", "ops")
    assert (silence.starts_at, silence.ends_at) == (utc(2026, 1, 1), utc(2026, 1, 2))


def test_a_deploy_window_says_it_is_a_deploy_and_which_version() -> None:
    deploy = Deploy(id="7", services=("db",), version="4f2a9c1", started_at=utc(2026, 1, 1))
    window = deploy.window(utc(2026, 1, 1, 0, 10))
    assert (window.name, window.created_by, window.comment) == (
        "deploy-7",
        "deploy",
        "deploy 4f2a9c1",
    )
    assert (window.start, window.end) == (utc(2026, 1, 1), utc(2026, 1, 1, 0, 10))
    silence = window.silence(utc(2026, 1, 1), utc(2026, 1, 1, 0, 10))
    assert silence.created_by == "deploy"
