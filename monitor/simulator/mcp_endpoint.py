"""A small MCP endpoint for the simulated do-mcp: stateless, JSON answers, a fixed tool list.

It speaks only what the demo's `mcp:` check needs: `server/discover` of the newest revision
and `tools/list`; any other method gets JSON-RPC's "method not found". Enough for the monitor to
show an MCP exchange end to end; the probe is tested against the official SDK in tests/.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from monitor.checks.mcp import MODERN_REVISION

METHOD_NOT_FOUND, INVALID_REQUEST = -32601, -32600


def mcp_reply(message: Any, tools: tuple[str, ...], server: str) -> dict[str, Any]:
    """The JSON-RPC answer to one request (pure, for the handler and its tests)."""
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return _error(None, INVALID_REQUEST, "not a JSON-RPC request")
    request_id = message.get("id")
    method = message["method"]
    if method == "server/discover":
        return _result(
            request_id,
            {
                "supportedVersions": [MODERN_REVISION],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": server, "version": "0.0.0-demo"},
            },
        )
    if method == "tools/list":
        listed = [
            {"name": name, "description": f"{name} (simulated)", "inputSchema": {"type": "object"}}
            for name in tools
        ]
        return _result(request_id, {"tools": listed})
    return _error(request_id, METHOD_NOT_FOUND, f"method not found: {method[:80]}")


def _result(request_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def mcp_handler(tools: tuple[str, ...], server: str) -> Any:
    """An aiohttp handler answering POSTed JSON-RPC requests with `mcp_reply`."""

    async def handle(request: web.Request) -> web.Response:
        try:
            message = json.loads(await request.read())
        except ValueError:
            return web.json_response(_error(None, -32700, "parse error"), status=400)
        reply = mcp_reply(message, tools, server)
        status = 404 if reply.get("error", {}).get("code") == METHOD_NOT_FOUND else 200
        return web.json_response(reply, status=status)

    return handle
