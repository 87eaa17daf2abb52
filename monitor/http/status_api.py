"""`GET /status`, `/status/{name}` and `/status/schema`: the fleet view as JSON, shaped by
monitor/model.py (the schema is kept in docs/status-schema.json)."""

from __future__ import annotations

from aiohttp import web

from monitor.http.json_api import MONITOR_KEY, json_response
from monitor.model import status_json_schema


async def status_handler(request: web.Request) -> web.Response:
    fleet = request.app[MONITOR_KEY].status()
    return json_response(fleet.model_dump(mode="json"))


async def service_handler(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    fleet = request.app[MONITOR_KEY].status()
    for service in fleet.services:
        if service.name == name:
            return json_response(service.model_dump(mode="json"))
    return json_response(
        {
            "error": "unknown service",
            "service": name[:100],
            "services": [s.name for s in fleet.services],
        },
        status=404,
    )


async def schema_handler(request: web.Request) -> web.Response:
    return json_response(status_json_schema())


def add_status_routes(app: web.Application) -> None:
    app.router.add_get("/status", status_handler)
    app.router.add_get("/status/schema", schema_handler)
    app.router.add_get("/status/{name}", service_handler)
