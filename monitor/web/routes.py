"""The status page's HTTP shell: `GET /` (and `/?part=main`) and `GET /badge/{service}.svg`;
the JSON the open page calls is page_api.py. It reads the monitor and the store; `summary.py`
and `view.py` decide the rest.

A fleet of at most `FOLD_ABOVE` services is shown whole. A bigger one costs what it shows: one
pass over the services' current statuses (counts, folding, the change journal), then views and
history only for the services shown in full, so the first response stays ~100 KB and tens of
milliseconds at 100,000 services. `Server-Timing` says what it cost: `page` the wall time,
`cpu` the event loop thread's CPU time meanwhile.

The page carries its own Content-Security-Policy: scripts and styles only with a per-response
nonce, fetches only to itself, nothing from elsewhere. The server's middleware sets
`default-src 'none'` only where a handler set nothing, so every JSON route keeps that.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

from monitor.alerting.maintenance import Deploy
from monitor.http.service_index import IndexCache, ServiceIndex
from monitor.model import Status
from monitor.runtime.store import StatusChange, Store
from monitor.web.badge import badge
from monitor.web.graph import NODE_H, NODE_W
from monitor.web.history import WEEK, fleet_history, window_start
from monitor.web.journal import ChangeJournal
from monitor.web.summary import MAX_CARDS, Summary, summarize
from monitor.web.view import Page, page
from monitor.web.words import ICONS, LABELS

if TYPE_CHECKING:
    from monitor.runtime.daemon import Monitor

TEMPLATES = Path(__file__).parent / "templates"
MIN_REFRESH_S, MAX_REFRESH_S = 2, 30
SNAPSHOT_EVERY_S = 1.0
"""Open pages polling share one pass over the fleet per this many seconds."""
HISTORY_ROWS = 500
"""Stored changes read per service shown in full (a flapping one cannot make the page slow)."""
INCIDENT_SERVICES = 20
CARD_BYTES = 140_000
"""A folded page's cards stop here, so the first response stays under 200 KB whatever the
cards hold (a flapping service's uptime bar is ~10 KB); the rest is a search away."""
"""Services with recent incidents looked up for the incident list of a folded page."""


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


@dataclass(frozen=True)
class ConfigView:
    """What the page derives from a config, once per config (a reload makes a new one)."""

    index: ServiceIndex
    """The app's one index of the services (/status's too)."""
    refresh_s: int


def deploys_of(monitor: Monitor) -> list[Deploy]:
    return [] if monitor.alerter is None else list(monitor.alerter.deploys.values())


@dataclass(frozen=True)
class Snapshot:
    """Every service's status at one moment, summarised and numbered in the journal."""

    index: ServiceIndex
    statuses: list[Status]
    summary: Summary
    seq: int
    version: tuple[int, ...]
    taken: float

    def status_of(self, name: str) -> Status | None:
        """None: not one of the services (any more)."""
        i = self.index.position.get(name)
        return None if i is None else self.statuses[i]


class StatusPage:
    """The handlers, with the template environment, the change journal and the config's index
    they share (one per app, not global)."""

    def __init__(self, key: web.AppKey[Monitor], indexes: IndexCache) -> None:
        self.key = key
        self.indexes = indexes
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=False,
            auto_reload=False,  # a card is an include: no stat() of its file per card
        )
        self.env.globals.update(
            icons=ICONS, labels=LABELS, node_w=NODE_W, node_h=NODE_H, max_cards=MAX_CARDS
        )
        self.journal = ChangeJournal(start=secrets.randbelow(1 << 40))
        self._snapshot: Snapshot | None = None
        self._config: tuple[object, ConfigView] | None = None

    def config(self, monitor: Monitor) -> ConfigView:
        """Rebuilt only when the config object changes (at 100,000 services a pass over the
        config's models costs ~20 ms, too much for every page and poll)."""
        if self._config is None or self._config[0] is not monitor.config:
            view = ConfigView(self.indexes.index(monitor), refresh_seconds(monitor))
            self._config = (monitor.config, view)
        return self._config[1]

    def snapshot(self, monitor: Monitor, *, fresh: bool) -> Snapshot:
        """The fleet now; a poll reuses one taken less than SNAPSHOT_EVERY_S ago (or with
        nothing run since), so a hundred open pages cost one pass, not a hundred."""
        version = monitor.status_version()
        last, moment = self._snapshot, time.monotonic()
        if last is not None and (
            last.version == version or (not fresh and moment - last.taken < SNAPSHOT_EVERY_S)
        ):
            return last
        index = self.config(monitor).index
        statuses = list(index.status_at)  # kept current by the daemon, as /status reads it
        seq = self.journal.record(index.names, statuses)
        taken = Snapshot(index, statuses, summarize(index, statuses), seq, version, moment)
        self._snapshot = taken
        return taken

    async def view(self, monitor: Monitor, shot: Snapshot, shown: Sequence[str] | None) -> Page:
        """The page's view model. `shown` (a folded page, or cards for a delta): only these
        services in full, with what explains them and the recent incidents; None: every one."""
        now = monitor.clock()
        store = monitor.store
        refresh = self.config(monitor).refresh_s
        if shown is None:
            fleet = monitor.status()
            changes = (
                [] if store is None else await asyncio.to_thread(store.history, window_start(now))
            )
            history = fleet_history(changes, fleet, now)
            return page(fleet, history, now, refresh, deploys=deploys_of(monitor))
        names = list(dict.fromkeys([*shown, *failing_dependencies(shot, shown)]))
        if store is not None:
            troubled = await asyncio.to_thread(recent_trouble, store, now)
            names = list(dict.fromkeys([*names, *troubled]))
        fleet = monitor.status(names)
        changes = [] if store is None else await asyncio.to_thread(histories, store, names)
        history = fleet_history(changes, fleet, now, bars=set(shown))
        summary = dataclasses.replace(shot.summary, shown=list(shown))
        return page(fleet, history, now, refresh, summary=summary, deploys=deploys_of(monitor))

    def cards(self, view: Page) -> tuple[Page, list[str]]:
        """Each card rendered on its own (a delta sends them one by one); a folded page's stop
        at CARD_BYTES, and its fold says how many are shown."""
        template = self.env.get_template("card.html")
        out: list[str] = []
        size = 0
        for row in view.rows:
            card = template.render(r=row)  # escaped by the template: main.html marks it safe
            size += len(card)
            if view.fold is not None and size > CARD_BYTES and out:
                break
            out.append(card)
        if view.fold is not None and len(out) < len(view.rows):
            view = dataclasses.replace(
                view,
                fold=dataclasses.replace(view.fold, shown=len(out)),
                rows=view.rows[: len(out)],
            )
        return view, out

    def render(self, template: str, view: Page, nonce: str = "", seq: int = 0) -> str:
        view, cards = self.cards(view)
        return self.env.get_template(template).render(page=view, cards=cards, nonce=nonce, seq=seq)

    async def page(self, request: web.Request) -> web.Response:
        started, cpu = time.perf_counter(), time.thread_time()
        monitor = request.app[self.key]
        shot = self.snapshot(monitor, fresh=True)
        view = await self.view(monitor, shot, shot.summary.shown if shot.summary.folded else None)
        nonce = secrets.token_urlsafe(18)
        name = "main.html" if request.query.get("part") == "main" else "page.html"
        html = self.render(name, view, nonce, shot.seq)
        took = (time.perf_counter() - started) * 1000
        # the loop thread's CPU meanwhile (on a busy machine, wall time is mostly waiting)
        used = (time.thread_time() - cpu) * 1000
        response = web.Response(
            text=html,
            content_type="text/html",
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": page_csp(nonce),
                "Referrer-Policy": "no-referrer",
                "Server-Timing": f"page;dur={took:.1f}, cpu;dur={used:.1f}",
                "X-Page-Seq": str(shot.seq),
            },
        )
        response.enable_compression()  # bar titles and cards shrink about tenfold
        return response

    async def badge(self, request: web.Request) -> web.Response:
        name = request.match_info["service"]
        monitor = request.app[self.key]
        status = monitor.service_status_now(name) if name in monitor.by_service else None
        return web.Response(
            text=badge(name, status),
            status=200 if status is not None else 404,
            content_type="image/svg+xml",
            headers={"Cache-Control": "no-cache, max-age=0"},
        )


