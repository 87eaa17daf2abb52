"""The one index of a config's services (http/service_index.py) as statuses change under it:
every filter agrees with a brute-force pass over the whole fleet, a status's members follow
each change, and a walk by cursor stays stable while services change status between pages.
The fleet spans three blocks and a bit, so walks cross block edges."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import MonitorConfig, ServiceConfig
from monitor.http.service_index import BLOCK, ServiceIndex
from monitor.http.status_query import StatusQuery, encode_cursor, select_services
from monitor.model import Status
from tests.big_fleet import fleet_services

H, D, U, K = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN
STATUSES = list(Status)
N = 3 * BLOCK + 7


def fleet() -> list[ServiceConfig]:
    """The benches' fleet (20 teams, tier=edge|core), with services without a team, a second
    label on most and upper-case names here and there."""
    entries = fleet_services(N, "http://127.0.0.1:9")
    for i, entry in enumerate(entries):
        if i % 11 == 0:
            del entry["team"]
        if i % 4:
            entry["labels"]["zone"] = "a"
        if i % 13 == 0:
            entry["name"] = entry["name"].upper()
    return MonitorConfig.model_validate({"services": entries}, context={"env": {}}).services


SERVICES = fleet()
NAMES = [s.name for s in SERVICES]
AT = {name: i for i, name in enumerate(NAMES)}
EDGES = [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK - 1, 2 * BLOCK, 3 * BLOCK, N - 1]


def first_statuses(a: int, b: int) -> dict[str, Status]:
    return {name: STATUSES[(i * a + b) % 7 % 4] for i, name in enumerate(NAMES)}


def index_of(now: dict[str, Status]) -> ServiceIndex:
    def statuses(names: Sequence[str]) -> list[Status]:
        return [now[n] for n in names]

    return ServiceIndex(SERVICES, statuses)


def brute_force(query: StatusQuery, now: dict[str, Status]) -> tuple[list[str], int, str | None]:
    """Every filter over every service, in config order, statuses as they are now."""
    names = [
        s.name
        for s in SERVICES
        if (not query.services or s.name in query.services)
        and (not query.teams or s.team in query.teams)
        and all(s.labels.get(k) == v for k, v in query.labels)
        and query.search in s.name.lower()
        and (not query.statuses or now[s.name] in query.statuses)
    ]
    after = -1 if query.after is None else AT[query.after]
    rest = [n for n in names if AT[n] > after]
    page = rest if query.limit is None else rest[: query.limit]
    return page, len(names), encode_cursor(page[-1]) if len(rest) > len(page) else None


positions = st.sampled_from(EDGES) | st.integers(0, N - 1)
changes = st.lists(st.tuples(positions, st.sampled_from(STATUSES)), max_size=40)
queries = st.builds(
    StatusQuery,
    statuses=st.frozensets(st.sampled_from(STATUSES), max_size=3),
    services=st.frozensets(st.sampled_from([*(NAMES[i] for i in EDGES), "nope"]), max_size=3),
    labels=st.lists(st.sampled_from([("tier", "edge"), ("zone", "a"), ("tier", "x")]), max_size=2)
    .map(tuple),
    teams=st.frozensets(st.sampled_from(["team-1", "team-14", "nope"]), max_size=2),
    search=st.sampled_from(["", "s0", "s001", "s0030", "zz"]),
    limit=st.none() | st.integers(1, 300),
    after=st.none() | positions.map(NAMES.__getitem__),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), st.integers(0, 6), changes, queries)
def test_filters_agree_with_a_brute_force_pass_after_status_changes(
    a: int, b: int, moves: list[tuple[int, Status]], query: StatusQuery
) -> None:
    now = first_statuses(a, b)
    index = index_of(now)
    for i, status in moves:
        now[NAMES[i]] = status
        index.status_changed(NAMES[i], status)
    chosen = select_services(index, query)
    assert (chosen.names, chosen.total, chosen.next_cursor) == brute_force(query, now)
    rebuilt = select_services(index_of(now), query)  # followed == built from scratch
    assert (rebuilt.names, rebuilt.total) == (chosen.names, chosen.total)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(0, 6),
    st.frozensets(st.sampled_from(STATUSES), min_size=1, max_size=2),
    st.sampled_from([(), (("tier", "edge"),)]),
    st.integers(1, 400),
    st.lists(changes, min_size=1, max_size=30),
)
def test_a_walk_by_cursor_is_stable_while_statuses_change_between_pages(
    a: int,
    b: int,
    wanted: frozenset[Status],
    labels: tuple[tuple[str, str], ...],
    limit: int,
    between: list[list[tuple[int, Status]]],
) -> None:
    now = first_statuses(a, b)
    index = index_of(now)
    kept = {n for n, s in now.items() if s in wanted}  # held a wanted status all along
    query = StatusQuery(statuses=wanted, labels=labels, limit=limit)
    seen: list[str] = []
    for page in range(N + 1):  # bounded: a page holds at least one service
        chosen = select_services(index, query)
        assert all(now[n] in wanted for n in chosen.names)  # what it served matched then
        seen += chosen.names
        if chosen.next_cursor is None:
            break
        for i, status in between[page % len(between)]:
            now[NAMES[i]] = status
            index.status_changed(NAMES[i], status)
            if status not in wanted:
                kept.discard(NAMES[i])
        query = StatusQuery(statuses=wanted, labels=labels, limit=limit, after=seen[-1])
    assert len(seen) == len(set(seen))  # no service twice
    order = [AT[n] for n in seen]
    assert order == sorted(order)  # config order across pages
    labelled = {s.name for s in SERVICES if all(s.labels.get(k) == v for k, v in labels)}
    assert kept & labelled <= set(seen)  # none lost that kept its status


def test_a_status_s_members_follow_a_change_of_status() -> None:
    now = dict.fromkeys(NAMES, H)
    index = index_of(now)
    down = [NAMES[i] for i in (BLOCK - 1, BLOCK, 2 * BLOCK + 3)]
    for name in down:
        index.status_changed(name, U)
    first = select_services(index, StatusQuery(statuses=frozenset({U}), limit=2))
    assert (first.names, first.total) == (down[:2], 3)
    assert first.next_cursor == encode_cursor(down[1])
    rest = select_services(index, StatusQuery(statuses=frozenset({U}), limit=2, after=down[1]))
    assert (rest.names, rest.total, rest.next_cursor) == (down[2:], 3, None)
    assert select_services(index, StatusQuery(statuses=frozenset({H}))).total == N - 3
    index.status_changed(down[1], D)  # unhealthy -> degraded: leaves one, joins the other
    index.status_changed(down[1], D)  # the same status again changes nothing
    index.status_changed("not-a-service", U)  # a name the index does not hold: ignored
    assert select_services(index, StatusQuery(statuses=frozenset({U}))).names == [
        down[0],
        down[2],
    ]
    assert select_services(index, StatusQuery(statuses=frozenset({D}))).names == [down[1]]
    assert (index.count([U]), index.count([D]), index.count([H, K])) == (2, 1, N - 3)


def test_an_index_built_without_statuses_holds_every_service_as_unknown() -> None:
    index = ServiceIndex(SERVICES[:5])
    assert select_services(index, StatusQuery(statuses=frozenset({K}))).names == NAMES[:5]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (-1, [0, BLOCK - 1, BLOCK, N - 1]),
        (0, [BLOCK - 1, BLOCK, N - 1]),
        (BLOCK - 1, [BLOCK, N - 1]),
        (BLOCK, [N - 1]),
        (N - 1, []),
    ],
)
def test_with_status_walks_in_config_order_across_blocks(after: int, expected: list[int]) -> None:
    now = dict.fromkeys(NAMES, H)
    for i in (N - 1, BLOCK, 0, BLOCK - 1):
        now[NAMES[i]] = U
    assert list(index_of(now).with_status([U], after)) == expected
