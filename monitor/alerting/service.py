"""The alerting shell: runs the pure `evaluate` over the daemon's fleet view, persists state and
notifications through the outbox in one transaction, and delivers them in the background.

Evaluations are coalesced: a completed check asks for one, and at most one runs per
`min_period` (plus a timer, so the watchdog and `checks_stalled` fire with no checks at all).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from monitor.alerting import maintenance
from monitor.alerting.evaluate import evaluate
from monitor.alerting.grouping import AlertGroup, next_flush, settings_for, step_groups
from monitor.alerting.maintenance import Deploy, MaintenanceWindow
from monitor.alerting.outbox import Outbox
from monitor.alerting.rules import AlertRules
from monitor.alerting.silences import SilenceSet
from monitor.alerting.state import AlertEvent, AlertState, RuleInput, Silence
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import FleetStatus, MaintenanceNote

MIN_PERIOD = 0.25
TIMER_PERIOD = 15.0
STOP_DELIVERY_GRACE = 5.0
DELIVERY_CONNECTIONS = 64
"""Connections for sending notifications: a pool of their own, apart from the probes'."""


MAX_DEPLOYS = 200
"""Deploys kept for the page's timeline and failed-gate pages: the newest, by announcement."""


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
        self.groups: dict[str, AlertGroup] = {}
        self.grouping = {
            name: settings_for(rules.config.grouping, cfg) for name, cfg in rules.receivers.items()
        }
        self.silences = SilenceSet()
        self.windows: list[MaintenanceWindow] = []
        """One-off maintenance windows added through the API (the file's are in the rules)."""
        self.deploys: dict[str, Deploy] = {}
        """Announced deploys by id, oldest first, the newest `MAX_DEPLOYS` kept (stored, so the
        page's timeline keeps them across a restart); a failed one names itself in pages."""
        self._deploy_serial = 0
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
        await self.restore()
        self._view = view
        self._on_recheck = on_recheck
        self._tasks = [
            asyncio.create_task(self._evaluate_forever(), name="alert-evaluate"),
            asyncio.create_task(
                self.outbox.run(self._session, self._stop, self._wake), name="outbox"
            ),
        ]
        self.request()

    async def restore(self) -> None:
        """What the last run stored: alert state, groups, the API's silences and windows,
        deploys."""
        self.state = await asyncio.to_thread(self.outbox.load_state)
        self.groups = await asyncio.to_thread(self.outbox.load_groups)
        self.silences = SilenceSet(await asyncio.to_thread(self.outbox.load_silences))
        self.windows = await asyncio.to_thread(self.outbox.load_windows)
        self.deploys = {d.id: d for d in await asyncio.to_thread(self.outbox.load_deploys)}

    def request(self) -> None:
        """Ask for an evaluation soon (called after every completed check)."""
        self._wanted.set()

    def _next_wait(self) -> float:
        """Seconds to the next timed evaluation: the timer, or sooner when a group is due."""
        due = next_flush(self.groups)
        if due is None:
            return self.timer_period
        return min(self.timer_period, max(0.0, (due - self.clock()).total_seconds()))

    async def _evaluate_forever(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), timeout=self._next_wait())
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
        events = self._name_failed_deploys(events)
        groups, batches = step_groups(
            self.groups, events, state.alerts, self.grouping, now, self.rules.config.external_url
        )
        self.state, self.groups = state, groups
        await asyncio.to_thread(self.outbox.save, state, batches, now, groups)
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

    # -- maintenance windows ---------------------------------------------------------------

    def all_windows(self) -> list[MaintenanceWindow]:
        return [*self.rules.config.maintenance, *self.windows]

    def active_silences(self, now: datetime) -> tuple[Silence, ...]:
        """What holds pages now: the API's silences and the open maintenance windows."""
        return (*self.silences.active(now), *maintenance.silences(self.all_windows(), now))

    def held(
        self, labels: Callable[[], Mapping[str, Mapping[str, str]]], now: datetime
    ) -> dict[str, tuple[str, datetime]]:
        """Per service, the open window that holds it `(name, ends_at)`; `labels` (service
        name -> its labels) is asked for only while some window is open."""
        windows = self.all_windows()
        if not maintenance.open_windows(windows, now):
            return {}
        return maintenance.service_windows(windows, labels(), now)

    def with_maintenance(self, fleet: FleetStatus, now: datetime) -> FleetStatus:
        """`fleet` with each service held by an open window marked (`maintenance`)."""
        held = self.held(lambda: {s.name: s.labels for s in fleet.services}, now)
        if not held:
            return fleet
        services = [
            s.model_copy(
                update={
                    "maintenance": MaintenanceNote(name=held[s.name][0], ends_at=held[s.name][1])
                }
            )
            if s.name in held
            else s
            for s in fleet.services
        ]
        return fleet.model_copy(update={"services": services})

    async def open_deploy(self, services: tuple[str, ...], version: str, hold: float) -> Deploy:
        """Record a deploy and hold its services' pages for at most `hold` seconds (until the
        gate's verdict closes the window)."""
        now = self.clock()
        self._deploy_serial += 1
        deploy = Deploy(
            id=f"{int(now.timestamp())}-{self._deploy_serial}",
            services=services,
            version=version,
            started_at=now,
        )
        while deploy.id in self.deploys:  # a restart within the same second reuses serials
            self._deploy_serial += 1
            deploy = deploy.model_copy(
                update={"id": f"{int(now.timestamp())}-{self._deploy_serial}"}
            )
        self.deploys[deploy.id] = deploy
        for old_id in list(self.deploys)[:-MAX_DEPLOYS]:
            del self.deploys[old_id]
        await asyncio.to_thread(self.outbox.save_deploys, list(self.deploys.values()))
        for service in services:
            self.metrics.deploy_timestamp.labels(service, version).set(now.timestamp())
        await self.add_window(deploy.window(now + timedelta(seconds=hold)))
        return deploy

    async def close_deploy(self, deploy_id: str, passed: bool) -> Deploy | None:
        """The gate's verdict: the window closes either way; a failed deploy's held pages go out
        at the next evaluation, naming the deploy."""
        deploy = self.deploys.get(deploy_id)
        if deploy is None:
            return None
        deploy = deploy.model_copy(update={"passed": passed})
        self.deploys[deploy_id] = deploy
        await asyncio.to_thread(self.outbox.save_deploys, list(self.deploys.values()))
        self.windows = [w for w in self.windows if w.name != deploy.window_name]
        await asyncio.to_thread(self.outbox.save_windows, self.windows)
        self.request()
        return deploy

    def _name_failed_deploys(self, events: list[AlertEvent]) -> list[AlertEvent]:
        """Pages of a service whose last deploy failed its gate say which deploy."""
        failed: dict[str, Deploy] = {}
        for deploy in self.deploys.values():
            if deploy.passed is False:
                for service in deploy.services:
                    failed[service] = deploy
        if not failed:
            return events
        named = []
        for event in events:
            cause = failed.get(event.labels.get("service", ""))
            if cause is not None and event.kind != "resolved":
                note = f"deploy {cause.version} failed its gate ({cause.started_at:%H:%M} UTC)"
                event = event.model_copy(
                    update={"annotations": {**event.annotations, "deploy": note}}
                )
            named.append(event)
        return named

    async def add_window(self, window: MaintenanceWindow) -> None:
        """Add (or replace, by name) a one-off window; ended ones are dropped."""
        now = self.clock()
        kept = [w for w in self.windows if w.name != window.name and w.end and w.end > now]
        self.windows = [*kept, window]
        await asyncio.to_thread(self.outbox.save_windows, self.windows)
        self.request()

    async def stop(self) -> None:
        """Save the state and give pending deliveries a short grace, then close."""
        self._stop.set()
        self._wanted.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=STOP_DELIVERY_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.to_thread(self.outbox.save, self.state, [], self.clock(), self.groups)
        self.outbox.close()
        if self._session is not None:
            await self._session.close()
