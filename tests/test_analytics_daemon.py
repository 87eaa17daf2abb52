"""Real traffic through the whole daemon: the simulated fleet, the simulated GraphQL Analytics
endpoint, alert rules and a loopback webhook. Interval scaled down to 1 s (allowed because
`api_url` is not Cloudflare's)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from monitor.config import parse_config
from monitor.http.app import serve
from monitor.model import Reason, Status
from monitor.runtime.daemon import Monitor
from monitor.simulator import Behavior, SimulatedFleet, fleet_config
from monitor.simulator.graphql_api import (
    GraphQLSimulator,
    QueueSim,
    SimAnalytics,
    WorkerTrafficSim,
)
from tests.alerting_fixtures import HOOK_ALERTS, Recorder, alerting_monitor
from tests.polling import until
from tests.test_verify import monitor_cli

RULES = (
    HOOK_ALERTS
    + """\
  - {name: ServiceDown, kind: status, status: [unhealthy], for: 2, resolve_after: 2,
     severity: critical}
"""
)
UP = Behavior(body='{"status": "ok"}')
TOKEN = "cf-" + secrets.token_hex(16)


@pytest.fixture
async def api(fleet: SimulatedFleet) -> AsyncIterator[GraphQLSimulator]:
    workers = {n: WorkerTrafficSim() for n in fleet.names}
    sim = SimAnalytics("acc-test", TOKEN, workers=workers, queues={"github-sync": QueueSim()})
    async with GraphQLSimulator(sim) as running:
        yield running


@pytest.fixture
async def daemon(
    fleet: SimulatedFleet, api: GraphQLSimulator, recorder: Recorder, tmp_path: Path
) -> AsyncIterator[Monitor]:
    for name in fleet.names:
        fleet.set_behavior(name, UP)
    data: dict[str, Any] = fleet_config(fleet, interval="300ms", timeout="250ms")
    data["services"][5]["queues"] = ["github-sync"]
    data["cloudflare"] = {
        "account_id": "acc-test",
        "api_token": TOKEN,
        "interval": "1s",
        "api_url": api.url,
    }
    monitor = alerting_monitor(
        parse_config(json.dumps(data)), RULES, recorder.url + "/hook", tmp_path
    )
    await monitor.start()
    try:
        yield monitor
    finally:
        await monitor.stop()


def analytics(daemon: Monitor, service: str) -> Any:
    state = daemon.tracked[f"{service}/analytics/analytics"].state
    return None if state is None else state.verdict


def pages(recorder: Recorder, service: str, status: str) -> list[Any]:
    return [
        a
        for _, _, body in recorder.requests
        for a in json.loads(body)["alerts"]
        if a["labels"].get("service") == service and a["status"] == status
    ]


async def test_an_error_burst_on_one_worker_pages_once_names_the_ratio_and_resolves(
    daemon: Monitor, api: GraphQLSimulator, recorder: Recorder
) -> None:
    await until(lambda: analytics(daemon, "email") is not None)
    assert analytics(daemon, "email").status is Status.HEALTHY
    api.sim.workers["email"].error_ratio = 0.3
    await until(lambda: len(pages(recorder, "email", "firing")) >= 1, timeout=15)
    verdict = analytics(daemon, "email")
    assert (verdict.status, verdict.reason) == (Status.UNHEALTHY, Reason.ERROR_RATE_HIGH)
    page = pages(recorder, "email", "firing")[0]
    assert "30 % errors" in json.dumps(page["annotations"]), page["annotations"]
    assert daemon.tracked["email/health/health"].state.verdict.status is Status.HEALTHY
    api.sim.workers["email"].error_ratio = 0.0
    await until(lambda: len(pages(recorder, "email", "resolved")) >= 1, timeout=15)
    assert len(pages(recorder, "email", "firing")) == 1
    assert all(
        a["labels"]["service"] == "email"
        for _, _, b in recorder.requests
        for a in json.loads(b)["alerts"]
    )
    get = daemon.registry.get_sample_value
    assert get("monitor_worker_error_ratio", {"service": "email"}) == 0.0
    assert (get("monitor_worker_requests", {"service": "email"}) or 0) > 0
    # one request per interval for the whole fleet, never one per service
    assert len(api.sim.received) < 2 * len(daemon.config.services)


async def test_a_429_backs_off_for_retry_after_and_no_status_flaps(
    daemon: Monitor, api: GraphQLSimulator
) -> None:
    await until(lambda: analytics(daemon, "email") is not None)
    before = {name: analytics(daemon, name).status for name in daemon.by_service}
    changes = daemon.tracked["email/analytics/analytics"].state.consecutive
    api.sim.rate_limited, api.sim.retry_after = 1, 3
    await until(lambda: 429 in api.sim.answered, timeout=5)
    limited_at = api.sim.arrived[api.sim.answered.index(429)]
    await until(
        lambda: (
            api.sim.answered[-1] == 200 and len(api.sim.answered) > api.sim.answered.index(429) + 1
        ),
        timeout=10,
    )
    after = api.sim.arrived[api.sim.answered.index(429) + 1]
    assert after - limited_at >= 3 - 0.05, "the next request waited for Retry-After"
    assert {name: analytics(daemon, name).status for name in daemon.by_service} == before
    assert daemon.tracked["email/analytics/analytics"].state.consecutive > changes  # same run
    get = daemon.registry.get_sample_value
    assert get("monitor_analytics_requests_total", {"outcome": "rate_limited"}) == 1


async def test_an_api_outage_leaves_health_untouched(
    daemon: Monitor, api: GraphQLSimulator
) -> None:
    await until(lambda: all(analytics(daemon, n) is not None for n in daemon.by_service))
    health_before = {n: daemon.status().services[i].status for i, n in enumerate(daemon.by_service)}
    api.sim.outage = True
    await until(lambda: analytics(daemon, "email").status is Status.UNKNOWN, timeout=5)
    verdict = analytics(daemon, "email")
    assert verdict.reason is Reason.ANALYTICS_UNAVAILABLE
    assert "HTTP 503" in verdict.detail
    status = daemon.status()
    assert {s.name: s.status for s in status.services} == health_before
    assert all(s.status is Status.HEALTHY for s in status.services)
    for name in daemon.by_service:
        assert daemon.tracked[f"{name}/health/health"].state.verdict.status is Status.HEALTHY
    api.sim.outage = False
    await until(lambda: analytics(daemon, "email").status is Status.HEALTHY, timeout=5)


async def test_a_wrong_token_is_unknown_and_the_token_is_nowhere(
    daemon: Monitor, api: GraphQLSimulator, tmp_path: Path
) -> None:
    api.sim.api_token = "another-token"
    await until(
        lambda: (
            analytics(daemon, "email") is not None
            and analytics(daemon, "email").status is Status.UNKNOWN
        ),
        timeout=5,
    )
    assert "HTTP 403" in analytics(daemon, "email").detail
    text = daemon.status().model_dump_json() + b"".join(daemon.metrics.render()).decode()
    assert TOKEN not in text
    await daemon.flush()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


async def test_a_queue_whose_consumer_stops_degrades_its_service(
    daemon: Monitor, api: GraphQLSimulator
) -> None:
    await until(lambda: analytics(daemon, "queue") is not None)
    assert analytics(daemon, "queue").status is Status.HEALTHY
    api.sim.queues["github-sync"].consumer_stops_after = time.time() - api.sim.started
    await until(lambda: analytics(daemon, "queue").status is Status.DEGRADED, timeout=15)
    verdict = analytics(daemon, "queue")
    assert verdict.reason is Reason.QUEUE_BACKLOG_GROWING
    assert verdict.detail.startswith("queue github-sync: backlog grew for 3 intervals")
    labels = {"service": "queue", "queue": "github-sync"}
    assert (daemon.registry.get_sample_value("monitor_queue_backlog_messages", labels) or 0) > 0
    assert analytics(daemon, "email").status is Status.HEALTHY


async def test_verify_from_a_daemon_fails_a_deploy_that_raised_the_error_ratio(
    daemon: Monitor, api: GraphQLSimulator
) -> None:
    runner, port = await serve(daemon, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}"
    try:
        await until(lambda: analytics(daemon, "email") is not None)
        code, out, err = await monitor_cli("verify", "--from", url, "--service", "email")
        assert code == 0, out + err
        api.sim.workers["email"].error_ratio = 0.2
        await until(lambda: analytics(daemon, "email").status is not Status.HEALTHY, timeout=5)
        code, out, err = await monitor_cli("verify", "--from", url, "--service", "email")
        assert code == 1, out + err
        assert "FAIL email" in out and "20 % errors" in out, out
        api.sim.outage = True  # an analytics outage is no reason to hold a deploy
        api.sim.workers["email"].error_ratio = 0.0
        await until(lambda: analytics(daemon, "email").status is Status.UNKNOWN, timeout=5)
        code, out, err = await monitor_cli("verify", "--from", url, "--service", "email")
        assert code == 0, out + err
    finally:
        await runner.cleanup()


async def test_a_reload_removes_and_brings_back_the_analytics_checks(
    daemon: Monitor, api: GraphQLSimulator
) -> None:
    await until(lambda: analytics(daemon, "email") is not None)
    original = daemon.config
    counts = daemon.apply_config(original.model_copy(update={"cloudflare": None}))
    assert counts["removed"] == len(original.services)
    assert daemon.analytics is None and not any("/analytics/" in c for c in daemon.tracked)
    daemon.apply_config(original)
    assert daemon.analytics is not None
    await until(lambda: analytics(daemon, "email") is not None, timeout=5)


async def test_a_dependency_whose_users_get_errors_holds_back_its_dependents_page(
    daemon: Monitor, api: GraphQLSimulator, recorder: Recorder
) -> None:
    await until(lambda: analytics(daemon, "auth") is not None)
    for name in ("do-db", "auth"):  # auth depends on do-db
        api.sim.workers[name].error_ratio = 0.5
    await until(lambda: len(pages(recorder, "do-db", "firing")) == 1, timeout=15)
    await until(lambda: daemon.tracked["auth/analytics/analytics"].state.consecutive >= 3)
    assert daemon.alerter is not None
    await daemon.alerter.evaluate_now()
    await until(lambda: daemon.alerter is not None and daemon.alerter.outbox.depth() == 0)
    assert pages(recorder, "auth", "firing") == [], "auth's page is held back for do-db's"
    assert "auth" in json.dumps(pages(recorder, "do-db", "firing")[0]["annotations"])
