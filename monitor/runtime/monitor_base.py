"""What the pieces of the `Monitor` share: the attributes its constructor sets, declared once,
so that each piece (lifecycle.py, check_results.py, config_apply.py) type-checks on its own
while `Monitor` (daemon.py) stays one object to the HTTP face, the CLI and the tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from monitor.config import MonitorConfig
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import ShardInfo, Verdict
from monitor.probes.push import PushWatcher
from monitor.runtime.first_round import FirstRound
from monitor.runtime.lag_watch import LagWatch
from monitor.runtime.scheduler import CheckScheduler
from monitor.runtime.service_tracks import ServiceTracks
from monitor.runtime.settings import MonitorSettings
from monitor.runtime.store import Store
from monitor.runtime.store_writer import StoreWriter
from monitor.runtime.tracked import TrackedCheck
from monitor.secrets_scrub import Scrubber

if TYPE_CHECKING:  # alerting and analytics are imported when a config or --alerts asks
    from monitor.alerting.service import Alerter
    from monitor.alerting.state import RuleInput
    from monitor.analytics.client import AnalyticsPoller
    from monitor.analytics.series import AnalyticsSeries

__all__ = ["MonitorBase"]


class MonitorBase:
    """Declarations only: `Monitor.__init__` sets every attribute; the methods below are the
    ones one piece calls on another."""

    config: MonitorConfig
    settings: MonitorSettings
    clock: Callable[[], datetime]
    log: Any
    alerter: Alerter | None
    store: Store | None
    scrubber: Scrubber
    metrics: MonitorMetrics
    tracked: dict[str, TrackedCheck]
    """Every check this monitor runs, by check id, in config order."""
    by_service: dict[str, list[TrackedCheck]]
    services: ServiceTracks
    _headless_names: frozenset[str]
    """Services without url (config_apply.py sets it with each config)."""
    push: PushWatcher
    """The push kind's source: pings in, deadlines watched (probes/push/)."""
    session: aiohttp.ClientSession | None
    lag_watch: LagWatch
    scheduler: CheckScheduler
    analytics: AnalyticsPoller | None
    runs: int
    reloads: int
    started_at: float | None
    started_wall: datetime
    last_check_monotonic: float | None
    last_check_wall: datetime | None
    _writer: StoreWriter | None
    _shard_info: ShardInfo | None
    _analytics_series: AnalyticsSeries | None
    _analytics_task: asyncio.Task[None] | None
    _flush_task: asyncio.Task[None] | None
    _gauge_task: asyncio.Task[None] | None
    _lag_task: asyncio.Task[None] | None
    _in_flight: set[asyncio.Task[Any]]
    _batched: dict[str, datetime] | None
    """Inside `services_batched`: the services to recompute at its end, with the time."""
    _stopping: bool
    first_round: FirstRound
    """The checks still waiting for their first verdict since `start()`."""
    first_round_done: asyncio.Event
    result_watchers: list[Callable[[str], None]]
    """Told the service of every verdict applied (/status keeps failing services' views warm)."""
    """Set when the last of them has it (runtime/gc_policy.py freezes what it built)."""

    def _headless(self, name: str) -> bool:
        """A service without url has no health check: its own checks are its health."""
        return name in self._headless_names

    def report_first_round(self) -> None:
        """Once every check waited for has its first verdict: the fleet's counts, one event."""
        statuses = self.services.statuses(list(self.by_service))
        self.log.info("monitor.first_round", **self.first_round.report(statuses))
        self.first_round_done.set()

    def rule_input(self) -> RuleInput:
        raise NotImplementedError

    def _recheck(self, services: list[str]) -> None:
        raise NotImplementedError

    def _start_analytics(self) -> None:
        raise NotImplementedError

    def _record_analytics(self, service: str, verdict: Verdict, took: float) -> None:
        raise NotImplementedError
