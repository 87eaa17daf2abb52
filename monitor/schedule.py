"""APScheduler wiring, and nothing else: one interval job per check, first runs spread out.

Kept behind this small class so the strategy (one job per check today; grouped ticks for very
large fleets) can change without touching the daemon.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Check

RunCheck = Callable[[Check], Awaitable[Any]]


def first_offset(check_id: str, interval: float, spread: float) -> float:
    """A stable offset in [0, min(interval, spread)) so checks do not all fire at once and a
    restart keeps the same phase."""
    digest = hashlib.blake2b(check_id.encode(), digest_size=8).digest()
    fraction = int.from_bytes(digest, "big") / 2**64
    return fraction * min(interval, spread)


class CheckScheduler:
    def __init__(
        self,
        run: RunCheck,
        *,
        on_lag: Callable[[float], None] = lambda _lag: None,
        on_skipped: Callable[[str], None] = lambda _job_id: None,
        spread: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._run = run
        self._on_lag = on_lag
        self._on_skipped = on_skipped
        self._spread = spread
        self._clock = clock
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self._scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES)

    def _submitted(self, event: JobEvent) -> None:
        times = getattr(event, "scheduled_run_times", None) or []
        if times:
            lag = (self._clock() - max(times)).total_seconds()
            self._on_lag(max(lag, 0.0))

    def _skipped(self, event: JobEvent) -> None:
        self._on_skipped(event.job_id)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def add(self, check: Check, *, immediately: bool = False) -> None:
        offset = 0.0 if immediately else first_offset(check.id, check.interval, self._spread)
        self._scheduler.add_job(
            self._run,
            trigger=IntervalTrigger(seconds=check.interval, timezone=UTC),
            args=[check],
            id=check.id,
            name=check.id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(check.interval)),
            next_run_time=self._clock() + timedelta(seconds=offset),
            replace_existing=True,
        )

    def remove(self, check_id: str) -> None:
        if self._scheduler.get_job(check_id) is not None:
            self._scheduler.remove_job(check_id)

    def run_soon(self, check_id: str, delay: float) -> None:
        """Bring a check's next run forward (a failing check is re-checked sooner)."""
        job = self._scheduler.get_job(check_id)
        if job is not None:
            soon = self._clock() + timedelta(seconds=delay)
            if job.next_run_time is None or soon < job.next_run_time:
                job.modify(next_run_time=soon)

    def job_ids(self) -> set[str]:
        return {job.id for job in self._scheduler.get_jobs()}
