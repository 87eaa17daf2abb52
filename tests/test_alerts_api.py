"""The alerts and silences API: admin token for writes, a silence holds back a page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.config import parse_config
from monitor.simulator import Behavior, SimulatedFleet, fleet_config
from tests.alerting_fixtures import HOOK_ALERTS, Recorder, alerting_monitor
from tests.polling import until
from tests.serving import serving

TOKEN = "adm-0c4b1f9d2e7a"
RULES = (
    HOOK_ALERTS
    + """\
  - {name: ServiceDown, kind: status, status: [unhealthy], for: 2, resolve_after: 2}
"""
)


@pytest.fixture
async def api(fleet: SimulatedFleet, recorder: Recorder, tmp_path: Path) -> AsyncIterator[Any]:
    for name in fleet.names:
        fleet.set_behavior(name, Behavior(body='{"status": "ok"}'))
    data: dict[str, Any] = fleet_config(fleet, interval="200ms", timeout="150ms")
    data["auth"] = {"admin_token": TOKEN}
    config = parse_config(json.dumps(data))
    monitor = alerting_monitor(config, RULES, recorder.url + "/hook", tmp_path)
    await monitor.start()
    async with serving(monitor) as url, aiohttp.ClientSession(base_url=url) as session:
        yield session, monitor


WRITES = [
    ("POST", "/api/silences"),
    ("DELETE", "/api/silences/some-id"),
    ("POST", "/api/maintenance"),
    ("POST", "/api/deploys"),
    ("POST", "/api/deploys/some-id"),
    ("POST", "/-/reload"),
]


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_every_write_needs_the_admin_token(api: Any, method: str, path: str) -> None:
    session, _ = api
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"}):
        async with session.request(method, path, json={}, headers=headers) as r:
            assert r.status == 401, (method, path, headers)
            assert r.headers["WWW-Authenticate"] == 'Bearer realm="admin"'


async def test_silence_needs_the_admin_token_and_holds_back_the_page(
    api: Any, fleet: SimulatedFleet, recorder: Recorder
) -> None:
    session, monitor = api
    body = {"matchers": {"service": "queue"}, "duration": "10m", "comment": "deploy window"}
    async with session.post("/api/silences", json=body) as r:
        assert r.status == 401
    async with session.post(
        "/api/silences", json=body, headers={"Authorization": "Bearer wrong"}
    ) as r:
        assert r.status == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with session.post("/api/silences", json={"matchers": {}}, headers=auth) as r:
        assert r.status == 400
    async with session.post("/api/silences", json=body, headers=auth) as r:
        assert r.status == 201
        silence = await r.json()
    async with session.get("/api/silences") as r:
        assert silence["id"] in [s["id"] for s in (await r.json())["silences"]]

    fleet.set_behavior("queue", Behavior(status=503, body='{"status": "down"}'))
    fleet.set_behavior("email", Behavior(status=503, body='{"status": "down"}'))
    await until(
        lambda: (
            any(b'"email"' in b for _, _, b in recorder.requests)
            and monitor.tracked["queue/health/health"].state.consecutive >= 4
        )
    )
    await monitor.alerter.evaluate_now()  # queue's confirmed failure has been evaluated
    assert not any(b'"queue"' in b for _, _, b in recorder.requests), "queue is silenced"
    async with session.get("/api/alerts") as r:
        alerts = (await r.json())["alerts"]
    assert {a["labels"]["service"] for a in alerts} >= {"email"}

    async with session.delete(f"/api/silences/{silence['id']}", headers=auth) as r:
        assert r.status == 200
    await until(lambda: any(b'"queue"' in b for _, _, b in recorder.requests))


async def test_server_refuses_oversized_bodies_and_headers(api: Any) -> None:
    session, _ = api
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with session.post(
        "/api/silences",
        data=b"x" * (128 * 1024),
        headers={**auth, "Content-Type": "application/json"},
    ) as r:
        assert r.status == 413
    async with session.get("/status", headers={"X-Big": "y" * 10000}) as r:
        assert r.status in (400, 431)
