"""How a check's status moves in time. Pure: the clock is a parameter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.model import Status, Verdict


@dataclass(frozen=True, slots=True)
class CheckState:
    """The last verdict of one check, and since when its status has held."""

    verdict: Verdict
    checked_at: datetime
    since: datetime
    consecutive: int
    duration_s: float
    previous: Status | None = None
    """The status before this one; None on the first check."""

    @property
    def changed(self) -> bool:
        return self.consecutive == 1 and self.previous is not self.verdict.status


def advance(
    prev: CheckState | None, verdict: Verdict, checked_at: datetime, duration_s: float
) -> CheckState:
    """The state after one more check. `since` moves only when the status changes."""
    if prev is not None and prev.verdict.status is verdict.status:
        return CheckState(
            verdict=verdict,
            checked_at=checked_at,
            since=prev.since,
            consecutive=prev.consecutive + 1,
            duration_s=duration_s,
            previous=prev.previous,
        )
    return CheckState(
        verdict=verdict,
        checked_at=checked_at,
        since=checked_at,
        consecutive=1,
        duration_s=duration_s,
        previous=None if prev is None else prev.verdict.status,
    )


@dataclass(frozen=True, slots=True)
class ServiceTrack:
    """A service's aggregated status and since when it has held (for `since` in /status)."""

    status: Status
    since: datetime
    judged: bool = field(default=True, compare=False)
    """False only for the track of no news that a service has before its first verdict."""


def track_service(prev: ServiceTrack | None, status: Status, now: datetime) -> ServiceTrack:
    if prev is not None and prev.status is status:
        return prev
    return ServiceTrack(status=status, since=now)
