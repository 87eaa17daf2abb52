"""A started monitor's HTTP face on a free loopback port, torn down in the right order."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from monitor.http.app import serve
from monitor.runtime.daemon import Monitor


@contextlib.asynccontextmanager
async def serving(monitor: Monitor) -> AsyncIterator[str]:
    """Serve `monitor` on 127.0.0.1, port 0; yields its base URL. On exit the server stops
    first (no request lands on a stopped monitor), then the monitor."""
    runner, port = await serve(monitor, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await monitor.stop()
