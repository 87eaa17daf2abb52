"""The mcp probe through the daemon: the official SDK's server (SSE and JSON answers) on
loopback, and hostile servers that break the protocol in the ways that matter."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web

from monitor.model import CheckKind, CheckStatus, Reason, Status
from tests.one_round import one_round


def _sdk(*modes: str) -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.mcp_server", *modes],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        yield int(proc.stdout.readline())
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()


@pytest.fixture(params=["sse", "json"])
def sdk_server(request: pytest.FixtureRequest) -> Iterator[int]:
    yield from _sdk(request.param)


@pytest.fixture(params=["sse", "json"])
def legacy_sdk_server(request: pytest.FixtureRequest) -> Iterator[int]:
    """The SDK's server as a server of the handshake era (tests/mcp_server.py)."""
    yield from _sdk(request.param, "legacy")


async def _mcp_checks(port: int, entries: str, timeout: str = "5s") -> dict[str, CheckStatus]:
    text = f"""
services:
  - name: do-mcp
    url: http://127.0.0.1:{port}
    timeout: {timeout}
    mcp:
{entries}
"""
    _, status = await one_round(text)
    return {c.name: c for c in status.services[0].checks if c.kind is CheckKind.MCP}


async def test_the_official_sdk_server_is_healthy_and_lists_its_tools(sdk_server: int) -> None:
    checks = await _mcp_checks(
        sdk_server,
        "      - {name: tools, path: /mcp, expect_tools: [search, fetch]}\n"
        "      - {name: missing, path: /mcp, expect_tools: [search, delete]}\n"
        "      - {name: wrong-path, path: /nope}\n"
        "      - {name: pinned, path: /mcp, revision: 2025-11-25}\n",
    )
    tools, missing, wrong = checks["tools"], checks["missing"], checks["wrong-path"]
    assert (tools.status, tools.reason) == (Status.HEALTHY, Reason.OK)
    assert tools.detail == "MCP 2026-07-28 via server/discover: 2 tools listed (search, fetch)"
    pinned = checks["pinned"]
    assert (pinned.status, pinned.detail) == (
        Status.HEALTHY,
        "MCP 2025-11-25 via initialize: 2 tools listed (search, fetch)",
    )
    assert tools.duration_ms is not None and tools.target_ms == 50.0
    assert (missing.status, missing.reason) == (Status.UNHEALTHY, Reason.TOOL_MISSING)
    assert missing.detail == "tool delete not listed; the server lists 2: search, fetch"
    assert (wrong.reason, wrong.http_status) == (Reason.NOT_FOUND, 404)


async def test_a_server_of_the_handshake_era_is_reached_by_the_documented_fallback(
    legacy_sdk_server: int,
) -> None:
    checks = await _mcp_checks(
        legacy_sdk_server,
        "      - {name: auto, path: /mcp, expect_tools: [search, fetch]}\n"
        "      - {name: modern-only, path: /mcp, revision: 2026-07-28}\n",
    )
    auto, modern = checks["auto"], checks["modern-only"]
    assert (auto.status, auto.reason, auto.detail) == (
        Status.HEALTHY,
        Reason.OK,
        "MCP 2025-11-25 (server/discover HTTP 400, JSON-RPC error -32600): "
        "2 tools listed (search, fetch)",
    )
    assert (modern.status, modern.reason, modern.detail) == (
        Status.UNHEALTHY,
        Reason.PROTOCOL_VERSION_MISMATCH,
        "server/discover HTTP 400, JSON-RPC error -32600: the check asks for 2026-07-28 only",
    )


def _rpc(message: dict[str, Any], **result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


LEGACY = "(server/discover HTTP 400, JSON-RPC error -32600)"
INIT = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "x"}}


async def _never_ending(request: web.Request) -> web.StreamResponse:
    stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await stream.prepare(request)
    for _ in range(10_000):  # keep-alive comments, never the answer (bounded for the test)
        await stream.write(b": ping\n\n")
        await asyncio.sleep(0.01)  # the served behaviour: a keep-alive every 10 ms
    return stream


