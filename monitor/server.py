"""The daemon's HTTP face: `/status`, `/status/{name}`, `/status/schema`, `/metrics`, `/healthz`,
and the status page and badges from monitor/web.

Thin adapters over pure renderers. `/metrics` is rendered in a worker thread so a large
registry never stalls the event loop that times the checks.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.log import server_logger
from aiohttp.payload import AsyncIterablePayload
from aiohttp.web_protocol import RequestPayloadError
from prometheus_client import CONTENT_TYPE_LATEST, Counter
from pydantic import SecretStr

from monitor.daemon import Monitor
from monitor.model import status_json_schema
from monitor.tracebacks import drop_tracebacks
from monitor.web import register as register_status_page

MONITOR_KEY: web.AppKey[Monitor] = web.AppKey("monitor", Monitor)
BAD_REQUEST = (HttpProcessingError, RequestPayloadError)
"""What aiohttp raises for bytes that are not a request: a head or a body that does not parse."""
MAX_REQUEST_BODY = 64 * 1024
MAX_REQUEST_LINE = 4096
"""Bytes of the request target (aiohttp's C parser; its pure-Python one counts the whole request
line). Our longest URL is a status path with a service name: 4 KiB is ample, and less to hold."""
MAX_HEADER_FIELD = 8190
"""Bytes of a header value (the C parser; the pure-Python one counts the whole header line).
aiohttp's default, kept: a browser sends the host's every cookie, whatever the port."""


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, indent=2, default=str),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def status_handler(request: web.Request) -> web.Response:
    fleet = request.app[MONITOR_KEY].status()
    return _json(fleet.model_dump(mode="json"))


async def service_handler(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    fleet = request.app[MONITOR_KEY].status()
    for service in fleet.services:
        if service.name == name:
            return _json(service.model_dump(mode="json"))
    return _json(
        {
            "error": "unknown service",
            "service": name[:100],
            "services": [s.name for s in fleet.services],
        },
        status=404,
    )


async def schema_handler(request: web.Request) -> web.Response:
    return _json(status_json_schema())


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
    return _json(details, status=200 if ok else 503)


def _bearer_ok(request: web.Request, *tokens: SecretStr | None) -> bool:
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer "):
        return False
    presented = given[len("Bearer ") :].strip().encode()
    return any(
        token is not None and hmac.compare_digest(presented, token.get_secret_value().encode())
        for token in tokens
    )


def _unauthorized(realm: str) -> web.Response:
    response = _json({"error": "unauthorized"}, status=401)
    response.headers["WWW-Authenticate"] = f'Bearer realm="{realm}"'
    return response


def require_admin(request: web.Request) -> web.Response | None:
    """None when the request carries the admin token; the refusal to send otherwise."""
    auth = request.app[MONITOR_KEY].config.auth
    if auth.admin_token is None:
        return _json({"error": "the admin API is disabled: set auth.admin_token"}, status=403)
    if not _bearer_ok(request, auth.admin_token):
        return _unauthorized("admin")
    return None


OPEN_PATHS = frozenset({"/healthz"})


@web.middleware
async def read_auth(request: web.Request, handler: Any) -> web.StreamResponse:
    """With `auth.read_token` set, reads need it (or the admin token); /healthz stays open."""
    auth = request.app[MONITOR_KEY].config.auth
    if (
        auth.read_token is not None
        and request.method == "GET"
        and request.path not in OPEN_PATHS
        and not _bearer_ok(request, auth.read_token, auth.admin_token)
    ):
        return _unauthorized("read")
    response: web.StreamResponse = await handler(request)
    return response


async def reload_handler(request: web.Request) -> web.Response:
    refused = require_admin(request)
    if refused is not None:
        return refused
    monitor = request.app[MONITOR_KEY]
    if monitor.config_path is None:
        return _json({"error": "this monitor was not started from a config file"}, status=409)
    ok, message = monitor.reload_from(monitor.config_path)
    return _json({"ok": ok, "message": message}, status=200 if ok else 400)


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Content-Security-Policy", "default-src 'none'")
    return response


def build_app(monitor: Monitor) -> web.Application:
    app = web.Application(
        client_max_size=MAX_REQUEST_BODY, middlewares=[security_headers, read_auth]
    )
    app[MONITOR_KEY] = monitor
    register_status_page(app, MONITOR_KEY)  # GET / and /badge/{service}.svg
    app.router.add_get("/status", status_handler)
    app.router.add_get("/status/schema", schema_handler)
    app.router.add_get("/status/{name}", service_handler)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz_handler)
    app.router.add_post("/-/reload", reload_handler)
    from monitor.alerts_api import add_alert_routes  # imports this module: import here

    add_alert_routes(app)
    return app


class ServerLog:
    """The logger aiohttp's request handler writes to, in place of `aiohttp.server`.

    A request that does not parse (garbage, a TLS hello on the plain port, a bad version, an
    over-long header, a body that does not inflate) is the client's fault, and anyone who
    reaches the port can send one per connection: aiohttp logs each with a traceback at ERROR.
    Here each is a count and one short debug event; everything else (a handler that raised)
    goes to aiohttp's logger as before.
    """

    def __init__(self, bad_requests: Counter, fallback: logging.Logger = server_logger) -> None:
        self.bad_requests = bad_requests
        self.fallback = fallback
        self.events = structlog.get_logger("monitor.http")

    def _refused(self, args: tuple[Any, ...], exc_info: Any) -> bool:
        if not isinstance(exc_info, BAD_REQUEST):
            return False
        self.bad_requests.inc()
        self.events.debug(
            "http.bad_request",
            error=type(exc_info).__name__,
            status=getattr(exc_info, "code", 400),
            peer=str(args[0])[:64] if args else None,
        )
        drop_tracebacks(exc_info)  # its frames hold the connection and the bytes it read
        return True

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        if not self._refused(args, kwargs.get("exc_info")):
            self.fallback.debug(msg, *args, **kwargs)

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        if not self._refused(args, kwargs.get("exc_info")):
            self.fallback.exception(msg, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fallback, name)  # warning, error, isEnabledFor, ...


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
    sockets = getattr(site._server, "sockets", None) or []
    return int(sockets[0].getsockname()[1])
