"""The official MCP Python SDK's server on loopback, run in its own process.

`python -m tests.mcp_server [json] [legacy]` prints its port and serves until stdin closes:
tools `search` and `fetch` over the streamable HTTP transport at /mcp, answering in SSE (the
default) or, with `json`, in plain JSON. The SDK serves both eras (the stateless 2026-07-28 and
the handshake revisions); with `legacy`, a request of the stateless era gets what servers of the
handshake era answer it (the SDK's 1.x transport: no session, so 400 and a JSON-RPC -32600),
so the fallback meets the SDK's own handshake. The SDK is a test dependency only.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.types.version import HANDSHAKE_PROTOCOL_VERSIONS

MISSING_SESSION = {
    "jsonrpc": "2.0",
    "id": "server-error",
    "error": {"code": -32600, "message": "Bad Request: Missing session ID"},
}


def app(json_response: bool) -> object:
    server = MCPServer("loopback-mcp")

    @server.tool()
    def search(query: str) -> str:
        """Search the index."""
        return f"results for {query}"

    @server.tool()
    def fetch(url: str) -> str:
        """Fetch one document."""
        return url

    return server.streamable_http_app(json_response=json_response)


def legacy_only(inner: Any) -> Any:
    """The ASGI app as a server of the handshake era: a request without a session whose
    MCP-Protocol-Version is no handshake revision is refused the way those servers did."""
    body = json.dumps(MISSING_SESSION).encode()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or [])
        version = headers.get(b"mcp-protocol-version", b"").decode()
        modern = version and version not in HANDSHAKE_PROTOCOL_VERSIONS
        if scope["type"] == "http" and modern and b"mcp-session-id" not in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await inner(scope, receive, send)

    return app


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    served = app("json" in sys.argv[1:])
    if "legacy" in sys.argv[1:]:
        served = legacy_only(served)
    config = uvicorn.Config(served, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)

    def stop_on_eof() -> None:
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=stop_on_eof, daemon=True).start()
    print(sock.getsockname()[1], flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
