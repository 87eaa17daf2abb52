"""The shell around the pure core: one POST per interval, backs off on 429, records verdicts.

It never raises for what the API does: an outage, a 5xx, a body that is not JSON or GraphQL
`errors[]` without data make every analytics check `unknown` with the reason; a 429 keeps the
last verdicts (no flapping) until its `Retry-After` has passed, and only when no data came for
`STALE_INTERVALS` intervals do the checks turn `unknown`. Every request is bounded in time and
in the bytes read.
"""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp

from monitor.analytics.query import Window, fleet_query, last_complete_interval
from monitor.analytics.series import AnalyticsSeries
from monitor.analytics.verdicts import (
    AnalyticsUnavailable,
    FleetTraffic,
    QueueActivity,
    fleet_verdicts,
    read_answer,
    retry_after_seconds,
    unavailable,
)
from monitor.config import MonitorConfig
from monitor.model import Verdict

MAX_ANSWER_BYTES = 4 * 1024 * 1024
SETTLE_S = 5.0
"""Seconds after an interval's end before it is queried: the last events reach the dataset."""
RATE_LIMIT_DEFAULT_S = 300.0
"""Cloudflare answers 429 "for the next 5 minutes" when the quota is spent (docs/cloudflare.md)."""
MAX_BACKOFF_S = 3600.0
"""A `Retry-After` longer than this is not believed: a wrong header must not mute analytics."""
STALE_INTERVALS = 5
"""Intervals without data (rate limited) before the analytics checks become `unknown`."""

Record = Callable[[str, Verdict, float], None]
"""(service name, verdict, seconds the exchange took)."""


class AnalyticsPoller:
    """Queries the fleet's analytics once per interval and hands each service its verdict."""

    def __init__(
        self,
        config: MonitorConfig,
        record: Record,
        clock: Callable[[], datetime],
        series: AnalyticsSeries,
        log: Any,
        monotonic: Callable[[], float],
    ) -> None:
        self.config = config
        self._record = record
        self._clock = clock
        self._series = series
        self._log = log
        self._monotonic = monotonic
        self.blocked_until: datetime | None = None
        self.last_data_at: datetime | None = None
        self.history: dict[str, collections.deque[QueueActivity]] = {}
        series.declare(config)

    def apply_config(self, config: MonitorConfig) -> None:
        self.config = config
        self._series.declare(config)

    @property
    def interval(self) -> float:
        assert self.config.cloudflare is not None
        return self.config.cloudflare.interval

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Poll on every interval boundary (plus `SETTLE_S`) until cancelled."""
        while True:
            now = self._clock().timestamp()
            wait = self.interval - now % self.interval + min(SETTLE_S, self.interval / 4)
            await asyncio.sleep(wait)
            await self.poll_once(session)

    async def poll_once(self, session: aiohttp.ClientSession) -> None:
        now = self._clock()
        if self.blocked_until is not None and now < self.blocked_until:
            self._log.info("analytics.backing_off", until=self.blocked_until.isoformat())
            self._stale_check(now)
            return
        window = last_complete_interval(now, self.interval)
        started = self._monotonic()
        try:
            traffic = await self._fetch(session, window, now)
        except AnalyticsUnavailable as exc:
            self._series.api_requests.labels("unavailable").inc()
            self._log.warning("analytics.unavailable", reason=str(exc))
            self._record_all(unavailable(str(exc)), self._monotonic() - started)
            return
        if traffic is None:  # rate limited
            self._stale_check(now)
            return
        self._series.api_requests.labels("partial" if traffic.problems else "ok").inc()
        if traffic.problems:
            self._log.warning("analytics.partial", problems=list(traffic.problems))
        self.last_data_at = now
        self._remember_queues(traffic)
        self._series.observe(self.config, traffic)
        verdicts = fleet_verdicts(self.config, traffic, window.seconds, self.history)
        took = self._monotonic() - started
        for service, verdict in verdicts.items():
            self._record(service, verdict, took)

    async def _fetch(
        self, session: aiohttp.ClientSession, window: Window, now: datetime
    ) -> FleetTraffic | None:
        cloudflare = self.config.cloudflare
        assert cloudflare is not None
        headers = {
            "Authorization": f"Bearer {cloudflare.api_token.get_secret_value()}",
            "Content-Type": "application/json",
        }
        timeout = aiohttp.ClientTimeout(total=min(self.interval, 30.0))
        body = fleet_query(self.config, window)
        try:
            async with session.post(
                cloudflare.api_url,
                json=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                if response.status == 429:
                    wait = min(
                        MAX_BACKOFF_S,
                        retry_after_seconds(
                            response.headers.get("Retry-After"), now, RATE_LIMIT_DEFAULT_S
                        ),
                    )
                    self.blocked_until = datetime.fromtimestamp(now.timestamp() + wait, now.tzinfo)
                    self._series.api_requests.labels("rate_limited").inc()
                    self._log.warning("analytics.rate_limited", retry_after_s=wait)
                    return None
                raw = await response.content.read(MAX_ANSWER_BYTES + 1)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise AnalyticsUnavailable(f"analytics API unreachable: {type(exc).__name__}") from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise AnalyticsUnavailable("analytics API answer larger than 4 MiB")
        try:
            decoded = json.loads(raw) if status == 200 else None
        except (ValueError, UnicodeDecodeError):
            raise AnalyticsUnavailable("analytics API answered invalid JSON") from None
        return read_answer(status, decoded)

    def _remember_queues(self, traffic: FleetTraffic) -> None:
        assert self.config.cloudflare is not None
        keep = self.config.cloudflare.backlog_intervals + 1
        if traffic.queues is None:
            return
        for service in self.config.services:
            for queue in service.queues:
                seen = traffic.queues.get(queue.queue_id, QueueActivity())
                history = self.history.setdefault(queue.queue_id, collections.deque(maxlen=keep))
                history.append(seen)

    def _stale_check(self, now: datetime) -> None:
        """Rate limited: keep the last verdicts, unless the data is too old to stand for now."""
        newest = self.last_data_at
        if newest is None or (now - newest).total_seconds() > STALE_INTERVALS * self.interval:
            until = self.blocked_until.isoformat() if self.blocked_until else "later"
            self._record_all(
                unavailable(f"analytics API rate limited (HTTP 429); retrying after {until}"), 0.0
            )

    def _record_all(self, verdict: Verdict, took: float) -> None:
        for service in self.config.services:
            self._record(service.name, verdict, took)
