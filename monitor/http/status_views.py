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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import is_
from typing import TYPE_CHECKING

from monitor.model import FleetStatus, Page, ServiceStatus, Status, unvalidated, worst
from monitor.state import ServiceTrack

if TYPE_CHECKING:
    from monitor.runtime.daemon import Monitor
    from monitor.runtime.tracked import TrackedCheck

__all__ = ["StatusViews"]

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

    def answer(
        self, monitor: Monitor, names: Sequence[str] | None, page: Page | None = None
    ) -> tuple[FleetStatus, list[bytes]]:
        """The document's shell (no services) and each service's JSON, in the order of
        `names` (all of the monitor's services, in config order, for None)."""
        if monitor.config is not self._config:  # a reload: its views, and no others
            self._views, self._config = {}, monitor.config
        views, by_service, tracks = self._views, monitor.by_service, monitor.services.tracks
        wanted = list(by_service) if names is None else [n for n in names if n in by_service]
        now = monitor.clock()
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