def _error(message: dict[str, Any], code: int, text: str, **data: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": text, **({"data": data} if data else {})}
    return {"jsonrpc": "2.0", "id": message["id"], "error": error}


async def _discover(mode: str, request: web.Request, message: dict[str, Any]) -> web.StreamResponse:
    """server/discover as each hostile server answers it; by default as a server of the
    handshake era does (no session: 400, JSON-RPC -32600)."""
    assert request.headers["MCP-Protocol-Version"] == "2026-07-28"
    assert request.headers["Mcp-Method"] == "server/discover"
    meta = message["params"]["_meta"]
    assert meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    assert "Mcp-Session-Id" not in request.headers
    if mode == "discover-hangs":
        return await _never_ending(request)
    if mode == "discover-error":
        return web.json_response(_error(message, -32603, "Internal error"))
    if mode == "discover-garbage":
        return web.Response(text="<html>welcome</html>", content_type="application/json")
    if mode == "discover-odd-code":
        odd = {"code": ["x"] * 100, "message": "m" * 1000}
        return web.json_response({"jsonrpc": "2.0", "id": 1, "error": odd}, status=400)
    if mode == "discover-empty-400":
        return web.Response(status=400)
    if mode == "discover-503":
        return web.Response(status=503)
    if mode == "discover-future":
        unsupported = _error(
            message, -32022, "Unsupported protocol version", supported=["2027-03-01"]
        )
        return web.json_response(unsupported, status=400)
    if mode == "discover-header-mismatch":
        mismatch = _error(message, -32020, "Mcp-Method header does not match the body")
        return web.json_response(mismatch, status=400)
    if mode == "modern":
        result = {"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}}
        return web.json_response(_rpc(message, resultType="complete", **result))
    if mode == "modern-no-tools":
        result = {"supportedVersions": ["2026-07-28"], "capabilities": {"prompts": {}}}
        return web.json_response(_rpc(message, resultType="complete", **result))
    missing = {"code": -32600, "message": "Bad Request: Missing session ID"}
    return web.json_response({"jsonrpc": "2.0", "id": "server-error", "error": missing}, status=400)


async def _modern_tools(request: web.Request, message: dict[str, Any]) -> web.StreamResponse:
    """tools/list of the stateless era: no session, version and client in every request."""
    assert "Mcp-Session-Id" not in request.headers
    assert request.headers["Mcp-Method"] == "tools/list"
    assert message["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    return web.json_response(_rpc(message, resultType="complete", tools=[{"name": "search"}]))


async def _hostile(request: web.Request) -> web.StreamResponse:
    """One server, many failures, chosen by the path."""
    mode = request.match_info["mode"]
    message = await request.json()
    method = message.get("method")
    if method == "server/discover":
        return await _discover(mode, request, message)
    if mode.startswith("modern"):
        return await _modern_tools(request, message)
    if method == "notifications/initialized":
        return web.Response(status=202)
    if mode == "never-ending" and method == "initialize":
        return await _never_ending(request)
    if mode == "wrong-version" and method == "initialize":
        return web.json_response(_rpc(message, **{**INIT, "protocolVersion": "2024-11-05"}))
    if mode == "error" and method == "initialize":
        error = {"code": -32603, "message": "Internal error: database unreachable"}
        return web.json_response({"jsonrpc": "2.0", "id": message["id"], "error": error})
    if mode == "not-json":
        return web.Response(text="<html>login</html>", content_type="application/json")
    if method == "initialize":
        response = web.json_response(_rpc(message, **INIT))
        response.headers["Mcp-Session-Id"] = "s-1"
        return response
    assert request.headers.get("Mcp-Session-Id") == "s-1"
    assert request.headers.get("MCP-Protocol-Version") == "2025-06-18"
    if mode == "huge":
        tools = [{"name": f"tool{i}", "description": "d" * 400} for i in range(5000)]
        return web.json_response(_rpc(message, tools=tools))
    if mode == "paged":  # SSE, one page per request, 3 pages
        page = int((message.get("params") or {}).get("cursor") or 0)
        result: dict[str, Any] = {"tools": [{"name": f"t{page}"}]}
        if page < 2:
            result["nextCursor"] = str(page + 1)
        body = f"event: message\ndata: {json.dumps(_rpc(message, **result))}\n\n"
        return web.Response(body=": hi\n\n" + body, content_type="text/event-stream")
    if mode.startswith("discover-"):  # fell back to the handshake: a good tools list
        return web.json_response(_rpc(message, tools=[{"name": "search"}]))
    return web.json_response(_rpc(message, tools="not a list"))


@pytest.fixture
async def hostile() -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_route("*", "/{mode}", _hostile)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("mode", "status", "reason", "detail"),
    [
        (
            "never-ending",
            Status.UNHEALTHY,
            Reason.TIMEOUT,
            "no complete answer within the timeout: after 0.5s in initialize",
        ),
        (
            "discover-hangs",
            Status.UNHEALTHY,
            Reason.TIMEOUT,
            "no complete answer within the timeout: after 0.5s in server/discover",
        ),
        (
            "discover-error",
            Status.HEALTHY,
            Reason.OK,
            "MCP 2025-06-18 (server/discover JSON-RPC error -32603): 1 tools listed (search)",
        ),
        (
            "discover-garbage",
            Status.HEALTHY,
            Reason.OK,
            "MCP 2025-06-18 (server/discover answered no discover result): 1 tools listed (search)",
        ),
        (
            "discover-odd-code",
            Status.HEALTHY,
            Reason.OK,
            "MCP 2025-06-18 (server/discover HTTP 400, a JSON-RPC error without a numeric code): "
            "1 tools listed (search)",
        ),
        (
            "discover-empty-400",
            Status.HEALTHY,
            Reason.OK,
            "MCP 2025-06-18 (server/discover HTTP 400): 1 tools listed (search)",
        ),
        ("discover-503", Status.UNHEALTHY, Reason.SERVER_ERROR, "HTTP 503"),
        (
            "discover-future",
            Status.UNHEALTHY,
            Reason.PROTOCOL_VERSION_MISMATCH,
            "server/discover: the server supports protocol revisions 2027-03-01; "
            "the monitor speaks 2026-07-28 and 2025-03-26 to 2025-11-25",
        ),
        (
            "discover-header-mismatch",
            Status.UNHEALTHY,
            Reason.MCP_ERROR,
            "server/discover failed: JSON-RPC error -32020: "
            "Mcp-Method header does not match the body",
        ),
        (
            "modern",
            Status.HEALTHY,
            Reason.OK,
            "MCP 2026-07-28 via server/discover: 1 tools listed (search)",
        ),
        (
            "modern-no-tools",
            Status.HEALTHY,
            Reason.OK,
            "MCP 2026-07-28 via server/discover: no tools capability",
        ),
        (
            "wrong-version",
            Status.UNHEALTHY,
            Reason.PROTOCOL_VERSION_MISMATCH,
            "the server answered protocol revision '2024-11-05'; "
            "the monitor speaks 2025-03-26 to 2025-11-25",
        ),
        (
            "error",
            Status.UNHEALTHY,
            Reason.MCP_ERROR,
            "initialize failed: JSON-RPC error -32603: Internal error: database unreachable",
        ),
        ("not-json", Status.UNHEALTHY, Reason.PROTOCOL_ERROR, "initialize: the answer is not JSON"),
        ("huge", Status.UNHEALTHY, Reason.PROTOCOL_ERROR, "tools/list: answer over 1048576 bytes"),
        (
            "paged",
            Status.HEALTHY,
            Reason.OK,
            f"MCP 2025-06-18 {LEGACY}: 3 tools listed (t0, t1, t2)",
        ),
        (
            "bad-result",
            Status.UNHEALTHY,
            Reason.PROTOCOL_ERROR,
            "tools/list: the result has no tools list",
        ),
    ],
)
async def test_hostile_mcp_servers(
    hostile: int, mode: str, status: Status, reason: Reason, detail: str
) -> None:
    checks = await _mcp_checks(hostile, f"      - {{name: m, path: /{mode}}}\n", timeout="500ms")
    check = checks["m"]
    assert (check.status, check.reason, check.detail) == (status, reason, detail)
