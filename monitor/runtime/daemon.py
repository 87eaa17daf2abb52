"""The daemon: the imperative shell that runs checks and keeps their state.

Everything that decides (normalize, state, status) is a pure function; this object only owns
the client session, the scheduler, the metrics, and one record per check (runtime/tracked.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
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
from monitor.fleet.sharding import other_owners, shard_info
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import CheckKind, FleetStatus, ShardInfo, Status, Verdict
from monitor.normalize import normalize_response
from monitor.probes import polled, probe_for
from monitor.probes.push import PushStore, PushWatcher
from monitor.probes.push.metrics import PushMetrics
from monitor.probes.timing import timed_connector
from monitor.runtime.gc_policy import paused_collector
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
        self.runs = 0
        self.reloads = 0
        self._born = time.time_ns()
        self.push = PushWatcher(
            self.apply_verdict,
            PushMetrics(self.registry),
            clock,
            store=None if store is None else PushStore(store.path),
            scrub=self._scrub_evidence,
        )
        """The push kind's source: pings in, deadlines watched (probes/push/)."""
        if settings.shard is not None and settings.peers:
            self.push.peers_of = self._push_peers
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
        self.push.configure(self.checks(), config.checks() if shard is not None else ())
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
            self.apply_verdict(record.check, scrubbed, self.clock(), took)

    def _scrub_evidence(self, text: str) -> str:
        """A ping's evidence without the config's secrets. Most pings have no body; a cut one
        (ending in `…`) may end in part of a secret, which only `cut=True` removes, at a cost
        that grows with the number of secrets (every push token is one)."""
        return self.scrubber.scrub(text, cut=text.endswith("…")) if text else text

    def _push_peers(self, check: Check) -> list[str]:
        """Where else a ping of `check` must go: its other owners (docs/ha.md)."""
        shard, peers = self.settings.shard, self.settings.peers
        assert shard is not None
        return [peers[i] for i in other_owners(shard, check.id, check.service) if i < len(peers)]

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
        await self.push.start()
        if schedule:
            for record in self.tracked.values():
                if polled(record.check):
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
            return self.apply_verdict(check, verdict, self.clock(), answer.duration_s)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    def apply_verdict(
        self, check: Check, verdict: Verdict, now: datetime, duration_s: float = 0.0
    ) -> CheckState:
        """Advance a check's state with its verdict and export it: every kind's verdicts, a
        probe's answer or a push check's ping or deadline, take this one path."""
        record = self.tracked.get(check.id)
        if record is None:  # removed by a reload meanwhile: nothing to keep
            return advance(None, verdict, now, duration_s)
        previous = record.state
        state = record.state = advance(previous, verdict, now, duration_s)
        writer = self._writer  # without a store, nothing must pile up
        if writer is not None and not record.dirty:
            writer.mark(record)
        self.metrics.observe(check, state, previous)
        self.last_check_monotonic = time.monotonic()
        self.last_check_wall = now
        self.runs += 1
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
        self.reloads += 1
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
        self.metrics.configure(
            [t.check for t in self.tracked.values()], {c.service for c in (*added, *changed)}
        )
        self.metrics.checks_configured.set(len(self.tracked))
        if self.scheduler.running:
            for check in (*added, *changed):
                if polled(check):
                    self.scheduler.add(check)
            self._start_analytics()
        self.push.rejudge([c for c in (*added, *changed) if not polled(c)])
        if self.store is not None and removed:
            self.store.forget(c.id for c in removed)
        return {"added": len(added), "removed": len(removed), "changed": len(changed)}

    def reload_from(self, path: str) -> tuple[bool, str]:
        """Load `path` and apply it; an invalid file is refused and the old config runs on."""
        try:
            with paused_collector():
                new = load_config(path)
        except ConfigError as exc:
            self.metrics.config_last_reload_successful.set(0)
            self.log.error(
                "config.reload_failed",
                file=path,
                problems=[p.render(exc.file) for p in exc.problems],
            )
            return False, str(exc)
        with paused_collector():
            counts = self.apply_config(new)
        self.metrics.config_last_reload_successful.set(1)
        self.metrics.config_last_reload_success_timestamp.set(time.time())
        self.log.info("config.reloaded", file=path, **counts)
        return True, ", ".join(f"{n} {k}" for k, n in counts.items())

    async def run_all_once(self) -> None:
        """Run every check once, concurrently (start-up, tests and the deploy gate)."""
        probed = [t.check for t in list(self.tracked.values()) if polled(t.check)]
        fleet_polls = []
        if self.analytics is not None and self.session is not None:
            fleet_polls.append(self.analytics.poll_once(self.session))
        await asyncio.gather(*(self.run_check(c) for c in probed), *fleet_polls)

    # -- alerting ----------------------------------------------------------------------------

    def rule_input(self) -> RuleInput:
        """What the alert rules see: the fleet now, and the monitor's own liveness."""
        now = self.clock()
        silences = self.alerter.active_silences(now) if self.alerter is not None else ()
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
            pushed = [t.check for t in self.by_service.get(name, [])]
            self.push.recheck(pushed, self.config.defaults.recheck_interval)

    # -- views -------------------------------------------------------------------------------

    def status(self, services: Iterable[str] | None = None) -> FleetStatus:
        """The /status document; with `services`, only theirs (the cost is theirs too)."""
        records = (
            self.tracked
            if services is None
            else {t.check.id: t for name in services for t in self.by_service.get(name, ())}
        )
        summaries, within = latency_view(
            records,
            time.monotonic(),
            self.config.latency.status_window,
            self.config.latency.min_samples,
        )
        tracked = records.items()
        fleet = fleet_status(
            self.config,
            {cid: t.state for cid, t in tracked if t.state is not None},
            self.services.tracks,
            self.clock(),
            summaries,
            {cid: t.latency_source.value for cid, t in tracked if t.latency_source is not None},
            within,
            checks=(
                None
                if services is None and self.settings.shard is None
                else [t.check for t in records.values()]
            ),
            shard=self._shard_info,
        )
        if self.alerter is None:
            return fleet
        return self.alerter.with_maintenance(fleet, self.clock())

    def status_version(self) -> tuple[int, int, int]:
        """Changes whenever what /status shows may have (its ETag): a run completed, a
        reload, a restart (states restored)."""
        return (self._born, self.runs, self.reloads)

    def service_status_now(self, name: str) -> Status:
        """A service's current status without building its view (unknown before a verdict)."""
        track = self.services.tracks.get(name)
        return Status.UNKNOWN if track is None else track.status

    def self_health(self) -> tuple[bool, dict[str, Any]]:
        """The monitor's own health for `/healthz` (runtime/self_health.py)."""
        polled_checks = [t for t in self.tracked.values() if polled(t.check)]
        return self_health(
            time.monotonic(),
            started_at=self.started_at,
            last_check_at=self.last_check_monotonic,
            periods=(t.check.interval + t.check.timeout for t in polled_checks),
            scheduler_running=self.scheduler.running,
            loop_lag=self.lag_watch.loop_lag,
            schedule_lag_p99=self.lag_watch.schedule_lag_p99(),
            checks=len(polled_checks),  # push checks report in: they cannot stall the monitor
        )
