"""The daemon: the imperative shell that runs checks and keeps their state.

Everything that decides (normalize, state, status) is a pure function; this object only owns
the client session, the scheduler, the metrics and the dictionaries of current state.
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
from monitor.config import Check, MonitorConfig, load_config
from monitor.durations import format_duration
from monitor.errors import ConfigError
from monitor.fleet.sharding import ShardSpec, shard_info
from monitor.latency import LatencyWindows, to_latency_summary
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import CheckKind, FleetStatus, LatencySummary, ShardInfo, Status, Verdict
from monitor.normalize import normalize_response
from monitor.probes import polled, probe_for
from monitor.probes.push import PushStore, PushWatcher
from monitor.probes.push.metrics import PushMetrics
from monitor.probes.timing import timed_connector
from monitor.runtime.lag_watch import LagWatch
from monitor.runtime.scheduler import CheckScheduler
from monitor.runtime.store import StatusChange, Store
from monitor.slo import LatencySource, judge_latency, judged_latency, judging_window
from monitor.state import CheckState, ServiceTrack, advance, track_service
from monitor.status import check_status, fleet_status, service_verdict

FLUSH_PERIOD = 1.0
GAUGE_CPU_SHARE = 0.05
"""Latency gauges are refreshed in the background using at most this share of a core."""
GAUGE_SLICE = 0.002
"""...and in slices of at most this long between yields to the event loop."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class Monitor:
    """One running monitor: `await start()`, then checks run on schedule until `await stop()`."""

    def __init__(
        self,
        config: MonitorConfig,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], datetime] = utc_now,
        logger: Any = None,
        store: Store | None = None,
        config_path: str | None = None,
        alerter: Alerter | None = None,
        metrics: MonitorMetrics | None = None,
        shard: ShardSpec | None = None,
    ) -> None:
        self.config = config
        self.shard = shard
        self.alerter = alerter
        self.config_path = config_path
        self.store = store
        self._dirty: dict[str, CheckState] = {}
        self._changes: list[StatusChange] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._gauge_task: asyncio.Task[None] | None = None
        self.registry = registry if registry is not None else CollectorRegistry()
        self.metrics = (
            metrics if metrics is not None else MonitorMetrics(self.registry, __version__)
        )
        self.clock = clock
        self.log = logger if logger is not None else structlog.get_logger("monitor")
        self.states: dict[str, CheckState] = {}
        self.latency: dict[str, LatencyWindows] = {}
        self.latency_source: dict[str, LatencySource] = {}
        self.tracks: dict[str, ServiceTrack] = {}
        self.checks: dict[str, Check] = {}
        self.by_service: dict[str, list[Check]] = {}
        self._shard_info: ShardInfo | None = None
        self.push = PushWatcher(
            self.apply_verdict,
            PushMetrics(self.registry),
            clock,
            store=None if store is None else PushStore(store.path),
        )
        """The push kind's source: pings in, deadlines watched (probes/push/)."""
        self._index(config)
        self.session: aiohttp.ClientSession | None = None
        self.lag_watch = LagWatch(self.metrics, self.log)
        self.scheduler = CheckScheduler(
            self.run_check,
            on_lag=self.lag_watch.observe_schedule_lag,
            on_skipped=self._skipped,
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
        self.metrics.declare(self.checks.values(), list(self.by_service))
        self.metrics.config_last_reload_successful.set(1)
        self.metrics.config_last_reload_success_timestamp.set(time.time())

    def _index(self, config: MonitorConfig) -> None:
        """Index the checks this monitor runs: all of them, or a shard's own (docs/ha.md)."""
        shard = self.shard
        self.checks = {
            c.id: c for c in config.checks() if shard is None or shard.owns(c.id, c.service)
        }
        self.by_service = {s.name: [] for s in config.services}
        for c in self.checks.values():
            self.by_service[c.service].append(c)
        self._shard_info = None
        self.push.configure(self.checks.values())
        if shard is not None:  # a service none of whose checks we own is not ours to track
            self.by_service = {name: cs for name, cs in self.by_service.items() if cs}
            self._shard_info = shard_info(shard, len(self.checks), [c.id for c in config.checks()])

    # -- lifecycle ---------------------------------------------------------------------------

    def _new_session(self) -> aiohttp.ClientSession:
        connector = timed_connector(limit=512, ttl_dns_cache=60, enable_cleanup_closed=True)
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    async def start(self, *, schedule: bool = True) -> None:
        self.session = self._new_session()
        self.started_at = time.monotonic()
        if self.store is not None:
            await self._restore()
            self._flush_task = asyncio.create_task(self._flush_forever(), name="store-flush")
        self._lag_task = asyncio.create_task(self.lag_watch.run(), name="lag-watch")
        self._gauge_task = asyncio.create_task(self._refresh_latency_gauges(), name="gauges")
        self.started_wall = self.clock()
        if self.alerter is not None:
            await self.alerter.start(self.session, self.rule_input, self._recheck)
        await self.push.start()
        if schedule:
            for check in self.checks.values():
                if polled(check):
                    self.scheduler.add(check)
            self.scheduler.start()
        self.log.info(
            "monitor.started", services=len(self.config.services), checks=len(self.checks)
        )

    async def stop(self, grace: float = 5.0) -> None:
        """Stop scheduling, give in-flight checks `grace` seconds, then cancel them."""
        self._stopping = True
        self.scheduler.shutdown()
        await self.push.stop()
        if self._in_flight:
            _done, pending = await asyncio.wait(set(self._in_flight), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        for background in (self._lag_task, self._flush_task, self._gauge_task):
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

    def _windows(self, check: Check) -> LatencyWindows:
        windows = self.latency.get(check.id)
        if windows is None or windows.target_s != check.target:
            windows = self.latency[check.id] = LatencyWindows(
                check.target, tuple(self.config.latency.windows)
            )
        return windows

    def latency_view(self) -> tuple[dict[str, LatencySummary], dict[str, bool | None]]:
        """Per check with samples: the status window's percentiles, and whether the judging
        window's p95 is within target (None while no window has enough samples)."""
        mono = time.monotonic()
        settings = self.config.latency
        summaries: dict[str, LatencySummary] = {}
        within: dict[str, bool | None] = {}
        for check_id, windows in self.latency.items():
            rows = {w: windows.summary(w, mono) for w in windows.windows}
            if settings.status_window in rows:
                summaries[check_id] = to_latency_summary(rows[settings.status_window])
            judged = judging_window(list(rows.values()), settings.min_samples)
            within[check_id] = (
                None if judged is None or judged.p95_s is None else judged.p95_s <= windows.target_s
            )
        return summaries, within

    async def _refresh_latency_gauges(self) -> None:
        """p95, over-target share and burn rate per window, recomputed in the background in
        small batches, as often as a `GAUGE_CPU_SHARE` of a core allows (a large fleet
        refreshes less often rather than stealing time from the checks)."""
        while True:
            started = slice_started = time.perf_counter()
            spent = 0.0
            mono = time.monotonic()
            for check_id in list(self.latency):
                check, windows = self.checks.get(check_id), self.latency.get(check_id)
                if check is None or windows is None:
                    continue
                summaries = [windows.summary(w, mono) for w in windows.windows]
                rows = [
                    (format_duration(s.window_s), s.p95_s, s.over_target_ratio) for s in summaries
                ]
                judged = judging_window(summaries, self.config.latency.min_samples)
                within = (
                    None
                    if judged is None or judged.p95_s is None
                    else (judged.p95_s <= check.target)
                )
                self.metrics.observe_latency_windows(check, rows, within)
                if time.perf_counter() - slice_started > GAUGE_SLICE:
                    # a long slice delays every answer waiting for the loop: that delay
                    # would be measured as the services' latency
                    spent += time.perf_counter() - slice_started
                    await asyncio.sleep(0)
                    slice_started = time.perf_counter()
            spent += time.perf_counter() - slice_started
            await asyncio.sleep(max(5.0, spent / GAUGE_CPU_SHARE - (time.perf_counter() - started)))

    def _skipped(self, check_id: str) -> None:
        self.metrics.checks_skipped_total.inc()
        self.log.warning("check.skipped_overlap", check=check_id)

    async def _restore(self) -> None:
        """Bring back the last states (and their `since`) of checks that still exist."""
        assert self.store is not None
        stored = await asyncio.to_thread(self.store.load_states)
        now = self.clock()
        for check_id, state in stored.items():
            check = self.checks.get(check_id)
            if check is None:
                continue
            self.states[check_id] = state
            self.metrics.observe_restored(check, state)
        for name in self.by_service:
            self._update_service(name, now, log=False)
        self.log.info("store.restored", checks=len(self.states), path=self.store.path)

    async def flush(self) -> None:
        """Write dirty states and status changes to the store in one transaction."""
        await self.push.flush()
        if self.store is None or not (self._dirty or self._changes):
            return
        dirty, changes = self._dirty, self._changes
        self._dirty, self._changes = {}, []
        try:
            await asyncio.to_thread(self.store.save, dirty, changes)
        except Exception as exc:  # keep them for the next flush rather than lose them
            self.log.error("store.write_failed", error=str(exc)[:200])
            self._dirty = {**dirty, **self._dirty}
            self._changes = changes + self._changes

    async def _flush_forever(self) -> None:
        assert self.store is not None
        last_prune = 0.0
        while True:
            await asyncio.sleep(FLUSH_PERIOD)
            await self.flush()
            if time.monotonic() - last_prune > 3600:
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
            verdict = normalize_response(answer)
            sample, source = judged_latency(check, answer)
            if sample is not None:
                windows = self._windows(check)
                mono = time.monotonic()
                windows.record(sample, mono)
                self.latency_source[check.id] = source
                self.metrics.observe_latency(check, sample)
                # only the judging window's quantiles (the shortest with enough samples): a
                # summary is the dearest step of a check, and this runs on every answer
                min_samples = self.config.latency.min_samples
                counts = windows.counts(mono)
                judged = min(
                    (w for w, n in zip(windows.windows, counts, strict=True) if n >= min_samples),
                    default=None,
                )
                if judged is not None:
                    verdict = judge_latency(
                        verdict, [windows.summary(judged, mono)], check.target, min_samples
                    )
            return self.apply_verdict(check, verdict, self.clock(), answer.duration_s)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    def apply_verdict(
        self, check: Check, verdict: Verdict, now: datetime, duration_s: float = 0.0
    ) -> CheckState:
        """Advance a check's state with its verdict and export it: every kind's verdicts, a
        probe's answer or a push check's ping or deadline, take this one path."""
        previous = self.states.get(check.id)
        state = advance(previous, verdict, now, duration_s)
        if check.id not in self.checks:  # removed by a reload while in flight
            return state
        self.states[check.id] = state
        persist = self.store is not None  # without a store, nothing must pile up
        if persist:
            self._dirty[check.id] = state
        self.metrics.observe(check, state, previous)
        self.last_check_monotonic = time.monotonic()
        self.last_check_wall = now
        if state.changed and persist:
            self._changes.append(
                StatusChange(
                    check.id,
                    check.service,
                    now,
                    previous.verdict.status if previous else None,
                    verdict.status,
                    verdict.reason.value,
                    verdict.detail,
                )
            )
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
        if state.changed or check.service not in self.tracks:
            # a service's status follows its checks' statuses: unchanged, nothing to do
            self._update_service(check.service, now)
        if self.alerter is not None:
            self.alerter.request()
        return state

    def _update_service(self, name: str, now: datetime, *, log: bool = True) -> None:
        checks = [check_status(c, self.states.get(c.id)) for c in self.by_service[name]]
        status, reason, detail = service_verdict(checks)
        previous = self.tracks.get(name)
        if previous is None:  # first verdict, or restored: the status began with its check's
            health = next((c for c in checks if c.kind is CheckKind.HEALTH), None)
            if health is not None and health.status is status and health.since is not None:
                now = health.since
        track = track_service(previous, status, now)
        if track is not previous:
            self.tracks[name] = track
            self.metrics.observe_service(name, status)
            if not log:
                return
            self.log.info(
                "service.status_changed",
                service=name,
                **{"from": previous.status.value if previous else "unknown"},
                to=status.value,
                reason=reason.value,
                detail=detail,
            )

    # -- reload ------------------------------------------------------------------------------

    def apply_config(self, new: MonitorConfig) -> dict[str, int]:
        """Switch to a new config without losing the state of unchanged checks."""
        old_checks = self.checks
        self.config = new
        self._index(new)
        removed = [c for cid, c in old_checks.items() if cid not in self.checks]
        added = [c for cid, c in self.checks.items() if cid not in old_checks]
        changed = [
            c for cid, c in self.checks.items() if cid in old_checks and old_checks[cid] != c
        ]
        for check in removed:
            self.scheduler.remove(check.id)
            self.metrics.forget(check)
            windows = self.latency.pop(check.id, None)
            if windows is not None:
                self.metrics.forget_windows(check, map(format_duration, windows.windows))
            self.latency_source.pop(check.id, None)
            self.states.pop(check.id, None)
            self._dirty.pop(check.id, None)
        gone_services = {c.service for c in removed} - set(self.by_service)
        for name in gone_services:
            self.tracks.pop(name, None)
            self.metrics.forget_service(name)
        self.metrics.declare(added, {c.service for c in added} - set(self.tracks))
        self.metrics.checks_configured.set(len(self.checks))
        if self.scheduler.running:
            for check in (*added, *changed):
                if polled(check):
                    self.scheduler.add(check)
        self.push.rejudge([c for c in (*added, *changed) if not polled(c)])
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
        await asyncio.gather(*(self.run_check(c) for c in self.checks.values() if polled(c)))

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
            for check in self.by_service.get(name, []):
                if check.kind is CheckKind.HEALTH:
                    self.scheduler.run_soon(check.id, self.config.defaults.recheck_interval)
            self.push.recheck(self.by_service.get(name, []), self.config.defaults.recheck_interval)

    # -- views -------------------------------------------------------------------------------

    def status(self) -> FleetStatus:
        summaries, within = self.latency_view()
        return fleet_status(
            self.config,
            self.states,
            self.tracks,
            self.clock(),
            summaries,
            {k: v.value for k, v in self.latency_source.items()},
            within,
            checks=None if self.shard is None else self.checks.values(),
            shard=self._shard_info,
        )

    def self_health(self) -> tuple[bool, dict[str, Any]]:
        """The monitor's own health for `/healthz`: scheduling alive, loop responsive, and
        checks completing (once the shortest interval has had time to pass twice)."""
        now = time.monotonic()
        shortest = min(
            (c.interval + c.timeout for c in self.checks.values() if polled(c)), default=60.0
        )
        since_check = None if self.last_check_monotonic is None else now - self.last_check_monotonic
        uptime = 0.0 if self.started_at is None else now - self.started_at
        stalled = uptime > 2 * shortest + 5 and (
            since_check is None or since_check > 2 * shortest + 5
        )
        problems = []
        if not self.scheduler.running:
            problems.append("scheduler is not running")
        loop_lag = self.lag_watch.loop_lag
        if loop_lag > 1.0:
            problems.append(f"event loop lag {loop_lag:.3f}s")
        if stalled and any(polled(c) for c in self.checks.values()):
            problems.append("no check has completed recently")
        return not problems, {
            "status": Status.HEALTHY.value if not problems else Status.UNHEALTHY.value,
            "problems": problems,
            "scheduler_running": self.scheduler.running,
            "event_loop_lag_seconds": round(loop_lag, 6),
            "schedule_lag_p99_seconds": _rounded(self.lag_watch.schedule_lag_p99()),
            "seconds_since_last_check": None if since_check is None else round(since_check, 3),
            "checks": len(self.checks),
            "version": __version__,
        }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 6)
