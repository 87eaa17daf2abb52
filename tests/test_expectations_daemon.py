"""Expectations and request bodies end to end: the daemon against a loopback server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from monitor.model import Reason, Status
from tests.one_round import one_round


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, list[tuple[str, str, bytes]]]]:
    seen: list[tuple[str, str, bytes]] = []

    async def record(request: web.Request) -> None:
        seen.append((request.method, request.headers.get("Content-Type", ""), await request.read()))

    async def health(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({"status": "ok", "version": "1.2"})

    async def create(request: web.Request) -> web.Response:
        await record(request)
        item = await request.json()
        return web.json_response({"id": "a1", **item}, status=201)

    async def rows(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({"rows": 0})

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_post("/api/items", create)
    app.router.add_get("/smoke/db", rows)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


CONFIG = """
services:
  - name: gw
    url: {url}
    expect: {{cel: 'json.version.startsWith("2")'}}
    http:
      - name: create-item
        path: /api/items
        method: POST
        json: {{"name": "smoke"}}
        expect:
          status: [201]
          cel: 'json.id != "" && headers["content-type"].startsWith("application/json")'
    rpc:
      - name: db
        path: /smoke/db
        expect: {{cel: 'json.rows >= 1'}}
"""


async def test_expectations_through_the_daemon(
    api: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    url, seen = api
    _, status = await one_round(CONFIG.format(url=url))
    [service] = status.services
    checks = {c.name: c for c in service.checks}
    assert (checks["create-item"].status, checks["create-item"].reason) == (
        Status.HEALTHY,
        Reason.OK,
    )
    assert (checks["db"].status, checks["db"].reason) == (
        Status.UNHEALTHY,
        Reason.ASSERTION_FAILED,
    )
    assert checks["db"].detail == 'expectation `json.rows >= 1` is false; it read json={"rows":0}'
    # the health normalizer said healthy; the failed expectation made it worse
    assert (checks["health"].status, checks["health"].reason) == (
        Status.UNHEALTHY,
        Reason.ASSERTION_FAILED,
    )
    assert (
        "POST",
        "application/json",
        json.dumps({"name": "smoke"}).replace(" ", "").encode(),
    ) in seen
    assert all(method == "GET" for method, _, _ in seen if method != "POST")
