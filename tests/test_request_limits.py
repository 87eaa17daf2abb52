"""The daemon's request limits exactly at and one past each edge: a body of 64 KiB is read, one
byte more is 413; a header value of 8190 bytes is served, 8191 is refused; a request target of
4096 bytes is routed, 4097 is refused. The figures are written out: they are the documented
limits (README, "Running it"), not read from monitor.http.app. aiohttp answers an
over-long header or target with a plain 400."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.config import parse_config
from monitor.simulator import SimulatedFleet, fleet_config
from tests.alerting_fixtures import Recorder, alerting_monitor
from tests.serving import serving

TOKEN = "adm-5e0a9c3b7d21"
RULES = """
route: [hook]
receivers:
  - {name: hook, type: webhook, url: "${HOOK_URL}"}
rules:
  - {name: ServiceDown, kind: status, status: [unhealthy]}
"""
BODY_LIMIT = 64 * 1024
TARGET_LIMIT = 4096
HEADER_LIMIT = 8190


@pytest.fixture
async def client(
    fleet: SimulatedFleet, recorder: Recorder, tmp_path: Path
) -> AsyncIterator[aiohttp.ClientSession]:
    data: dict[str, Any] = fleet_config(fleet, interval="10s", timeout="5s")
    data["auth"] = {"admin_token": TOKEN}
    monitor = alerting_monitor(parse_config(json.dumps(data)), RULES, recorder.url, tmp_path)
    await monitor.start(schedule=False)
    async with serving(monitor) as url, aiohttp.ClientSession(base_url=url) as session:
        yield session


def _silence_of_size(size: int) -> bytes:
    """A valid silence request padded with trailing spaces to exactly `size` bytes."""
    body = json.dumps(
        {"matchers": {"service": "queue"}, "duration": "10m", "comment": "limits"}
    ).encode()
    return body + b" " * (size - len(body))


@pytest.mark.parametrize(("size", "expected"), [(BODY_LIMIT, 201), (BODY_LIMIT + 1, 413)])
async def test_request_body_limit(client: aiohttp.ClientSession, size: int, expected: int) -> None:
    body = _silence_of_size(size)
    assert len(body) == size
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with client.post("/api/silences", data=body, headers=headers) as r:
        assert r.status == expected


@pytest.mark.parametrize(("size", "expected"), [(HEADER_LIMIT, 200), (HEADER_LIMIT + 1, 400)])
async def test_header_value_limit(client: aiohttp.ClientSession, size: int, expected: int) -> None:
    async with client.get("/status/schema", headers={"X-Big": "y" * size}) as r:
        assert r.status == expected


@pytest.mark.parametrize(("size", "expected"), [(TARGET_LIMIT, 404), (TARGET_LIMIT + 1, 400)])
async def test_request_target_limit(
    client: aiohttp.ClientSession, size: int, expected: int
) -> None:
    prefix = "/status/"
    target = prefix + "a" * (size - len(prefix))
    assert len(target) == size
    async with client.get(target) as r:
        assert r.status == expected
