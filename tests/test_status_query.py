"""`/status` filters through the index (issue 18): the same answers as a plain pass over the
config, for every combination of filters, pages and cursors."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from monitor.config import ServiceConfig
from monitor.http.service_index import ServiceIndex
from monitor.http.status_query import (
    BadStatusQuery,
    StatusQuery,
    encode_cursor,
    select_services,
)
from monitor.model import Status

STATUSES = list(Status)
SERVICES = [
    ServiceConfig(
        name=f"s{i:03d}",
        url=f"http://127.0.0.1:9/s{i}",
        team=None if i % 7 == 0 else f"team-{i % 4}",
        labels={"tier": "edge" if i % 3 == 0 else "core", **({"zone": "a"} if i % 5 else {})},
    )
    for i in range(120)
]
STATUS_OF = {s.name: STATUSES[(i * 7) % len(STATUSES)] for i, s in enumerate(SERVICES)}


def statuses_now(names: Sequence[str]) -> list[Status]:
    return [STATUS_OF[n] for n in names]


def reference(query: StatusQuery) -> tuple[list[str], int, str | None]:
    """The rule in its plainest form: every filter over every service, in config order."""
    pool = [
        s
        for s in SERVICES
        if (not query.services or s.name in query.services)
        and (not query.teams or s.team in query.teams)
        and all(s.labels.get(k) == v for k, v in query.labels)
        and (not query.statuses or STATUS_OF[s.name] in query.statuses)
    ]
    names = [s.name for s in pool]
    order = [s.name for s in SERVICES]
    after = -1 if query.after is None else order.index(query.after)
    rest = [n for n in names if order.index(n) > after]
    page = rest if query.limit is None else rest[: query.limit]
    return page, len(names), encode_cursor(page[-1]) if len(rest) > len(page) else None


QUERIES = [
    StatusQuery(
        statuses=frozenset(statuses),
        services=frozenset(services),
        labels=labels,
        teams=frozenset(teams),
        limit=limit,
        after=after,
        filtered=True,
    )
    for statuses, services, labels, teams, limit, after in itertools.product(
        [(), (Status.UNHEALTHY, Status.DEGRADED)],
        [(), ("s010", "s011", "s012", "nope")],
        [(), (("tier", "core"),), (("tier", "edge"), ("zone", "a")), (("tier", "x"),)],
        [(), ("team-1",), ("team-1", "team-2")],
        [None, 7],
        [None, "s011", "s119"],
    )
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_index_answers_as_a_pass_over_the_config_does(query: StatusQuery) -> None:
    chosen = select_services(ServiceIndex(SERVICES, statuses_now), query)
    assert (chosen.names, chosen.total, chosen.next_cursor) == reference(query)


def test_a_walk_by_cursor_visits_each_match_once_in_config_order() -> None:
    index = ServiceIndex(SERVICES, statuses_now)
    query = StatusQuery(labels=(("tier", "core"),), teams=frozenset({"team-2"}), limit=4)
    seen: list[str] = []
    while True:
        chosen = select_services(index, query)
        seen += chosen.names
        if chosen.next_cursor is None:
            break
        query = StatusQuery(labels=query.labels, teams=query.teams, limit=4, after=seen[-1])
    assert seen == reference(StatusQuery(labels=query.labels, teams=query.teams))[0]
    assert len(seen) > 8


def test_a_cursor_naming_a_service_no_longer_configured_is_refused() -> None:
    with pytest.raises(BadStatusQuery, match="no longer configured"):
        select_services(ServiceIndex(SERVICES, statuses_now), StatusQuery(after="gone"))
