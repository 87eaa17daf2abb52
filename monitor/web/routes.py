"""The status page's HTTP shell: `GET /` (and `/?part=main` for the self-refresh) and
`GET /badge/{service}.svg`. It reads the monitor and the store; `view.py` decides the rest.

The page carries its own Content-Security-Policy: scripts and styles only with a per-response
nonce, fetches only to itself, nothing from elsewhere. The server's middleware sets
`default-src 'none'` only where a handler set nothing, so every JSON route keeps that.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

from monitor.model import Status
from monitor.web.badge import badge
from monitor.web.history import fleet_history, window_start
from monitor.web.view import ICONS, LABELS, NODE_H, NODE_W, page

if TYPE_CHECKING:
    from monitor.runtime.daemon import Monitor

TEMPLATES = Path(__file__).parent / "templates"
MIN_REFRESH_S, MAX_REFRESH_S = 2, 30


def page_csp(nonce: str) -> str:
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def refresh_seconds(monitor: Monitor) -> int:
    """Poll about as often as the fastest check runs, within 2-30 s."""
    fastest = min((c.interval for c in monitor.checks()), default=MAX_REFRESH_S)
    return int(min(MAX_REFRESH_S, max(MIN_REFRESH_S, fastest)))


class StatusPage:
    """The handlers, with the template environment they share (one per app, not global)."""

    def __init__(self, key: web.AppKey[Monitor]) -> None:
        self.key = key
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=False,
        )
        self.env.globals.update(icons=ICONS, labels=LABELS, node_w=NODE_W, node_h=NODE_H)

    async def page(self, request: web.Request) -> web.Response:
        monitor = request.app[self.key]
        now = monitor.clock()
        fleet = monitor.status()
        changes = []
        if monitor.store is not None:
            changes = await asyncio.to_thread(monitor.store.history, window_start(now))
        view = page(fleet, fleet_history(changes, fleet, now), now, refresh_seconds(monitor))
        nonce = secrets.token_urlsafe(18)
        name = "main.html" if request.query.get("part") == "main" else "page.html"
        html = self.env.get_template(name).render(page=view, nonce=nonce)
        response = web.Response(
            text=html,
            content_type="text/html",
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": page_csp(nonce),
                "Referrer-Policy": "no-referrer",
            },
        )
        response.enable_compression()  # ~100 kB of bar titles shrink about tenfold
        return response

    async def badge(self, request: web.Request) -> web.Response:
        name = request.match_info["service"]
        fleet = request.app[self.key].status()
        status: Status | None = next((s.status for s in fleet.services if s.name == name), None)
        return web.Response(
            text=badge(name, status),
            status=200 if status is not None else 404,
            content_type="image/svg+xml",
            headers={"Cache-Control": "no-cache, max-age=0"},
        )


def register(app: web.Application, key: web.AppKey[Monitor]) -> None:
    """Add the status page and badges to the daemon's app (`server.build_app` calls this)."""
    handlers = StatusPage(key)
    app.router.add_get("/", handlers.page)
    app.router.add_get("/badge/{service}.svg", handlers.badge)
