"""One way for tests and benchmarks to serve a real aiohttp app on loopback and take it down."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator

from aiohttp import web

from monitor.http.app import bound_port


async def start_site(
    app: web.Application, *, tls: ssl.SSLContext | None = None, shutdown_timeout: float = 60.0
) -> tuple[web.AppRunner, web.TCPSite]:
    """`app` listening on 127.0.0.1 at a port the OS picks; the caller cleans the runner up.
    For callers that need the site itself or keep the server past one block."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    return runner, site


@contextlib.asynccontextmanager
async def serving(
    app: web.Application, *, tls: ssl.SSLContext | None = None, shutdown_timeout: float = 60.0
) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 at a port the OS picks; yield its base URL; clean up on exit."""
    runner, site = await start_site(app, tls=tls, shutdown_timeout=shutdown_timeout)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{bound_port(site)}"
    finally:
        await runner.cleanup()
