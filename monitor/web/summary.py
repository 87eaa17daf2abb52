"""What the page's first response holds at any fleet size: counts by status, the services that
need attention in full, the healthy rest folded into counts by team. Pure.

It reads only each service's current status (the daemon's per-service track, no view built),
so it costs one pass over the config: ~20 ms at 100,000 services. A fleet of at most
`FOLD_ABOVE` services is shown whole, as the page always did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.config import ServiceConfig
from monitor.model import Status, worst

FOLD_ABOVE = 50
"""At most this many services: every one in full, nothing folded."""
MAX_CARDS = 100
"""Cards in the first response at most (~1.5 KB each); the rest of a mass outage is paged."""
MAX_TEAMS = 50
"""Team lines at most, biggest first; the rest are counted and reachable by search."""
NO_TEAM = ""


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
    services: Sequence[ServiceConfig],
    statuses: Sequence[Status],
    *,
    fold_above: int = FOLD_ABOVE,
    max_cards: int = MAX_CARDS,
    max_teams: int = MAX_TEAMS,
) -> Summary:
    """`statuses[i]` is `services[i]`'s status now."""
    counts = Counter(statuses)
    every = {s: counts.get(s, 0) for s in Status}
    status = worst(counts)
    bad = [
        (s.name, st) for s, st in zip(services, statuses, strict=True) if st is not Status.HEALTHY
    ]
    if len(services) <= fold_above:
        return Summary(every, status, False, [s.name for s in services], len(bad), [], 0)
    bad.sort(key=lambda pair: -pair[1].severity)  # stable: config order within a status
    by_team = Counter(zip((s.team or NO_TEAM for s in services), statuses, strict=True))
    totals: Counter[str] = Counter()
    healthy: Counter[str] = Counter()
    for (team, st), n in by_team.items():
        totals[team] += n
        if st is Status.HEALTHY:
            healthy[team] += n
    ranked = sorted(totals, key=lambda t: (-totals[t], t))
    teams = [TeamCount(t, healthy[t], totals[t]) for t in ranked[:max_teams]]
    return Summary(
        every,
        status,
        True,
        [name for name, _ in bad[:max_cards]],
        len(bad),
        teams,
        max(0, len(ranked) - max_teams),
    )
