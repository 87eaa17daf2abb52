"""One way for tests to serve a real aiohttp app on loopback and take it down again."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator

from aiohttp import web

from monitor.http.app import bound_port


@contextlib.asynccontextmanager
async def serving(
    app: web.Application, *, tls: ssl.SSLContext | None = None, shutdown_timeout: float = 60.0
) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 at a port the OS picks; yield its base URL; clean up on exit."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{bound_port(site)}"
    finally:
        await runner.cleanup()
