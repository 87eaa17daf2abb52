"""The JSON an open status page calls, so a big fleet is never sent whole:

- `GET /page/services?search=&status=&team=&label=&limit=&cursor=`: a page of services as
  search lines, chosen by /status's own filters, cursor and index (http/status_query.py);
- `GET /page/changes?since=N`: what changed since the page's last answer `N`. A big fleet's
  page gets the banner, the folded counts and the cards of the services whose status changed
  (`html: null`: it is healthy again, drop its card); a small one its main part re-rendered. A
  weak ETag makes a poll with nothing new a 304. `reset: true`: fetch `/?part=main` once.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from aiohttp import web

from monitor.http.json_api import json_response
from monitor.http.status_query import (
    BadStatusQuery,
    etag_matches,
    parse_status_query,
    select_services,
)
from monitor.model import Status
from monitor.web.routes import Snapshot, StatusPage
from monitor.web.summary import MAX_CARDS
from monitor.web.view import fold, search_line
from monitor.web.words import ICONS, banner

PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 500


def add_page_api(app: web.Application, handlers: StatusPage) -> None:
    async def services(request: web.Request) -> web.Response:
        monitor = request.app[handlers.key]
        params = {key: request.query.getall(key) for key in request.query}
        try:
            query = parse_status_query(params)
            limit = min(query.limit or PAGE_LIMIT, MAX_PAGE_LIMIT)
            query = dataclasses.replace(query, limit=limit)
            chosen = select_services(handlers.config(monitor).index, query)
        except BadStatusQuery as exc:
            return json_response({"error": str(exc)}, status=400)
        now = monitor.clock()
        fleet = monitor.status(chosen.names)
        return json_response(
            {
                "services": [search_line(s, now) for s in fleet.services],
                "total": chosen.total,
                "next_cursor": chosen.next_cursor,
            }
        )

    async def changes(request: web.Request) -> web.Response:
        raw = request.query.get("since", "")
        if not raw.isdigit() or len(raw) > 18:
            return json_response(
                {"error": "since: expected the seq of the page or of its last answer"},
                status=400,
            )
        since = int(raw)
        monitor = request.app[handlers.key]
        shot = handlers.snapshot(monitor, fresh=False)
        folded = shot.summary.folded
        key = f"{shot.seq}|{since}|{'' if folded else shot.version}"
        etag = f'W/"{hashlib.blake2b(key.encode(), digest_size=12).hexdigest()}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag_matches(request.headers.get("If-None-Match", ""), etag):
            return web.Response(status=304, headers=headers)
        body = await delta(handlers, monitor, shot, since)
        response = json_response(body)
        response.headers.update(headers)
        response.enable_compression()  # a small fleet's main part: cards and bar titles
        return response

    app.router.add_get("/page/services", services)
    app.router.add_get("/page/changes", changes)


async def delta(handlers: StatusPage, monitor: Any, shot: Snapshot, since: int) -> dict[str, Any]:
    """The answer to `?since=`: only what the page shows that changed."""
    summary = shot.summary
    head = banner(summary.counts, summary.status)
    body: dict[str, Any] = {
        "seq": shot.seq,
        "banner": {"status": head.status.value, "icon": ICONS[head.status], "text": head.text},
    }
    changed = handlers.journal.since(since)
    if changed is None:
        return {**body, "reset": True}
    if not summary.folded:
        view = await handlers.view(monitor, shot, None)
        return {**body, "main": handlers.render("main.html", view)}
    bad = [n for n in changed if shot.status_of(n) not in (None, Status.HEALTHY)]
    if len(bad) > MAX_CARDS:  # a mass outage: one bounded main part beats thousands of cards
        return {**body, "reset": True}
    cards: list[dict[str, Any]] = [
        {"name": n, "status": getattr(shot.status_of(n), "value", None), "html": None}
        for n in changed
        if n not in bad
    ]
    if bad:
        view, rendered = handlers.cards(await handlers.view(monitor, shot, bad))
        if len(rendered) < len(bad):  # over the page's byte budget: its bounded main part
            return {**body, "reset": True}
        cards += [
            {"name": r.name, "status": r.status.value, "html": html}
            for r, html in zip(view.rows, rendered, strict=True)
        ]
    folded = fold(summary)
    return {
        **body,
        "cards": cards,
        "fold": handlers.env.get_template("fold.html").render(f=folded),
        "attention": handlers.env.get_template("attention.html").render(f=folded),
    }
