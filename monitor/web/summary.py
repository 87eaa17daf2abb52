"""What the page's first response holds at any fleet size: counts by status, the services that
need attention in full, the healthy rest folded into counts by team. Pure.

It reads only each service's current status (the daemon's per-service track, no view built),
and what it needs of the config comes from the index /status filters with, built once per
config (http/service_index.py): the passes over 100,000 statuses are C loops (Counter,
compress), a few milliseconds. A fleet of at most `FOLD_ABOVE` services is shown whole, as
the page always did.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, islice, repeat

from monitor.http.service_index import ServiceIndex
from monitor.model import Status, worst

FOLD_ABOVE = 50
"""At most this many services: every one in full, nothing folded."""
MAX_CARDS = 50
"""Cards in the first response at most (~1.5 KB each); the rest of a mass outage is paged."""
MAX_TEAMS = 50
"""Team lines at most, biggest first; the rest are counted and reachable by search."""
WORST_FIRST = sorted((s for s in Status if s is not Status.HEALTHY), key=lambda s: -s.severity)


@dataclass(frozen=True, slots=True)
class TeamCount:
    team: str
    """The config's `team`; NO_TEAM for services without one."""
    healthy: int
    total: int


@dataclass(frozen=True, slots=True)
class Summary:
    counts: dict[Status, int]
    status: Status
    folded: bool
    shown: list[str]
    """Services shown in full, in the order shown: every one when not folded, else those not
    healthy, worst first, at most MAX_CARDS."""
    attention: int
    """Services not healthy, all of them (more than `shown` in a mass outage)."""
    teams: list[TeamCount]
    more_teams: int


def summarize(
    index: ServiceIndex,
    statuses: Sequence[Status],
    *,
    fold_above: int = FOLD_ABOVE,
    max_cards: int = MAX_CARDS,
    max_teams: int = MAX_TEAMS,
) -> Summary:
    """`statuses[i]` is `index.names[i]`'s status now."""
    counts = Counter(statuses)
    every = {s: counts.get(s, 0) for s in Status}
    status = worst(counts)
    attention = len(statuses) - every[Status.HEALTHY]
    if len(statuses) <= fold_above:
        return Summary(every, status, False, list(index.names), attention, [], 0)
    shown: list[str] = []
    for bad in WORST_FIRST:  # config order within a status; lazy, stops at max_cards
        if every[bad] and len(shown) < max_cards:
            match = compress(index.names, map(operator.is_, statuses, repeat(bad)))
            shown += islice(match, max_cards - len(shown))
    totals = index.team_totals
    sick = Counter(compress(index.teams, map(operator.is_not, statuses, repeat(Status.HEALTHY))))
    healthy = {team: n - sick.get(team, 0) for team, n in totals.items()}
    ranked = sorted(totals, key=lambda t: (-totals[t], t))
    teams = [TeamCount(t, healthy[t], totals[t]) for t in ranked[:max_teams]]
    return Summary(every, status, True, shown, attention, teams, max(0, len(ranked) - max_teams))
