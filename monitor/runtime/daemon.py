"""The daemon: the imperative shell that runs checks and keeps their state.

Everything that decides (normalize, state, status) is a pure function; this object only owns
the client session, the scheduler, the metrics, and one record per check (runtime/tracked.py).
Its pieces live beside it: lifecycle.py (start, stop, store), check_results.py (the result
pipeline), config_apply.py (the config in force, reloads); this module builds the object and
serves its views (/status, /healthz, what the alert rules see).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import CollectorRegistry

from monitor import __version__
from monitor.config import Check, MonitorConfig
from monitor.fleet.sharding import other_owners
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import CheckKind, FleetStatus, ShardInfo, Status
from monitor.probes import polled
from monitor.probes.push import PushStore, PushWatcher
from monitor.probes.push.metrics import PushMetrics
from monitor.runtime.check_results import CheckResults
from monitor.runtime.config_apply import ConfigApply
from monitor.runtime.first_round import FirstRound
from monitor.runtime.lag_watch import LagWatch
from monitor.runtime.latency_gauges import latency_view
from monitor.runtime.lifecycle import Lifecycle
from monitor.runtime.scheduler import CheckScheduler
from monitor.runtime.self_health import self_health
from monitor.runtime.service_tracks import ServiceTracks
from monitor.runtime.settings import DEFAULT_SETTINGS, MonitorSettings
from monitor.runtime.store import Store
from monitor.runtime.store_writer import StoreWriter
from monitor.secrets_scrub import NO_SECRETS, Scrubber
from monitor.status import fleet_status

if TYPE_CHECKING:  # imported when --alerts asks (cli/run.py)
    from monitor.alerting.service import Alerter
    from monitor.alerting.state import RuleInput


def utc_now() -> datetime:
    return datetime.now(UTC)


class Monitor(Lifecycle, ConfigApply, CheckResults):
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
        self._flush_task = None
        self._gauge_task = None
        self.metrics = (
            metrics if metrics is not None else MonitorMetrics(CollectorRegistry(), __version__)
        )
        self.tracked = {}
        self.services = ServiceTracks(self.metrics, self.log)
        self.by_service = {}
        self._shard_info = None
        self.runs = 0
        self.reloads = 0
        self._born = time.time_ns()
        self._batched = None
        self.push = PushWatcher(
            self.apply_verdict,
            PushMetrics(self.registry),
            clock,
            store=None if store is None else PushStore(store.path),
            scrub=self._scrub_evidence,
            batch=self.services_batched,
        )
        if settings.shard is not None and settings.peers:
            self.push.peers_of = self._push_peers
        self._index(config)
        self.session = None
        self.lag_watch = LagWatch(self.metrics, self.log)
        self.scheduler = CheckScheduler(
            self.run_check,
            on_lag=self.lag_watch.observe_schedule_lag,
            on_skipped=self.lag_watch.observe_skipped,
        )
        self.started_at = None
        self.started_wall = clock()
        self.last_check_monotonic = None
        self.last_check_wall = None
        self._lag_task = None
        self._in_flight = set()
        # read at scrape time: an inc/dec pair per check took a lock twice on the hot path
        self.metrics.checks_in_flight.set_function(lambda: len(self._in_flight))
        self._stopping = False
        self.first_round = FirstRound(())  # start() waits for the checks it schedules
        self.first_round_done = asyncio.Event()
        self.result_watchers = []
        self._analytics_series = None
        self.analytics = None
        self._analytics_task = None
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

    def _push_peers(self, check: Check) -> list[str]:
        """Where else a ping of `check` must go: its other owners (docs/ha.md)."""
        shard, peers = self.settings.shard, self.settings.peers
        assert shard is not None
        return [peers[i] for i in other_owners(shard, check.id, check.service) if i < len(peers)]

    # -- alerting ----------------------------------------------------------------------------

    def rule_input(self) -> RuleInput:
        """What the alert rules see: the fleet now, and the monitor's own liveness."""
        from monitor.alerting.state import RuleInput

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

    @property
    def shard_info(self) -> ShardInfo | None:
        """What /status says of this replica's part of the fleet (None unsharded)."""
        return self._shard_info

    def status_version(self) -> tuple[int, int, int]:
        """Changes whenever what /status shows may have (its ETag): a run completed, a
        reload, a restart (states restored)."""
        return (self._born, self.runs, self.reloads)

    def service_status_now(self, name: str) -> Status:
        """A service's current status without building its view (unknown before a verdict)."""
        return self.services.status(name)

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
