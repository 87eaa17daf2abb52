"""The human face of the monitor: a status page and README badges (view model in view.py,
what a big fleet folds in summary.py, uptime and incidents from stored changes in history.py,
the HTTP shell in routes.py and page_api.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from monitor.http.status_api import service_indexes
from monitor.web.page_api import add_page_api
from monitor.web.routes import StatusPage

if TYPE_CHECKING:
    from monitor.runtime.daemon import Monitor

__all__ = ["register"]


def register(app: web.Application, key: web.AppKey[Monitor]) -> None:
    """Add the status page, its JSON and badges to the daemon's app (`build_app` calls this)."""
    handlers = StatusPage(key, service_indexes(app))
    app.router.add_get("/", handlers.page)
    app.router.add_get("/badge/{service}.svg", handlers.badge)
    add_page_api(app, handlers)