def failing_dependencies(shot: Snapshot, shown: Sequence[str], limit: int = 200) -> list[str]:
    """What the shown services depend on, transitively, that fails too: the pager's rule
    (graph.causes) needs them to name a root cause. At most `limit`."""
    index = shot.index
    found: list[str] = []
    seen = set(shown)
    stack = list(shown)
    while stack and len(found) < limit:
        at = index.position.get(stack.pop())
        for dep in index.services[at].depends_on if at is not None else ():
            if dep not in seen and shot.status_of(dep) not in (None, Status.HEALTHY):
                seen.add(dep)
                found.append(dep)
                stack.append(dep)
    return found[:limit]


def recent_trouble(store: Store, now: datetime) -> list[str]:
    """Services whose status went bad in the last week, newest first (the incident list)."""
    out: dict[str, None] = {}
    for change in store.changes(since=now - WEEK, limit=1000):
        if change.to_status is not Status.HEALTHY:
            out.setdefault(change.service)
            if len(out) >= INCIDENT_SERVICES:
                break
    return list(out)


def histories(store: Store, names: Sequence[str]) -> list[StatusChange]:
    """The stored changes of each named service, newest HISTORY_ROWS of each."""
    return [c for name in names for c in store.changes(service=name, limit=HISTORY_ROWS)]
