"""What `GET /status?...` asks for: filters, a page size and a cursor, parsed from the query
string and applied to the config's services. Pure (no aiohttp, no clock): the handler in
status_api.py parses, selects, then builds only the selected services' status.

Filters of one kind are alternatives (`?status=degraded,unhealthy`, `?service=a&service=b`,
`?team=x&team=y`); filters of different kinds must all hold, as must every `?label=k=v` and
`?search=` (part of the name, any case: the status page's search box uses these filters too).
Services come in config order; the cursor names the last service of the previous page, so a
page boundary does not move when services before it change status.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice

from monitor.config import NAME_PATTERN
from monitor.http.service_index import ServiceIndex
from monitor.model import Status

MAX_LIMIT = 10_000
PARAMETERS = ("status", "service", "label", "team", "search", "limit", "cursor")
MAX_SEARCH = 100
_NAME = re.compile(NAME_PATTERN)
_STATUSES = {s.value: s for s in Status}


class BadStatusQuery(ValueError):
    """A query string `/status` cannot answer; the message says what to send instead."""


@dataclass(frozen=True)
class StatusQuery:
    statuses: frozenset[Status] = frozenset()
    services: frozenset[str] = frozenset()
    labels: tuple[tuple[str, str], ...] = ()
    teams: frozenset[str] = frozenset()
    search: str = ""
    """Part of the name, any case (the status page's search box)."""
    limit: int | None = None
    after: str | None = None
    """The service the cursor names: the page starts after it."""
    filtered: bool = field(default=False)
    """Any parameter given: the answer carries `page`."""


def parse_status_query(params: Mapping[str, Sequence[str]]) -> StatusQuery:
    """`params`: every value of each parameter, in order (a multidict's `getall`)."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise BadStatusQuery(
            f"unknown parameter {unknown[0][:40]!r}; expected {', '.join(PARAMETERS)}"
        )
    statuses: set[Status] = set()
    for value in _values(params, "status"):
        if value not in _STATUSES:
            raise BadStatusQuery(
                f"unknown status {value[:40]!r}; expected one or more of "
                f"{', '.join(_STATUSES)}, comma-separated"
            )
        statuses.add(_STATUSES[value])
    services = set(_values(params, "service"))
    bad = next((s for s in sorted(services) if not _NAME.fullmatch(s)), None)
    if bad is not None:
        raise BadStatusQuery(f"service {bad[:40]!r} is not a service name")
    labels = []
    for value in params.get("label", ()):
        key, sep, wanted = value.partition("=")
        if not sep or not key:
            raise BadStatusQuery(f"label {value[:40]!r}: expected key=value")
        labels.append((key, wanted))
    return StatusQuery(
        statuses=frozenset(statuses),
        services=frozenset(services),
        labels=tuple(labels),
        teams=frozenset(params.get("team", ())),
        search=_search(params.get("search", ())),
        limit=_limit(params.get("limit", ())),
        after=_cursor(params.get("cursor", ())),
        filtered=bool(params),
    )


def _values(params: Mapping[str, Sequence[str]], key: str) -> Iterable[str]:
    """Repeated and comma-separated values alike; an empty one is an error, not 'all'."""
    for raw in params.get(key, ()):
        for value in raw.split(","):
            if not value:
                raise BadStatusQuery(f"{key}: empty value; leave the parameter out for all")
            yield value


def _search(values: Sequence[str]) -> str:
    if not values:
        return ""
    if len(values) > 1 or len(values[0]) > MAX_SEARCH:
        raise BadStatusQuery(f"search: expected one piece of a name, at most {MAX_SEARCH} long")
    return values[0].strip().lower()


def _limit(values: Sequence[str]) -> int | None:
    if not values:
        return None
    if len(values) > 1 or not values[0].isdigit() or not 1 <= int(values[0]) <= MAX_LIMIT:
        raise BadStatusQuery(f"limit: expected one whole number from 1 to {MAX_LIMIT}")
    return int(values[0])


def encode_cursor(service: str) -> str:
    return base64.urlsafe_b64encode(service.encode()).decode().rstrip("=")


def _cursor(values: Sequence[str]) -> str | None:
    if not values:
        return None
    invalid = BadStatusQuery("cursor: expected the next_cursor of a previous answer")
    if len(values) > 1 or len(values[0]) > 200:
        raise invalid
    token = values[0]
    try:
        name = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    if not _NAME.fullmatch(name):
        raise invalid
    return name


@dataclass(frozen=True)
class Selection:
    names: list[str]
    """The page: matching services after the cursor, at most `limit`, in config order."""
    total: int
    """Services matching the filters, all pages."""
    next_cursor: str | None


def select_services(index: ServiceIndex, query: StatusQuery) -> Selection:
    """The services `query` asks for, from the index alone: the name, team and label filters
    read its lists, a status filter its members of that status (walked in config order
    when it is the only filter, so a page costs its own length), so only the selected
    services' views get built."""
    after = -1
    if query.after is not None:
        found = index.position.get(query.after)
        if found is None:
            raise BadStatusQuery(
                "cursor: its service is no longer configured; start again without cursor"
            )
        after = found
    pool = candidates(index, query)
    if query.search:
        pool = index.matching(query.search, pool)
    rest: Iterable[int]
    if pool is None and query.statuses:
        total, rest = index.count(query.statuses), index.with_status(query.statuses, after)
    else:
        if pool is None:
            pool = range(len(index.names))
        if query.statuses:
            pool = index.having_status(pool, query.statuses)
        total, rest = len(pool), pool[bisect_right(pool, after) :]
    page = list(islice(rest, None if query.limit is None else query.limit + 1))
    more = query.limit is not None and len(page) > query.limit
    chosen = [index.names[i] for i in page[: query.limit]]
    return Selection(chosen, total, encode_cursor(chosen[-1]) if more else None)


def candidates(index: ServiceIndex, query: StatusQuery) -> Sequence[int] | None:
    """Positions, ascending, that the name, team and label filters allow; None: no such
    filter, every service."""
    chosen: list[Collection[int]] = []
    if query.services:
        chosen.append({index.position[n] for n in query.services if n in index.position})
    if query.teams:
        teams = [index.by_team.get(team, []) for team in query.teams]
        chosen.append(teams[0] if len(teams) == 1 else {i for held in teams for i in held})
    chosen.extend(index.by_label.get(label, []) for label in query.labels)
    if not chosen:
        return None
    if len(chosen) == 1 and isinstance(chosen[0], list):
        return chosen[0]  # one team or one label: already in config order
    chosen.sort(key=len)
    return sorted(set(chosen[0]).intersection(*chosen[1:]))


def status_etag(version: tuple[int, ...], query_string: str) -> str:
    """A weak validator: the same monitor state and the same question give the same answer
    but for `generated_at` (and latency windows sliding with time)."""
    digest = hashlib.blake2b(f"{version}|{query_string}".encode(), digest_size=12)
    return f'W/"{digest.hexdigest()}"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison: `*`, or any listed tag equal but for the `W/` prefix."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",") if t.strip()}
    return "*" in tags or etag.removeprefix("W/") in tags
