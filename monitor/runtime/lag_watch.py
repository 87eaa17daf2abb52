"""The monitor's own lateness: how far behind its event loop and its schedule run.

They fail differently. A loop that lags (a callback hogging it, a long pause) inflates every
latency measured meanwhile. A schedule that falls behind (more checks a second than the CPU
can run) leaves the latencies honest but runs every check less often than configured, and the
loop need not lag at all (docs/benchmarks.md: tens of ms of loop lag while checks started
seconds late). So both are watched and exported, each is warned about at most once a minute,
and both feed the alert rules (`loop_lag`, `schedule_lag`). So is a run skipped because the
check's previous run still goes on: a service that hangs through a timeout equal to its interval
has every other run skipped, and a line for each would be a log line per check and interval.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from monitor.latency import LatencyWindows
from monitor.metrics.daemon_metrics import MonitorMetrics

__all__ = [
    "LOOP_LAG_PERIOD",
    "LOOP_LAG_WARN",
    "SCHEDULE_LAG_WARN",
    "SCHEDULE_LAG_WINDOW",
    "LagWatch",
]

LOOP_LAG_PERIOD = 0.25
"""How often the loop's timer delay is sampled (and the schedule's lateness looked at)."""
LOOP_LAG_WARN = 0.05
"""Loop lag (seconds) worth a warning: every latency measured meanwhile is inflated by it, and
50 ms is ten times the fleet's tightest target."""
SCHEDULE_LAG_WINDOW = 60.0
"""The schedule's lateness is judged as the p99 of the checks started in the last minute."""
SCHEDULE_LAG_WARN = 1.0
"""A p99 start delay over this means the monitor cannot keep up with its checks."""
WARN_EVERY = 60.0
"""Seconds between two warnings of one kind: a lagging monitor must not flood its own log."""


class LagWatch:
    """Loop lag (sampled by `run`) and schedule lag (fed by the scheduler, one value per
    started check) with their metrics and warnings."""

    def __init__(
        self,
        metrics: MonitorMetrics,
        log: Any,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.log = log
        self.clock = clock
        self.loop_lag = 0.0
        self._schedule = LatencyWindows(SCHEDULE_LAG_WARN, windows=(SCHEDULE_LAG_WINDOW,))
        self._warned: dict[str, float] = {}
        self._skipped_since_warning = 0

    def observe_schedule_lag(self, lag: float) -> None:
        """How late one check started; the scheduler calls this on every start."""
        self.metrics.schedule_lag.observe(lag)
        self._schedule.record(lag, self.clock())

    def schedule_lag_p99(self) -> float | None:
        """p99 start delay of the checks started in the last minute; None when none started."""
        return self._schedule.summary(SCHEDULE_LAG_WINDOW, self.clock()).p99_s

    def check_schedule(self) -> None:
        """Warn when checks start more than SCHEDULE_LAG_WARN late (p99 over the window)."""
        summary = self._schedule.summary(SCHEDULE_LAG_WINDOW, self.clock())
        if summary.p99_s is not None and summary.p99_s > SCHEDULE_LAG_WARN:
            self._warn(
                "monitor.schedule_behind",
                p99_ms=round(summary.p99_s * 1000, 1),
                window="1m",
                checks_started=summary.count,
                note="checks start late and run less often than configured: "
                "give the monitor more CPU or shard it (--shards)",
            )

    def observe_skipped(self, check_id: str) -> None:
        """A run not started because the check's previous one is still going (the scheduler
        calls this): counted every time, warned about once a minute."""
        self.metrics.checks_skipped_total.inc()
        self._skipped_since_warning += 1
        if self._warn(
            "check.skipped_overlap",
            check=check_id,
            skipped=self._skipped_since_warning,
            note="runs skipped since the last warning (all in monitor_checks_skipped_total)",
        ):
            self._skipped_since_warning = 0

    def _warn(self, event: str, **fields: Any) -> bool:
        now = self.clock()
        last = self._warned.get(event)
        if last is None or now - last >= WARN_EVERY:
            self._warned[event] = now
            self.log.warning(event, **fields)
            return True
        return False

    async def run(self) -> None:
        """Sample the loop's delay in waking a timer, and look at the schedule, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(LOOP_LAG_PERIOD)
            lag = max(0.0, loop.time() - before - LOOP_LAG_PERIOD)
            self.loop_lag = lag
            self.metrics.loop_lag.set(lag)
            self.metrics.loop_lag_observed.observe(lag)
            if lag > LOOP_LAG_WARN:
                self._warn(
                    "monitor.loop_lag_high",
                    lag_ms=round(lag * 1000, 1),
                    note="measured latencies are inflated by this much",
                )
            self.check_schedule()
