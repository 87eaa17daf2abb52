"""The one index of the services a daemon shows, built once per config (a reload makes a new
one) and shared by `/status`'s filters, the status page's summary and its search: where each
service is, which services each team and label holds, and which hold each status now.

Statuses change after results, so the index follows them: the daemon calls `status_changed`
where it recomputes a service's status (runtime/service_tracks.py). A filter then costs what it
selects, not a pass over 100,000 services: `?status=unknown&limit=100` walks only the unknown
services, in config order, block by block.
"""

from __future__ import annotations

import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress, repeat
from typing import TYPE_CHECKING

from monitor.config import ServiceConfig
from monitor.model import Status

if TYPE_CHECKING:
    from monitor.runtime.daemon import Monitor

NO_TEAM = ""
_NAME, _TEAM, _LABELS = (operator.attrgetter(field) for field in ("name", "team", "labels"))
BLOCK = 1024
"""Positions per block of a status's members: a walk in config order sorts one block at a
time and skips the blocks that hold none."""


class ServiceIndex:
    """`statuses` gives each named service's status now (the daemon's `ServiceTracks.statuses`;
    None: all unknown, as before any verdict); from then on `status_changed` keeps the index's
    copy."""

    def __init__(
        self,
        services: Sequence[ServiceConfig],
        statuses: Callable[[Sequence[str]], Sequence[Status]] | None = None,
    ) -> None:
        self.services = services
        # each field read in a C loop: a model's attribute read is what costs at 100,000
        self.names = list(map(_NAME, services))
        self.lowered = list(map(str.lower, self.names))
        teams: list[str | None] = list(map(_TEAM, services))
        self.teams = [team or NO_TEAM for team in teams]
        """Each service's team for the page's counts; NO_TEAM for services without one."""
        self.team_totals = Counter(self.teams)
        positions = range(len(self.names))
        self.position = dict(zip(reversed(self.names), reversed(positions), strict=True))
        """A duplicate name is refused by the config; were there one, the first would win."""
        by_team: defaultdict[str | None, list[int]] = defaultdict(list)
        by_label: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
        for i, team in enumerate(teams):
            by_team[team].append(i)
        for i, labels in enumerate(map(_LABELS, services)):
            for label in labels.items() if labels else ():
                by_label[label].append(i)
        self.by_team, self.by_label = dict(by_team), dict(by_label)
        self.status_at = (
            [Status.UNKNOWN] * len(self.names) if statuses is None else list(statuses(self.names))
        )
        """Each position's status now."""
        self._members: dict[Status, dict[int, set[int]]] = {s: {} for s in Status}
        """Status -> block number -> the positions of that block holding it."""
        for start in range(0, len(self.names), BLOCK):
            chunk = self.status_at[start : start + BLOCK]
            here = range(start, start + len(chunk))
            for status in set(chunk):
                held = compress(here, map(operator.is_, chunk, repeat(status)))
                self._members[status][start // BLOCK] = set(held)
        self._counts = Counter(self.status_at)

    def status_changed(self, name: str, status: Status) -> None:
        """`name`'s status is now `status` (a name the index does not hold is ignored)."""
        i = self.position.get(name)
        if i is None or self.status_at[i] is status:
            return
        old, block = self.status_at[i], i // BLOCK
        members = self._members[old][block]
        members.discard(i)
        if not members:
            del self._members[old][block]
        self._members[status].setdefault(block, set()).add(i)
        self._counts[old] -= 1
        self._counts[status] += 1
        self.status_at[i] = status

    def count(self, statuses: Iterable[Status]) -> int:
        """Services holding one of `statuses` now."""
        return sum(self._counts[s] for s in statuses)

    def with_status(self, statuses: Iterable[Status], after: int = -1) -> Iterator[int]:
        """Positions after `after`, ascending, whose status is one of `statuses`: block by
        block, so taking the first hundred costs about a hundred, whatever the fleet."""
        held = [self._members[s] for s in statuses]
        for block in range((after + 1) // BLOCK, -(-len(self.names) // BLOCK)):
            found = sorted(i for blocks in held for i in blocks.get(block, ()))
            yield from (i for i in found if i > after)

    def having_status(self, positions: Sequence[int], statuses: frozenset[Status]) -> list[int]:
        """Those of `positions` (ascending) whose status is one of `statuses`, in C loops."""
        now = map(self.status_at.__getitem__, positions)
        return list(compress(positions, map(statuses.__contains__, now)))

    def matching(self, piece: str, positions: Sequence[int] | None = None) -> list[int]:
        """Those of `positions` (ascending; None: all) whose name holds `piece` (lower case),
        in C loops."""
        if positions is None:
            found = map(str.__contains__, self.lowered, repeat(piece))
            return list(compress(range(len(self.names)), found))
        found = map(str.__contains__, map(self.lowered.__getitem__, positions), repeat(piece))
        return list(compress(positions, found))


def own_services(monitor: Monitor) -> list[ServiceConfig]:
    """The services this monitor shows: all, or on a sharded replica those it checks."""
    services = monitor.config.services
    if monitor.settings.shard is None:
        return services
    return [s for s in services if s.name in monitor.by_service]


class IndexCache:
    """The `ServiceIndex` of the services the daemon shows now, one per app: rebuilt on the
    first request after a reload (the config is a new object then), following each service's
    status from the moment it is built (one loop turn: no change falls between)."""

    def __init__(self) -> None:
        self._built: tuple[object, ServiceIndex] | None = None

    def index(self, monitor: Monitor) -> ServiceIndex:
        if self._built is not None and self._built[0] is monitor.config:
            return self._built[1]
        tracks = monitor.services
        index = ServiceIndex(own_services(monitor), tracks.statuses)
        if self._built is not None and self._built[1].status_changed in tracks.watchers:
            tracks.watchers.remove(self._built[1].status_changed)
        tracks.watchers.append(index.status_changed)
        self._built = (monitor.config, index)
        return index
