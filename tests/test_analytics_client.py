"""The analytics poller against the simulated endpoint, with the clock passed in: back-off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import structlog
from prometheus_client import CollectorRegistry

from monitor.analytics.client import AnalyticsPoller
from monitor.analytics.series import AnalyticsSeries
from monitor.config import parse_config
from monitor.model import Reason, Status, Verdict
from monitor.simulator.graphql_api import GraphQLSimulator, SimAnalytics, WorkerTrafficSim

T0 = datetime(2026, 11, 30, 12, 0, 5, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def api() -> AsyncIterator[GraphQLSimulator]:
    sim = SimAnalytics("acc", "tok-123456", workers={"email": WorkerTrafficSim()})
    async with GraphQLSimulator(sim) as running:
        yield running


def poller(api: GraphQLSimulator, clock: Clock, seen: list[tuple[str, Verdict]]) -> AnalyticsPoller:
    config = parse_config(
        f"cloudflare: {{account_id: acc, api_token: tok-123456, api_url: '{api.url}'}}\n"
        "services: [{name: email, url: 'http://127.0.0.1:9'}]\n"
    )
    return AnalyticsPoller(
        config,
        lambda service, verdict, _took: seen.append((service, verdict)),
        clock,
        AnalyticsSeries(CollectorRegistry()),
        structlog.get_logger("test"),
        lambda: 0.0,
    )


@pytest.mark.parametrize(
    ("retry_after", "blocked_s"),
    [("120", 120.0), ("86400", 3600.0), ("nonsense", 300.0)],
)
async def test_a_429_blocks_requests_until_retry_after_and_keeps_the_verdict(
    api: GraphQLSimulator, retry_after: str, blocked_s: float
) -> None:
    clock, seen = Clock(), []
    p = poller(api, clock, seen)
    async with aiohttp.ClientSession() as session:
        await p.poll_once(session)
        assert [v.status for _, v in seen] == [Status.HEALTHY]
        api.sim.rate_limited = 1
        api.sim.retry_after = retry_after
        clock.now += timedelta(minutes=1)
        await p.poll_once(session)
        assert p.blocked_until == clock.now + timedelta(seconds=blocked_s)
        requests = len(api.sim.arrived)
        clock.now += timedelta(seconds=blocked_s - 1)
        await p.poll_once(session)
        assert len(api.sim.arrived) == requests, "nothing is sent while blocked"
        stale = (clock.now - T0).total_seconds() > 5 * 60  # 5 intervals without data
        assert (len(seen) == 1) is not stale, "the last verdict stands until it is stale"
        clock.now += timedelta(seconds=1)
        await p.poll_once(session)
        assert len(api.sim.arrived) == requests + 1
        assert seen[-1][1].status is Status.HEALTHY


async def test_rate_limited_for_more_than_five_intervals_turns_unknown(
    api: GraphQLSimulator,
) -> None:
    clock, seen = Clock(), []
    p = poller(api, clock, seen)
    async with aiohttp.ClientSession() as session:
        await p.poll_once(session)
        api.sim.rate_limited, api.sim.retry_after = 1, 3600
        for minute in range(1, 7):
            clock.now = T0 + timedelta(minutes=minute)
            await p.poll_once(session)
            assert (len(seen) == 1) is (minute <= 5), minute
    assert (seen[-1][1].status, seen[-1][1].reason) == (
        Status.UNKNOWN,
        Reason.ANALYTICS_UNAVAILABLE,
    )
    assert "rate limited (HTTP 429)" in seen[-1][1].detail
