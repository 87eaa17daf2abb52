"""The daemon's aiohttp application: the routes of monitor/http and monitor/web, `/metrics`,
`/healthz`, `POST /-/reload`, and serving it.

Thin adapters over pure renderers. `/metrics` is rendered in a worker thread so a large
registry never stalls the event loop that times the checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.payload import AsyncIterablePayload
from prometheus_client import CONTENT_TYPE_LATEST

from monitor.http.alerts_api import add_alert_routes
from monitor.http.auth import admin_only, read_auth
from monitor.http.json_api import MONITOR_KEY, json_response
from monitor.http.server_log import ServerLog
from monitor.http.status_api import add_status_routes
from monitor.probes._aiohttp_compat import site_sockets
from monitor.probes.push import add_push_routes
from monitor.runtime.daemon import Monitor
from monitor.web import register as register_status_page

MAX_REQUEST_BODY = 64 * 1024
MAX_REQUEST_LINE = 4096
"""Bytes of the request target (aiohttp's C parser; its pure-Python one counts the whole request
line). Our longest URL is a status path with a service name: 4 KiB is ample, and less to hold."""
MAX_HEADER_FIELD = 8190
"""Bytes of a header value (the C parser; the pure-Python one counts the whole header line).
aiohttp's default, kept: a browser sends the host's every cookie, whatever the port."""


async def metrics_handler(request: web.Request) -> web.Response:
    render = request.app[MONITOR_KEY].metrics.render
    chunks = await asyncio.get_running_loop().run_in_executor(None, render)

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    # sent chunk by chunk: at 100,000 checks the text is ~700 MB, joining it would double that
    return web.Response(
        body=AsyncIterablePayload(body()), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def healthz_handler(request: web.Request) -> web.Response:
    ok, details = request.app[MONITOR_KEY].self_health()
    return json_response(details, status=200 if ok else 503)


@admin_only
async def reload_handler(request: web.Request) -> web.Response:
    monitor = request.app[MONITOR_KEY]
    if monitor.config_path is None:
        return json_response(
            {"error": "this monitor was not started from a config file"}, status=409
        )
    ok, message = monitor.reload_from(monitor.config_path)
    return json_response({"ok": ok, "message": message}, status=200 if ok else 400)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response as its headers go out (a streamed /status is prepared inside its
    handler, before a middleware would see it); a handler's own CSP (the page) stays."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Content-Security-Policy", "default-src 'none'")


def build_app(monitor: Monitor) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST_BODY, middlewares=[read_auth])
    app.on_response_prepare.append(security_headers)
    app[MONITOR_KEY] = monitor
    register_status_page(app, MONITOR_KEY)  # GET / and /badge/{service}.svg
    add_status_routes(app)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz_handler)
    app.router.add_post("/-/reload", reload_handler)
    add_alert_routes(app)
    add_push_routes(app, lambda a: a[MONITOR_KEY].push)  # /push/{token}: the token is the auth
    return app


async def serve(monitor: Monitor, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start the server; returns the runner (for cleanup) and the bound port (port 0 = any)."""
    # AppRunner hands these to each connection's RequestHandler (`handler_args=` is a key of
    # `web.Application`, not of AppRunner: passed here it made every connection fall back to
    # aiohttp's defaults and log a warning).
    runner = web.AppRunner(
        build_app(monitor),
        access_log=None,
        logger=ServerLog(monitor.metrics.http_bad_requests_total),
        max_line_size=MAX_REQUEST_LINE,
        max_field_size=MAX_HEADER_FIELD,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, bound_port(site)


def bound_port(site: web.TCPSite) -> int:
    """The port a site really listens on (it differs from the asked one for port 0)."""
    return int(site_sockets(site)[0].getsockname()[1])
