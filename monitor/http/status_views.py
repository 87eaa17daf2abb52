"""`/status`'s JSON per service, kept until what it shows changes (issue 18).

Building a service's view and its JSON costs ~40-60 us at 100,000 services (its checks'
latency quantiles, the models, the serialiser): an answer of thousands of services is mostly
that. So each service's JSON is kept with what it was built from, and reused while all of it
is the same objects: its checks (a reload makes new ones) and their states (a new state per
result), its track (status and since), the maintenance window holding it, and the config.
The filtered and the unfiltered answer both go through here.

How stale it may be: only the latency figures (`latency_ms`, `within_target`) depend on the
time as well (their windows slide). A kept view shows them as of when it was built, after its
checks' last results; the next result of any of the service's checks rebuilds it, so they are
at most one check interval (plus its timeout) older than the answer. Every other field is
exact. Memory: the JSON of each service asked for since the last reload (~1.1 KB for a
service with one check: ~110 MB at 100,000 services once the unfiltered answer was asked).

Services that are not healthy are kept warm from the daemon's start: their view is rebuilt
soon after each of their results (in batches, off the request), because they are what a
poller and a person ask for on a bad day (`?status=unhealthy,degraded`), the first answer
too. 2,000 failing of 100,000 services at a 60 s interval cost ~2 ms of CPU a second, 50,000
failing ~4 %; healthy services are built when asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from operator import is_
from typing import TYPE_CHECKING

from monitor.model import FleetStatus, Page, ServiceStatus, Status, unvalidated, worst
from monitor.state import ServiceTrack

if TYPE_CHECKING:
    from monitor.runtime.daemon import Monitor
    from monitor.runtime.tracked import TrackedCheck

__all__ = ["StatusViews"]

WARM_DELAY_S = 0.25
"""Results are gathered this long before their services' views are rebuilt: a batch."""
WARM_BATCH = 200
"""Views rebuilt per turn of the loop at most (~10 ms), so no request waits longer."""

_SERIALISER = ServiceStatus.__pydantic_serializer__
"""`model_dump_json` without the decode to str (the answer is written as bytes)."""


@dataclass(slots=True, frozen=True)
class _View:
    parts: tuple[object, ...]
    """Each check and its state, as the view was built from them (compared by identity)."""
    track: ServiceTrack | None
    held: tuple[str, datetime] | None
    status: Status
    json: bytes


def _parts(records: Sequence[TrackedCheck]) -> tuple[object, ...]:
    parts: list[object] = []
    for record in records:
        parts += (record.check, record.state)
    return tuple(parts)


def _held(service: ServiceStatus) -> tuple[str, datetime] | None:
    note = service.maintenance
    return None if note is None else (note.name, note.ends_at)


class StatusViews:
    """The kept JSON of the services' views, for one monitor (one per app)."""

    def __init__(self) -> None:
        self._views: dict[str, _View] = {}
        self._config: object = None
        self._followed: Monitor | None = None
        self._dirty: dict[str, None] = {}  # an ordered set: the earliest results first
        self._warming: asyncio.Handle | None = None

    def follow(self, monitor: Monitor) -> None:
        """From now on, keep the views of `monitor`'s services that are not healthy warm
        (told each result); the app does from its start."""
        if self._followed is monitor:
            return
        if self._followed is not None:
            self._followed.result_watchers.remove(self._result)
        monitor.result_watchers.append(self._result)
        self._followed = monitor

    def unfollow(self) -> None:
        """Stop keeping views warm (the app is closing): no watcher or batch left behind."""
        if self._followed is not None:
            self._followed.result_watchers.remove(self._result)
            self._followed = None
        if self._warming is not None:
            self._warming.cancel()
            self._warming = None
        self._dirty.clear()

    def _result(self, service: str) -> None:
        monitor = self._followed
        if monitor is None or monitor.services.status(service) is Status.HEALTHY:
            return
        self._dirty[service] = None
        if self._warming is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # a verdict applied outside the daemon's loop (a test)
                return
            self._warming = loop.call_later(WARM_DELAY_S, self._warm)

    def _warm(self) -> None:
        """Rebuild up to WARM_BATCH of the views results made stale; the rest next turn."""
        self._warming = None
        monitor, dirty = self._followed, self._dirty
        if monitor is None:
            return
        batch = list(islice(dirty, WARM_BATCH))
        for name in batch:
            del dirty[name]
        tracks, by_service = monitor.services.tracks, monitor.by_service
        still = [
            n
            for n in batch
            if n in by_service
            and (t := tracks.get(n)) is not None
            and t.status is not Status.HEALTHY
        ]
        if still:
            self._refresh(monitor, still, monitor.clock())
        if dirty:
            self._warming = asyncio.get_running_loop().call_soon(self._warm)

    def answer(
        self, monitor: Monitor, names: Sequence[str] | None, page: Page | None = None
    ) -> tuple[FleetStatus, list[bytes]]:
        """The document's shell (no services) and each service's JSON, in the order of
        `names` (all of the monitor's services, in config order, for None)."""
        by_service = monitor.by_service
        wanted = list(by_service) if names is None else [n for n in names if n in by_service]
        now = monitor.clock()
        views = self._refresh(monitor, wanted, now)
        chosen = [views[name] for name in wanted if name in views]
        counts = {status: 0 for status in Status}
        for view in chosen:
            counts[view.status] += 1
        shell = unvalidated(
            FleetStatus,
            {
                "status": worst(v.status for v in chosen),
                "generated_at": now,
                "counts": counts,
                "services": [],
                "shard": monitor.shard_info,
                "page": page,
            },
        )
        return shell, [view.json for view in chosen]

    def _refresh(self, monitor: Monitor, wanted: Sequence[str], now: datetime) -> dict[str, _View]:
        """The kept views, those of `wanted` rebuilt where what they show changed."""
        if monitor.config is not self._config:  # a reload: its views, and no others
            self._views, self._config = {}, monitor.config
        views, by_service, tracks = self._views, monitor.by_service, monitor.services.tracks
        held = self._held_now(monitor, wanted, now)
        missing = []
        for name in wanted:
            view = views.get(name)
            if (
                view is None
                or view.track is not tracks.get(name)
                or view.held != held.get(name)
                or not _same(view.parts, by_service[name])
            ):
                views.pop(name, None)
                missing.append(name)
        if missing:
            for service in monitor.status(missing).services:
                views[service.name] = _View(
                    _parts(by_service[service.name]),
                    tracks.get(service.name),
                    _held(service),
                    service.status,
                    _SERIALISER.to_json(service),
                )
        return views

    @staticmethod
    def _held_now(
        monitor: Monitor, names: Sequence[str], now: datetime
    ) -> dict[str, tuple[str, datetime]]:
        if monitor.alerter is None:
            return {}
        config = monitor.config

        def labels() -> dict[str, dict[str, str]]:
            services = (config.service(name) for name in names)
            return {s.name: s.labels for s in services if s is not None}

        return monitor.alerter.held(labels, now)


def _same(parts: tuple[object, ...], records: Sequence[TrackedCheck]) -> bool:
    if len(parts) != 2 * len(records):
        return False
    return all(map(is_, parts, _parts(records)))
