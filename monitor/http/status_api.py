"""`GET /status`, `/status/{name}` and `/status/schema`: the fleet view as JSON, shaped by
monitor/model.py (the schema is kept in docs/status-schema.json).

`/status` takes filters, a page size and a cursor (status_query.py): only the selected
services' views are built, or reused while nothing they show changed (status_views.py).
Every answer is written a few hundred services at a time (at 100,000 services the document is
~110 MB: never joined into one text), gzip when the client accepts it, with a weak ETag so a
poller that sends `If-None-Match` gets 304 while nothing ran.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

from aiohttp import web

from monitor.http.json_api import MONITOR_KEY, json_response
from monitor.http.service_index import IndexCache
from monitor.http.status_query import (
    BadStatusQuery,
    etag_matches,
    parse_status_query,
    select_services,
    status_etag,
)
from monitor.http.status_views import StatusViews
from monitor.model import FleetStatus, Page, status_json_schema

SERVICES_PER_CHUNK = 200


INDEX_KEY = web.AppKey("service_index", IndexCache)


VIEWS_KEY = web.AppKey("status_views", StatusViews)


def service_indexes(app: web.Application) -> IndexCache:
    """The app's one index holder: /status, the page and its search share it."""
    if INDEX_KEY not in app:
        app[INDEX_KEY] = IndexCache()
    return app[INDEX_KEY]


async def status_handler(request: web.Request) -> web.StreamResponse:
    monitor = request.app[MONITOR_KEY]
    params = {key: request.query.getall(key) for key in request.query}
    try:
        query = parse_status_query(params)
    except BadStatusQuery as exc:
        return json_response({"error": str(exc)}, status=400)
    etag = status_etag(monitor.status_version(), request.query_string)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if etag_matches(request.headers.get("If-None-Match", ""), etag):
        return web.Response(status=304, headers=headers)
    views = request.app[VIEWS_KEY]
    views.follow(monitor)  # the app's monitor (build_app follows it): a test may swap it
    if not query.filtered:
        shell, services = views.answer(monitor, None)
    else:
        try:
            chosen = select_services(request.app[INDEX_KEY].index(monitor), query)
        except BadStatusQuery as exc:
            return json_response({"error": str(exc)}, status=400)
        page = Page(total=chosen.total, limit=query.limit, next_cursor=chosen.next_cursor)
        shell, services = views.answer(monitor, chosen.names, page)
    response = web.StreamResponse(headers=headers)
    response.content_type = "application/json"
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        response.enable_compression(web.ContentCoding.gzip)
    await response.prepare(request)
    for chunk in fleet_json_chunks(shell, services):
        await response.write(chunk)
    await response.write_eof()
    return response


def fleet_json_chunks(shell: FleetStatus, services: Sequence[bytes]) -> Iterator[bytes]:
    """The document's JSON a few hundred services at a time: the shell (status, counts, shard,
    page; its `services` empty) around the services' JSON (status_views.py)."""
    before, after = shell.model_dump_json().split('"services":[]', 1)
    yield (before + '"services":[').encode()
    for start in range(0, len(services), SERVICES_PER_CHUNK):
        text = b",".join(services[start : start + SERVICES_PER_CHUNK])
        yield (b"," + text) if start else text
    yield ("]" + after).encode()


async def service_handler(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    monitor = request.app[MONITOR_KEY]
    if name in monitor.by_service:
        fleet = monitor.status([name])
        if fleet.services:
            return json_response(fleet.services[0].model_dump(mode="json"))
    return json_response(
        {
            "error": "unknown service",
            "service": name[:100],
            "services": [s.name for s in monitor.config.services],
        },
        status=404,
    )


async def schema_handler(request: web.Request) -> web.Response:
    return json_response(status_json_schema())


INDEX_WARM_AFTER_S = 1.0
"""The service index (/status's filters, the page: ~0.15 s to build at 100,000 services) is
built this long after the app starts, so neither the first filtered request nor the first
answers after listening wait for it (a request before then builds it, as after a reload)."""


def add_status_routes(app: web.Application) -> None:
    indexes = service_indexes(app)
    app[VIEWS_KEY] = views = StatusViews()
    warming: list[asyncio.TimerHandle] = []
    if MONITOR_KEY in app:  # from the start: a failing service is kept warm before it is asked
        views.follow(app[MONITOR_KEY])

    async def warm_index(app: web.Application) -> None:
        if MONITOR_KEY in app:
            loop = asyncio.get_running_loop()
            warming.append(loop.call_later(INDEX_WARM_AFTER_S, indexes.index, app[MONITOR_KEY]))

    async def let_go(app: web.Application) -> None:
        views.unfollow()
        for handle in warming:
            handle.cancel()

    app.on_startup.append(warm_index)
    app.on_cleanup.append(let_go)
    app.router.add_get("/status", status_handler)
    app.router.add_get("/status/schema", schema_handler)
    app.router.add_get("/status/{name}", service_handler)
