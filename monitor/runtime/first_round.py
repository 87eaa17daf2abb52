"""The first round after a start: every polled check's first verdict. Logged as one
`monitor.first_round` event with the fleet's counts, not as a `status_changed` event per
healthy check and service (210,000 lines at 100,000 services, on every restart); a first
verdict that is not healthy is news and is still logged on its own.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from monitor.model import Reason, Status

__all__ = ["FirstRound", "quiet_first_verdict"]


NO_NEWS = frozenset({Reason.NOT_CHECKED, Reason.NEVER_REPORTED})
"""A push check that has not reported yet (its first deadline is ahead): unknown, as before."""


def quiet_first_verdict(first: bool, status: Status, reason: Reason) -> bool:
    """Whether a status change is a first verdict that says nothing new: healthy, or still
    no news. Unhealthy, degraded or unknown for a cause, at the first look, is what an
    operator must see at once."""
    return first and (status is Status.HEALTHY or reason in NO_NEWS)


class FirstRound:
    """The checks still waiting for their first verdict since the start; reports once, when
    the last of them has one. Checks a reload adds are not waited for; ones it removes are
    no longer waited for."""

    def __init__(self, waiting: Iterable[str], clock: Any = time.monotonic) -> None:
        self._waiting = set(waiting)
        self._clock = clock
        self._started = clock()
        self.checks = len(self._waiting)
        self.done = not self._waiting

    def judged(self, check_id: str) -> bool:
        """Count one first verdict; True exactly once: when it was the last one waited for."""
        if self.done:
            return False
        self._waiting.discard(check_id)
        return self._finish()

    def forget(self, check_ids: Iterable[str]) -> bool:
        """Checks removed by a reload; True when that leaves nothing to wait for."""
        if self.done:
            return False
        self._waiting.difference_update(check_ids)
        return self._finish()

    def _finish(self) -> bool:
        if self._waiting:
            return False
        self.done = True
        return True

    def report(self, statuses: Iterable[Status]) -> dict[str, Any]:
        """The `monitor.first_round` event's fields: how long it took, how many checks, and
        how many services are in each status (every status named, zeros too)."""
        counts = Counter(statuses)
        return {
            "seconds": round(self._clock() - self._started, 3),
            "checks": self.checks,
            "services": {status.value: counts.get(status, 0) for status in Status},
        }
