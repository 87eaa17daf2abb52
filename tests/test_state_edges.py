"""Every field of a check's state after each kind of step: the time and duration of the last
check are what /status shows as `checked_at` and `duration_ms`, changed or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.model import Reason, Status, Verdict
from monitor.state import CheckState, advance

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
UP = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="up")
DOWN = Verdict(status=Status.UNHEALTHY, reason=Reason.TIMEOUT, detail="down")


def test_first_check() -> None:
    assert advance(None, UP, T0, 0.25) == CheckState(
        verdict=UP, checked_at=T0, since=T0, consecutive=1, duration_s=0.25, previous=None
    )


def test_same_status_again_keeps_since_and_takes_the_new_time_and_duration() -> None:
    first = advance(None, UP, T0, 0.25)
    later = T0 + timedelta(seconds=30)
    assert advance(first, UP, later, 0.5) == CheckState(
        verdict=UP, checked_at=later, since=T0, consecutive=2, duration_s=0.5, previous=None
    )


def test_a_change_restarts_since_and_remembers_the_old_status() -> None:
    first = advance(None, UP, T0, 0.25)
    later = T0 + timedelta(seconds=30)
    assert advance(first, DOWN, later, 5.0) == CheckState(
        verdict=DOWN,
        checked_at=later,
        since=later,
        consecutive=1,
        duration_s=5.0,
        previous=Status.HEALTHY,
    )
