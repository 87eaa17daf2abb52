"""The official MCP Python SDK's server on loopback, run in its own process.

`python -m tests.mcp_server [json]` prints its port and serves until stdin closes: tools
`search` and `fetch` over the streamable HTTP transport at /mcp, answering in SSE (the
default) or, with `json`, in plain JSON. The SDK is a test dependency only.
"""

from __future__ import annotations

import socket
import sys
import threading

import uvicorn
from mcp.server.mcpserver import MCPServer


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


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(app("json" in sys.argv[1:]), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)

    def stop_on_eof() -> None:
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=stop_on_eof, daemon=True).start()
    print(sock.getsockname()[1], flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
