"""`monitor demo` as users start it: a subprocess on loopback, its /status read over HTTP.

The demo shows one check of each kind issue 16 added (http with a CEL `expect:`, mcp, tcp)
next to the seed's health and rpc checks, without changing the seed's service statuses.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from monitor.simulator.mcp_endpoint import METHOD_NOT_FOUND, mcp_reply
from tests.polling import until_value
from tests.test_cli import MONITOR, fetch_json
from tests.test_daemon import SEED_TABLE

KINDS = {
    # kind: (service, check, status, reason, detail)
    "http": ("do-gateway", "items", "healthy", "ok", r"reports healthy \(JSON\)"),
    "mcp": (
        "do-mcp",
        "tools",
        "healthy",
        "ok",
        r"MCP 2026-07-28 via server/discover: 2 tools listed \(search, fetch\)",
    ),
    "tcp": ("email", "banner", "healthy", "ok", r"connected in [\d.]+ ms, banner matches"),
}


class Demo:
    def __init__(self, status_url: str, fleet_url: str) -> None:
        self.status_url, self.fleet_url = status_url, fleet_url

    async def checks(self, session: aiohttp.ClientSession) -> dict[str, dict[str, Any]] | None:
        """The demo's checks of the new kinds by kind, once every check has been checked."""
        status = await fetch_json(session, self.status_url)
        if status is None:
            return None
        services: list[dict[str, Any]] = status["services"]  # type: ignore[assignment]
        found = {
            c["kind"]: {**c, "service": s["name"]}
            for s in services
            for c in s["checks"]
            if c["kind"] in KINDS
        }
        every = [c for s in services for c in s["checks"]]
        if set(found) != set(KINDS) or any(c["reason"] == "not_checked" for c in every):
            return None
        return found


@pytest.fixture
async def demo() -> AsyncIterator[Demo]:
    proc = await asyncio.create_subprocess_exec(
        *MONITOR,
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--fleet-port",
        "0",
        "--interval",
        "500ms",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    drain: asyncio.Task[bytes] | None = None
    try:
        status_url = fleet_url = ""
        async with asyncio.timeout(30):
            while not status_url:
                line = (await proc.stderr.readline()).decode()
                assert line, "the demo exited before serving"
                if started := re.search(r"simulated services on (http://\S+) and up", line):
                    fleet_url = started[1]  # the first service: do-gateway
                if served := re.search(r"status:\s+(http://\S+/status)", line):
                    status_url = served[1]
        drain = asyncio.create_task(proc.stderr.read())  # the log must not fill the pipe
        yield Demo(status_url, fleet_url)
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout=10)
        if drain is not None:
            await drain


async def test_demo_status_has_one_check_of_each_new_kind(demo: Demo) -> None:
    async with aiohttp.ClientSession() as session:
        checks = await until_value(lambda: demo.checks(session), timeout=30, what="checked")
        status = await fetch_json(session, demo.status_url)
    for kind, (service, name, state, reason, detail) in KINDS.items():
        check = checks[kind]
        assert (check["service"], check["name"], check["status"], check["reason"]) == (
            service,
            name,
            state,
            reason,
        ), check
        assert re.fullmatch(detail, check["detail"]), check["detail"]
    assert checks["tcp"]["url"].startswith("tcp://127.0.0.1:")
    assert checks["mcp"]["url"].endswith("/mcp")
    assert status is not None
    services: list[dict[str, Any]] = status["services"]  # type: ignore[assignment]
    assert {s["name"]: s["status"] for s in services} == {
        k: v[0].value for k, v in SEED_TABLE.items()
    }


async def test_demo_api_check_fails_when_its_cel_expectation_does(demo: Demo) -> None:
    broken = {"body": {"ok": True, "items": []}}  # the service says ok; the expectation, not
    async with aiohttp.ClientSession() as session:
        await until_value(lambda: demo.checks(session), timeout=30, what="checked")
        url = f"{demo.fleet_url}/__sim__/behavior?path=/smoke/items"
        async with session.put(url, json=broken) as response:
            assert response.status == 200

        async def failed() -> dict[str, Any] | None:
            checks = await demo.checks(session)
            http = checks["http"] if checks else None
            return http if http and http["reason"] == "assertion_failed" else None

        check = await until_value(failed, timeout=30, what="assertion_failed")
    assert check["status"] == "unhealthy"
    assert "size(json.items) >= 1" in check["detail"], check["detail"]


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call"}, METHOD_NOT_FOUND),
        ({"jsonrpc": "2.0", "id": 1}, -32600),
        ([1, 2], -32600),
    ],
)
def test_simulated_mcp_endpoint_refuses_what_it_does_not_speak(message: object, code: int) -> None:
    assert mcp_reply(message, ("search",), "do-mcp")["error"]["code"] == code


def test_simulated_mcp_endpoint_lists_its_tools_for_the_request_id() -> None:
    reply = mcp_reply({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}, ("a", "b"), "x")
    assert reply["id"] == 7
    assert [t["name"] for t in reply["result"]["tools"]] == ["a", "b"]
