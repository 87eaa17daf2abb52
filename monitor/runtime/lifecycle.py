"""The `Monitor`'s lifecycle: start (restore the store's states, start the background tasks
and the schedule) and stop (stop scheduling, give in-flight checks a grace, flush, close).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import aiohttp

from monitor.probes import polled
from monitor.probes.timing import timed_connector
from monitor.runtime.first_round import FirstRound
from monitor.runtime.latency_gauges import refresh_latency_gauges
from monitor.runtime.monitor_base import MonitorBase

__all__ = ["CANCEL_WAIT", "STOP_GRACE", "Lifecycle"]

STOP_GRACE = 5.0
"""Seconds in-flight checks get to finish at `stop()`: longer than most targets' answers, short
enough for an orchestrator's termination grace (Kubernetes: 30 s)."""
CANCEL_WAIT = 1.0
"""Seconds to let cancelled checks unwind (close their connections) before giving up on them."""


class Lifecycle(MonitorBase):
    """Start and stop, the store's restore and its periodic flush."""

    def _new_session(self) -> aiohttp.ClientSession:
        connector = timed_connector(
            limit=self.settings.connection_limit,
            ttl_dns_cache=self.settings.dns_cache_ttl_s,
            enable_cleanup_closed=True,
        )
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    async def start(self, *, schedule: bool = True) -> None:
        self.session = self._new_session()
        self.started_at = time.monotonic()
        if self.store is not None:
            await self._restore()
            self._flush_task = asyncio.create_task(self._flush_forever(), name="store-flush")
        self._lag_task = asyncio.create_task(self.lag_watch.run(), name="lag-watch")
        self._gauge_task = asyncio.create_task(refresh_latency_gauges(self), name="gauges")
        self.started_wall = self.clock()
        if self.alerter is not None:
            await self.alerter.start(self.rule_input, self._recheck)
        await self.push.start()
        self.first_round = FirstRound(
            cid for cid, t in self.tracked.items() if t.state is None and polled(t.check)
        )  # after the restore: a restored check has had its first verdict
        if schedule:
            self.scheduler.add_many(t.check for t in self.tracked.values() if polled(t.check))
            self.scheduler.start()
            self._start_analytics()
        self.log.info(
            "monitor.started", services=len(self.config.services), checks=len(self.tracked)
        )

    def _start_analytics(self) -> None:
        if self.analytics is not None and self._analytics_task is None:
            assert self.session is not None
            self._analytics_task = asyncio.create_task(
                self.analytics.run(self.session), name="analytics"
            )

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop scheduling, give in-flight checks `grace` seconds, then cancel them."""
        self._stopping = True
        self.scheduler.shutdown()
        await self.push.stop()
        if self._in_flight:
            _done, pending = await asyncio.wait(set(self._in_flight), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=CANCEL_WAIT)
        for background in (
            self._lag_task,
            self._flush_task,
            self._gauge_task,
            self._analytics_task,
        ):
            if background is not None:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
        await self.flush()
        if self.alerter is not None:
            await self.alerter.stop()
        if self.session is not None:
            await self.session.close()
        self.log.info("monitor.stopped")

    async def _restore(self) -> None:
        """Bring back the last states (and their `since`) of checks that still exist."""
        assert self.store is not None
        stored = await asyncio.to_thread(self.store.load_states)
        now = self.clock()
        restored = 0
        judged: set[str] = set()  # services with a restored check
        for check_id, state in stored.items():
            record = self.tracked.get(check_id)
            if record is None:
                continue
            record.state = state
            restored += 1
            judged.add(record.check.service)
            self.metrics.observe_restored(record.check, state)
        for name in judged & self.by_service.keys():
            self.services.update(
                name, self.by_service[name], now, log=False, headless=self._headless(name)
            )
        self.services.not_checked([n for n in self.by_service if n not in judged], now)
        self.log.info("store.restored", checks=restored, path=self.store.path)

    async def flush(self) -> None:
        """Write dirty states and status changes to the store in one transaction."""
        await self.push.flush()
        if self._writer is not None:
            await self._writer.flush(self.tracked)

    async def _flush_forever(self) -> None:
        assert self.store is not None
        last_prune = 0.0
        while True:
            await asyncio.sleep(self.settings.flush_period_s)
            await self.flush()
            if time.monotonic() - last_prune > self.settings.prune_period_s:
                last_prune = time.monotonic()
                retention = timedelta(seconds=self.config.store.retention)
                await asyncio.to_thread(self.store.prune, self.clock(), retention)
