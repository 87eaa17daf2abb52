"""The daemon: the imperative shell that runs checks and keeps their state.

Everything that decides (normalize, state, status) is a pure function; this object only owns
the client session, the scheduler, the metrics, and one record per check (runtime/tracked.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import structlog
from prometheus_client import CollectorRegistry

from monitor import __version__
from monitor.alerting.service import Alerter
from monitor.alerting.state import RuleInput
from monitor.analytics.client import AnalyticsPoller
from monitor.analytics.series import AnalyticsSeries
from monitor.config import Check, MonitorConfig, load_config
from monitor.durations import format_duration
from monitor.errors import ConfigError
from monitor.fleet.sharding import shard_info
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import CheckKind, FleetStatus, ShardInfo, Verdict
from monitor.normalize import normalize_response
from monitor.probes import FLEET_POLLED, probe_for
from monitor.probes.timing import timed_connector
from monitor.runtime.lag_watch import LagWatch
from monitor.runtime.latency_gauges import latency_view, refresh_latency_gauges
from monitor.runtime.scheduler import CheckScheduler
from monitor.runtime.self_health import self_health
from monitor.runtime.service_tracks import ServiceTracks
from monitor.runtime.settings import DEFAULT_SETTINGS, MonitorSettings
from monitor.runtime.store import Store
from monitor.runtime.store_writer import StoreWriter
from monitor.runtime.tracked import TrackedCheck
from monitor.secrets_scrub import NO_SECRETS, Scrubber, scrubber_for
from monitor.slo import judge_latency, judged_latency
from monitor.state import CheckState, advance
from monitor.status import fleet_status

STOP_GRACE = 5.0
"""Seconds in-flight checks get to finish at `stop()`: longer than most targets' answers, short
enough for an orchestrator's termination grace (Kubernetes: 30 s)."""
CANCEL_WAIT = 1.0
"""Seconds to let cancelled checks unwind (close their connections) before giving up on them."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class Monitor:
    """One running monitor: `await start()`, then checks run on schedule until `await stop()`."""

    def __init__(
        self,
        config: MonitorConfig,
        settings: MonitorSettings = DEFAULT_SETTINGS,
        *,
        metrics: MonitorMetrics | None = None,
        store: Store | None = None,
        alerter: Alerter | None = None,
        clock: Callable[[], datetime] = utc_now,
        logger: Any = None,
        scrubber: Scrubber = NO_SECRETS,
    ) -> None:
        """`metrics` brings its registry (a new one of each by default); `store` keeps states
        across restarts; `alerter` evaluates the alert rules; `clock` is the wall clock;
        `scrubber` removes secrets by value (the config's are added to it)."""
        self.config = config
        self.settings = settings
        self.clock = clock
        self.log = logger if logger is not None else structlog.get_logger("monitor")
        self.alerter = alerter
        self.store = store
        self.scrubber = scrubber
        self._learn_secrets(config)
        self._writer = StoreWriter(store, self.log) if store is not None else None
        self._flush_task: asyncio.Task[None] | None = None
        self._gauge_task: asyncio.Task[None] | None = None
        self.metrics = (
            metrics if metrics is not None else MonitorMetrics(CollectorRegistry(), __version__)
        )
        self.tracked: dict[str, TrackedCheck] = {}
        """Every check this monitor runs, by check id, in config order."""
        self.services = ServiceTracks(self.metrics, self.log)
        self.by_service: dict[str, list[TrackedCheck]] = {}
        self._shard_info: ShardInfo | None = None
        self._index(config)
        self.session: aiohttp.ClientSession | None = None
        self.lag_watch = LagWatch(self.metrics, self.log)
        self.scheduler = CheckScheduler(
            self.run_check,
            on_lag=self.lag_watch.observe_schedule_lag,
            on_skipped=self.lag_watch.observe_skipped,
        )
        self.started_at: float | None = None
        self.started_wall: datetime = clock()
        self.last_check_monotonic: float | None = None
        self.last_check_wall: datetime | None = None
        self._lag_task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()
        # read at scrape time: an inc/dec pair per check took a lock twice on the hot path
        self.metrics.checks_in_flight.set_function(lambda: len(self._in_flight))
        self._stopping = False
        self._analytics_series: AnalyticsSeries | None = None
        self.analytics: AnalyticsPoller | None = None
        self._analytics_task: asyncio.Task[None] | None = None
        self._ensure_analytics(config)
        self.metrics.declare(self.checks(), list(self.by_service))
        self.metrics.config_last_reload_successful.set(1)
        self.metrics.config_last_reload_success_timestamp.set(time.time())

    @property
    def registry(self) -> CollectorRegistry:
        return self.metrics.registry

    @property
    def config_path(self) -> str | None:
        return self.settings.config_path

    def checks(self) -> list[Check]:
        """The checks this monitor runs: all of the config's, or a shard's own."""
        return [t.check for t in self.tracked.values()]

    def _learn_secrets(self, config: MonitorConfig) -> None:
        """Add `config`'s secrets (and the receivers') to the scrubber that every verdict, store
        row and outbox row passes through; secrets learnt before stay (a rotated token too)."""
        sources: list[Any] = [config]
        if self.alerter is not None:
            sources.extend(self.alerter.rules.receivers.values())
        self.scrubber = self.scrubber.union(scrubber_for(*sources))
        if self.store is not None:
            self.store.scrubber = self.scrubber
        if self.alerter is not None:
            self.alerter.outbox.scrubber = self.scrubber

    def _index(self, config: MonitorConfig) -> None:
        """Index the checks this monitor runs: all of them, or a shard's own (docs/ha.md). A
        check still configured keeps its record (state, windows), with the new `Check` in it."""
        shard = self.settings.shard
        previous, self.tracked = self.tracked, {}
        for c in config.checks():
            if shard is None or shard.owns(c.id, c.service):
                record = previous.get(c.id)
                if record is None:
                    record = TrackedCheck(c)
                else:
                    record.check = c
                self.tracked[c.id] = record
        self.by_service = {s.name: [] for s in config.services}
        for record in self.tracked.values():
            self.by_service[record.check.service].append(record)
        self._shard_info = None
        if shard is not None:  # a service none of whose checks we own is not ours to track
            self.by_service = {name: ts for name, ts in self.by_service.items() if ts}
            every = [c.id for c in config.checks()]
            self._shard_info = shard_info(shard, len(self.tracked), every)

    def _ensure_analytics(self, config: MonitorConfig) -> None:
        """The fleet's one analytics poller while the config has `cloudflare:` (reloads too)."""
        if config.cloudflare is None:
            if self._analytics_task is not None:  # removed by a reload
                self._analytics_task.cancel()
                self._analytics_task = None
            self.analytics = None
        elif self.analytics is not None:
            self.analytics.apply_config(config)
        else:
            if self._analytics_series is None:
                self._analytics_series = AnalyticsSeries(self.metrics.registry)
            self.analytics = AnalyticsPoller(
                config,
                self._record_analytics,
                self.clock,
                self._analytics_series,
                self.log,
                time.monotonic,
            )

    def _record_analytics(self, service: str, verdict: Verdict, took: float) -> None:
        record = self.tracked.get(f"{service}/{CheckKind.ANALYTICS.value}/analytics")
        if record is not None:  # a shard owns only some services' analytics checks
            scrubbed = verdict.model_copy(update={"detail": self.scrubber.scrub(verdict.detail)})
            self._record_verdict(record, scrubbed, took)

    # -- lifecycle ---------------------------------------------------------------------------

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
        if schedule:
            for record in self.tracked.values():
                if record.check.kind not in FLEET_POLLED:
                    self.scheduler.add(record.check)
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
        for check_id, state in stored.items():
            record = self.tracked.get(check_id)
            if record is None:
                continue
            record.state = state
            restored += 1
            self.metrics.observe_restored(record.check, state)
        for name in self.by_service:
            self.services.update(name, self.by_service[name], now, log=False)
        self.log.info("store.restored", checks=restored, path=self.store.path)

    async def flush(self) -> None:
        """Write dirty states and status changes to the store in one transaction."""
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

    # -- checks ------------------------------------------------------------------------------

    async def run_check(self, check: Check) -> CheckState | None:
        """Probe, normalize, advance state, export. Never raises for what a target does;
        returns None only for a check cancelled by shutdown."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            assert self.session is not None, "start() the monitor first"
            try:
                answer = await probe_for(check)(self.session, check)
            except asyncio.CancelledError:
                if self._stopping:  # cancelled at the shutdown deadline: not a result
                    self.log.info("check.cancelled_at_shutdown", check=check.id)
                    return None
                raise
            verdict = normalize_response(answer, self.scrubber, self.metrics.count_parser_error)
            record = self.tracked.get(check.id)
            if record is None:  # removed by a reload while in flight: nothing to keep
                return advance(None, verdict, self.clock(), answer.duration_s)
            sample, source = judged_latency(check, answer)
            if sample is not None:
                self.metrics.observe_latency(check, sample)
                latency = self.config.latency
                judged = record.record_latency(
                    check.target,
                    sample,
                    source,
                    time.monotonic(),
                    latency.windows,
                    latency.min_samples,
                )
                if judged is not None:
                    verdict = judge_latency(verdict, [judged], check.target, latency.min_samples)
            return self._record_verdict(record, verdict, answer.duration_s)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    def _record_verdict(
        self, record: TrackedCheck, verdict: Verdict, duration_s: float
    ) -> CheckState:
        """Advance a check's state with its verdict and export it: every kind goes through here."""
        check = record.check
        now = self.clock()
        previous = record.state
        state = record.state = advance(previous, verdict, now, duration_s)
        writer = self._writer  # without a store, nothing must pile up
        if writer is not None and not record.dirty:
            writer.mark(record)
        self.metrics.observe(check, state, previous)
        self.last_check_monotonic = time.monotonic()
        self.last_check_wall = now
        if state.changed and writer is not None:
            writer.change(check, previous, state)
        if state.changed:
            self.log.info(
                "check.status_changed",
                service=check.service,
                check=check.name,
                kind=check.kind.value,
                **{"from": (previous.verdict.status.value if previous else "unknown")},
                to=verdict.status.value,
                reason=verdict.reason.value,
                detail=verdict.detail,
                http_status=verdict.http_status,
            )
        if state.changed or check.service not in self.services.tracks:
            self.services.update(check.service, self.by_service[check.service], now)
        if self.alerter is not None:
            self.alerter.request()
        return state

    # -- reload ------------------------------------------------------------------------------

    def apply_config(self, new: MonitorConfig) -> dict[str, int]:
        """Switch to a new config without losing the state of unchanged checks."""
        old_records = self.tracked  # _index makes a new dict
        old_checks = {cid: t.check for cid, t in old_records.items()}
        self.config = new
        self._learn_secrets(new)
        self._index(new)
        self._ensure_analytics(new)
        removed = [c for cid, c in old_checks.items() if cid not in self.tracked]
        added = [t.check for cid, t in self.tracked.items() if cid not in old_checks]
        changed = [
            t.check
            for cid, t in self.tracked.items()
            if cid in old_checks and old_checks[cid] != t.check
        ]
        for check in removed:
            self.scheduler.remove(check.id)
            self.metrics.forget(check)
            windows = old_records[check.id].windows
            if windows is not None:
                self.metrics.forget_windows(check, map(format_duration, windows.windows))
        gone_services = {c.service for c in removed} - set(self.by_service)
        for name in gone_services:
            self.services.forget(name)
        self.metrics.declare(added, {c.service for c in added} - set(self.services.tracks))
        self.metrics.checks_configured.set(len(self.tracked))
        if self.scheduler.running:
            for check in (*added, *changed):
                if check.kind not in FLEET_POLLED:
                    self.scheduler.add(check)
            self._start_analytics()
        if self.store is not None and removed:
            self.store.forget(c.id for c in removed)
        return {"added": len(added), "removed": len(removed), "changed": len(changed)}

    def reload_from(self, path: str) -> tuple[bool, str]:
        """Load `path` and apply it; an invalid file is refused and the old config runs on."""
        try:
            new = load_config(path)
        except ConfigError as exc:
            self.metrics.config_last_reload_successful.set(0)
            self.log.error(
                "config.reload_failed",
                file=path,
                problems=[p.render(exc.file) for p in exc.problems],
            )
            return False, str(exc)
        counts = self.apply_config(new)
        self.metrics.config_last_reload_successful.set(1)
        self.metrics.config_last_reload_success_timestamp.set(time.time())
        self.log.info("config.reloaded", file=path, **counts)
        return True, ", ".join(f"{n} {k}" for k, n in counts.items())

    async def run_all_once(self) -> None:
        """Run every check once, concurrently (start-up, tests and the deploy gate)."""
        probed = [t.check for t in self.tracked.values() if t.check.kind not in FLEET_POLLED]
        polled = []
        if self.analytics is not None and self.session is not None:
            polled.append(self.analytics.poll_once(self.session))
        await asyncio.gather(*(self.run_check(c) for c in probed), *polled)

    # -- alerting ----------------------------------------------------------------------------

    def rule_input(self) -> RuleInput:
        """What the alert rules see: the fleet now, and the monitor's own liveness."""
        now = self.clock()
        silences = self.alerter.silences.active(now) if self.alerter is not None else ()
        return RuleInput.from_fleet(
            self.status(),
            started_at=self.started_wall,
            last_check_at=self.last_check_wall,
            loop_lag_s=self.lag_watch.loop_lag,
            schedule_lag_s=self.lag_watch.schedule_lag_p99(),
            silences=silences,
        )

    def _recheck(self, services: list[str]) -> None:
        """Services failing but not yet confirmed: check their health sooner."""
        for name in services:
            for record in self.by_service.get(name, []):
                if record.check.kind is CheckKind.HEALTH:
                    self.scheduler.run_soon(record.check.id, self.config.defaults.recheck_interval)

    # -- views -------------------------------------------------------------------------------

    def status(self) -> FleetStatus:
        summaries, within = latency_view(
            self.tracked,
            time.monotonic(),
            self.config.latency.status_window,
            self.config.latency.min_samples,
        )
        tracked = self.tracked.items()
        return fleet_status(
            self.config,
            {cid: t.state for cid, t in tracked if t.state is not None},
            self.services.tracks,
            self.clock(),
            summaries,
            {cid: t.latency_source.value for cid, t in tracked if t.latency_source is not None},
            within,
            checks=None if self.settings.shard is None else self.checks(),
            shard=self._shard_info,
        )

    def self_health(self) -> tuple[bool, dict[str, Any]]:
        """The monitor's own health for `/healthz` (runtime/self_health.py)."""
        return self_health(
            time.monotonic(),
            started_at=self.started_at,
            last_check_at=self.last_check_monotonic,
            periods=(t.check.interval + t.check.timeout for t in self.tracked.values()),
            scheduler_running=self.scheduler.running,
            loop_lag=self.lag_watch.loop_lag,
            schedule_lag_p99=self.lag_watch.schedule_lag_p99(),
            checks=len(self.tracked),
        )
