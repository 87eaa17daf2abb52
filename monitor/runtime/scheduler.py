"""Scheduling: APScheduler drives one short tick; each tick launches the checks that are due.

One APScheduler job per check is simple but costs O(n) per run in its job store: at 100,000
checks it fell seconds behind (docs/benchmarks.md, "Why the runtime's constants"). Grouping
checks per tick keeps the per-check cost at a heap push and pop, and the tick bounds the start
delay. The maths of "when is this check next due" is pure (`next_due`).
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
import logging
import time
import zlib
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Check

RunCheck = Callable[[Check], Coroutine[Any, Any, Any]]
_APSCHEDULER_LOG = logging.getLogger("monitor.schedule.apscheduler")
# A tick that finds the previous one still queued behind a busy loop is skipped and logged as a
# WARNING by APScheduler, dozens a second while 100,000 checks start. The tick is coalesced by
# design and lateness is exported (monitor_schedule_lag_seconds, event-loop lag); errors stay.
_APSCHEDULER_LOG.setLevel(logging.ERROR)
TICK = 0.01
"""Seconds between looks at the heap: the most a check starts late on an idle loop. Shorter
ticks cost CPU for nothing (uvloop's timers resolve ~1 ms)."""
SPREAD = 2.0
"""Seconds over which a small fleet's first runs (and so their phases) are spread."""
LAUNCH_BATCH = 32
"""Checks launched per turn of the loop at most (see `_launch_next`)."""
START_RATE = 1000.0
"""Checks per second the first round may launch at most: a larger fleet spreads its first
runs (and so its phases) over checks / START_RATE seconds, up to each check's interval."""


def first_offset(check_id: str, interval: float, spread: float) -> float:
    """A stable offset in [0, min(interval, spread)) so checks do not all fire at once and a
    restart keeps the same phase."""
    return _phase_fraction(check_id) * min(interval, spread)


def _phase_fraction(check_id: str, crc32: Callable[[bytes], int] = zlib.crc32) -> float:
    """Where in the spread a check's phase falls, [0, 1): the same after a restart. CRC-32
    spreads ids evenly (docs/benchmarks.md) at a sixth of blake2b's cost, 110,000 at start-up."""
    return crc32(check_id.encode()) / 2**32


def next_due(due: float, interval: float, now: float) -> float:
    """The run after `due`, on the same phase; runs missed while late are skipped (coalesced),
    never bunched up."""
    following = due + interval
    if following > now:
        return following
    missed = int((now - due) // interval)
    return due + (missed + 1) * interval


class _TickExecutor(AsyncIOExecutor):  # type: ignore[misc]  # apscheduler is untyped
    """APScheduler's asyncio executor, except that a tick cancelled by `shutdown()` (one
    still queued behind a busy loop when the daemon stops) is not logged as an ERROR with a
    traceback: it is how a clean stop goes. Other errors are logged as before."""

    def _run_job_error(self, job_id: str, exc: BaseException, traceback: Any = None) -> None:
        if isinstance(exc, asyncio.CancelledError):
            self._run_job_success(job_id, [])  # the instance bookkeeping, with no event
            return
        super()._run_job_error(job_id, exc, traceback)


class CheckScheduler:
    """Launch each check every `check.interval` seconds, never two runs of one check at once."""

    def __init__(
        self,
        run: RunCheck,
        *,
        on_lag: Callable[[float], None] = lambda _lag: None,
        on_skipped: Callable[[str], None] = lambda _check_id: None,
        spread: float = SPREAD,
        start_rate: float = START_RATE,
        monotonic: Callable[[], float] = time.monotonic,
        tick: float = TICK,
    ) -> None:
        self._run = run
        self._on_lag = on_lag
        self._on_skipped = on_skipped
        self._spread = spread
        self._start_rate = start_rate
        self._now = monotonic
        self._tick = tick
        self._heap: list[tuple[float, int, str]] = []
        self._checks: dict[str, Check] = {}
        self._version: dict[str, int] = {}
        self._due: dict[str, float] = {}
        self._queue: collections.deque[tuple[str, float]] = collections.deque()
        """Due checks waiting for their turn of the loop (see `_launch_next`)."""
        self._draining = False
        self._unphased: set[str] = set()
        """Added before start() on their own phase (not `immediately`, not `run_soon`)."""
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._seq = itertools.count()
        self._scheduler = AsyncIOScheduler(
            timezone=UTC, logger=_APSCHEDULER_LOG, executors={"default": _TickExecutor()}
        )

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    @property
    def spread(self) -> float:
        """Phases are spread over this: 2 s for a small fleet; 100,000 checks would all be due
        in the same 2 s of every interval (50,000 launches/s), so a large one takes longer."""
        return max(self._spread, len(self._checks) / self._start_rate)

    def start(self) -> None:
        """Checks added before now take their phase here, once the fleet's size (and so the
        spread) is known: one heapify, not a push per check (100,000 at start-up)."""
        unphased, checks = self._unphased, self._checks
        if len(unphased) == len(checks):  # start-up: every check, none looked up by id
            self._phase(list(checks.values()))
        else:
            self._phase([checks[i] for i in unphased if i in checks])
        unphased.clear()
        self._scheduler.add_job(
            self._launch_due,
            trigger=IntervalTrigger(seconds=self._tick, timezone=UTC),
            id="tick",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.start()

    def _phase(self, checks: list[Check]) -> None:
        """Each check's next run on its own phase of the current spread, one heapify."""
        now, spread, fraction = self._now(), self.spread, _phase_fraction
        ids = [c.id for c in checks]
        dues = [now + fraction(c.id) * min(c.interval, spread) for c in checks]
        versions = list(itertools.islice(self._seq, len(ids)))
        self._version.update(zip(ids, versions, strict=True))
        self._due.update(zip(ids, dues, strict=True))
        self._heap.extend(zip(dues, versions, ids, strict=True))
        heapq.heapify(self._heap)

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def _push(self, check_id: str, due: float) -> None:
        version = next(self._seq)
        self._version[check_id] = version
        self._due[check_id] = due
        heapq.heappush(self._heap, (due, version, check_id))

    def add(self, check: Check, *, immediately: bool = False) -> None:
        """Schedule (or reschedule, keeping nothing of the old timing) a check; before
        `start()`, one not `immediately` is phased there."""
        self._checks[check.id] = check
        if not immediately and not self.running:
            self._unphased.add(check.id)
            self._version.pop(check.id, None)  # an earlier entry of it is stale
            self._due.pop(check.id, None)
            return
        self._unphased.discard(check.id)
        offset = 0.0 if immediately else first_offset(check.id, check.interval, self.spread)
        self._push(check.id, self._now() + offset)

    def add_many(self, checks: Iterable[Check]) -> None:
        """`add` of each (a reload's 100,000 changed checks): one heapify, not a push each."""
        checks = list(checks)
        ids = [check.id for check in checks]
        if not self.running:  # start() phases them all: a start-up's 100,000 in bulk
            self._checks.update(zip(ids, checks, strict=True))
            self._unphased.update(ids)
            for earlier in (self._version, self._due):  # an earlier entry is stale
                if earlier:
                    for check_id in ids:
                        earlier.pop(check_id, None)
            return
        self._checks.update(zip(ids, checks, strict=True))
        self._unphased.difference_update(ids)
        self._phase(checks)

    def remove(self, check_id: str) -> None:
        self._checks.pop(check_id, None)
        self._version.pop(check_id, None)  # its heap entry is now stale and will be dropped
        self._due.pop(check_id, None)

    def run_soon(self, check_id: str, delay: float) -> None:
        """Bring a check's next run forward (a failing check is re-checked sooner); never
        pushes it back."""
        soon = self._now() + delay
        due = self._due.get(check_id, float("inf"))
        if check_id in self._unphased and check_id in self._checks:  # its phase, as start() sets it
            due = self._now() + first_offset(check_id, self._checks[check_id].interval, self.spread)
        if check_id in self._checks and soon < due:
            self._unphased.discard(check_id)
            self._push(check_id, soon)

    async def _launch_due(self) -> None:
        """A coroutine on purpose: APScheduler runs plain functions in a thread pool, and
        checks must be launched on the event loop."""
        now = self._now()
        heap = self._heap
        while heap and heap[0][0] <= now:
            due, version, check_id = heapq.heappop(heap)
            if self._version.get(check_id) != version:
                continue  # removed or rescheduled since this entry was pushed
            check = self._checks[check_id]
            self._push(check_id, next_due(due, check.interval, now))
            self._queue.append((check_id, due))
        if self._queue and not self._draining:
            self._draining = True
            asyncio.get_running_loop().call_soon(self._launch_next)

    def _launch_next(self) -> None:
        """Launch up to `LAUNCH_BATCH` due checks, and the rest on the next turns of the loop.

        Every launched check sends its request in the loop's next pass. The batch bounds how
        long that pass keeps the loop from other work (each send costs CPU); the wait of an
        answer that arrives meanwhile is not measured (the probe ends its duration at the
        kernel's receive stamp, monitor/probes/stamped_transport.py), so there is no need to go
        one check per turn, which cost an extra turn of the loop per check."""
        loop = asyncio.get_running_loop()
        queue = self._queue
        for _ in range(min(LAUNCH_BATCH, len(queue))):
            check_id, due = queue.popleft()
            check = self._checks.get(check_id)
            if check is None:
                continue
            if check_id in self._running:
                self._on_skipped(check_id)
                continue
            self._on_lag(max(0.0, self._now() - due))
            task = loop.create_task(self._run(check), name=check_id)
            self._running[check_id] = task
            task.add_done_callback(self._finished)
        if queue and self._scheduler.running:
            loop.call_soon(self._launch_next)
        else:
            queue.clear()
            self._draining = False

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._running.pop(task.get_name(), None)
