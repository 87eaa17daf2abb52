"""The alerting shell: runs the pure `evaluate` over the daemon's fleet view, persists state and
notifications through the outbox in one transaction, and delivers them in the background.

Evaluations are coalesced: a completed check asks for one, and at most one runs per
`min_period` (plus a timer, so the watchdog and `checks_stalled` fire with no checks at all).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from monitor.alerting.evaluate import evaluate
from monitor.alerting.outbox import Outbox, batches_for
from monitor.alerting.rules import AlertRules
from monitor.alerting.silences import SilenceSet
from monitor.alerting.state import AlertState, RuleInput, Silence
from monitor.metrics.daemon_metrics import MonitorMetrics

MIN_PERIOD = 0.25
TIMER_PERIOD = 15.0
STOP_DELIVERY_GRACE = 5.0
DELIVERY_CONNECTIONS = 64
"""Connections for sending notifications: a pool of their own, apart from the probes'."""


class Alerter:
    def __init__(
        self,
        rules: AlertRules,
        outbox_path: str | Path,
        metrics: MonitorMetrics,
        *,
        clock: Callable[[], datetime],
        min_period: float = MIN_PERIOD,
        timer_period: float = TIMER_PERIOD,
        logger: Any = None,
    ) -> None:
        from monitor.receivers import build_receivers

        self.rules = rules
        self.metrics = metrics
        self.clock = clock
        self.min_period = min_period
        self.timer_period = timer_period
        self.log = logger if logger is not None else structlog.get_logger("monitor.alerting")
        self.outbox = Outbox(
            outbox_path, build_receivers(rules.receivers), on_result=self._count_result
        )
        self.state = AlertState()
        self.silences = SilenceSet()
        self._wanted = asyncio.Event()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        for receiver in rules.receivers:
            for outcome in ("sent", "retried", "dead"):
                metrics.alert_notifications_total.labels(receiver, outcome)

    def _count_result(self, receiver: str, outcome: str) -> None:
        self.metrics.alert_notifications_total.labels(receiver, outcome).inc()

    async def start(
        self, view: Callable[[], RuleInput], on_recheck: Callable[[list[str]], None]
    ) -> None:
        """Load the state and start evaluating and delivering.

        Notifications go out on a session of their own: on the probes' shared pool, hundreds
        of services that hang would hold every connection and a page would wait for one.
        """
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=DELIVERY_CONNECTIONS),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self.state = await asyncio.to_thread(self.outbox.load_state)
        self.silences = SilenceSet(await asyncio.to_thread(self.outbox.load_silences))
        self._view = view
        self._on_recheck = on_recheck
        self._tasks = [
            asyncio.create_task(self._evaluate_forever(), name="alert-evaluate"),
            asyncio.create_task(
                self.outbox.run(self._session, self._stop, self._wake), name="outbox"
            ),
        ]
        self.request()

    def request(self) -> None:
        """Ask for an evaluation soon (called after every completed check)."""
        self._wanted.set()

    async def _evaluate_forever(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), timeout=self.timer_period)
            self._wanted.clear()
            try:
                await self.evaluate_now()
            except Exception as exc:  # alerting must never take the monitoring down
                self.log.error("alerting.evaluate_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self.min_period)  # coalesce bursts of completed checks

    async def evaluate_now(self) -> None:
        now = self.clock()
        self.silences.expire(now)
        state, events = evaluate(self.rules, self.state, self._view(), now)
        self.state = state
        batches = batches_for(events, self.rules.config.external_url)
        await self.outbox.asave(state, batches, now)
        if batches:
            self._wake.set()
        for event in events:
            self.log.info(
                "alert.event",
                rule=event.rule,
                kind=event.kind,
                fingerprint=event.fingerprint,
                service=event.labels.get("service"),
                receivers=list(event.receivers),
            )
        self._export(state, await asyncio.to_thread(self.outbox.depth))
        if state.recheck_soon:
            self._on_recheck(list(state.recheck_soon))

    def _export(self, state: AlertState, depth: int) -> None:
        firing: dict[str, int] = {rule.name: 0 for rule in self.rules.config.rules}
        for record in state.firing():
            firing[record.rule] = firing.get(record.rule, 0) + 1
        for rule, count in firing.items():
            self.metrics.alerts_firing.labels(rule).set(count)
        self.metrics.alert_outbox_depth.set(depth)

    # -- silences (the admin API) ----------------------------------------------------------

    async def add_silence(
        self,
        matchers: dict[str, str],
        starts_at: datetime,
        ends_at: datetime,
        comment: str,
        created_by: str,
    ) -> Silence:
        silence = self.silences.add(
            matchers, starts_at, ends_at, comment=comment, created_by=created_by
        )
        await asyncio.to_thread(self.outbox.save_silences, self.silences.all())
        self.request()
        return silence

    async def remove_silence(self, silence_id: str) -> bool:
        removed = self.silences.remove(silence_id)
        if removed:
            await asyncio.to_thread(self.outbox.save_silences, self.silences.all())
            self.request()
        return removed

    def all_silences(self) -> list[Silence]:
        return [*self.rules.config.silences, *self.silences.all()]

    async def stop(self) -> None:
        """Save the state and give pending deliveries a short grace, then close."""
        self._stop.set()
        self._wanted.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=STOP_DELIVERY_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.outbox.asave(self.state, [], self.clock())
        self.outbox.close()
        if self._session is not None:
            await self._session.close()
