"""Root cause from the declared `depends_on` graph: one rule for the page and the pager (pure).

When do-db is down, auth and do-gateway fail too; paging three people for one cause is noise,
and the status page must tell the story the page tells. The rule, read as an on-call engineer:

- A dependency *explains* a service when it fails at least as badly (down explains down or
  degraded; degraded explains only degraded or a healthy service's latency alert). The chain
  is followed only through explaining links: a healthy link breaks it.
- The *root causes* are the ends of those chains (with cycles condensed: a cycle at the end
  is named whole). A root is never itself held back, so every held-back page points at one
  that can go out; a service in a cycle with its cause gets none, or two services would hold
  back each other's page and nobody would be paged.
- With no root, a failing direct dependency that fails less badly (a degraded one under a
  down service) is only a *suspect*: named, never a reason to hold a page back, because a
  degraded service may page nobody.
- A dependency that is not monitored is not known to fail, and is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from monitor.model import Status

FAILING = frozenset({Status.DEGRADED, Status.UNHEALTHY})
_SEVERITY = {Status.DEGRADED: 1, Status.UNHEALTHY: 2}


class Service(Protocol):
    """What the rule reads: `ServiceStatus` (the page) and `ServiceInput` (the pager) both fit."""

    @property
    def status(self) -> Status: ...

    @property
    def since(self) -> datetime | None: ...

    @property
    def depends_on(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class Cause:
    """A failing dependency, as a dependent's alert and status row name it."""

    service: str
    status: Status
    since: datetime | None

    def describe(self) -> str:
        when = f" since {self.since:%H:%M}" if self.since is not None else ""
        return f"{self.service} {self.status.value}{when}"


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a service fails: `roots` hold its page back; `suspects` are only named."""

    roots: tuple[Cause, ...] = ()
    suspects: tuple[Cause, ...] = ()

    def describe(self) -> str:
        """The `likely_cause` annotation: roots as they are, suspects as what it depends on."""
        if self.roots:
            return "; ".join(c.describe() for c in self.roots)
        return "; ".join(f"depends on {c.describe()}" for c in self.suspects)


def _severity(service: Service | None) -> int:
    return 0 if service is None else _SEVERITY.get(service.status, 0)


def _explaining(name: str, services: Mapping[str, Service]) -> list[str]:
    """The dependencies of `name` that fail at least as badly as it does, in declared order."""
    floor = max(_severity(services[name]), 1)
    return [
        d for d in dict.fromkeys(services[name].depends_on) if _severity(services.get(d)) >= floor
    ]


def _reach(name: str, services: Mapping[str, Service]) -> list[str]:
    """Every service reached from `name` over explaining links, depth first, `name` excluded."""
    seen = {name}
    order: list[str] = []
    stack = list(reversed(_explaining(name, services)))
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        order.append(current)
        stack.extend(reversed([d for d in _explaining(current, services) if d not in seen]))
    return order


def _cause(name: str, services: Mapping[str, Service]) -> Cause:
    return Cause(name, services[name].status, services[name].since)


def explain(services: Mapping[str, Service]) -> dict[str, Explanation]:
    """Per service that a failing dependency explains or is suspected of: why, by the rule above."""
    reach = {name: _reach(name, services) for name in services}
    closure = {name: set(found) for name, found in reach.items()}

    def at_an_end(r: str) -> bool:  # everything r reaches reaches r back
        return all(r in closure[x] for x in closure[r])

    out: dict[str, Explanation] = {}
    for name, service in services.items():
        roots = [r for r in reach[name] if name not in closure[r] and at_an_end(r)]
        if roots:
            out[name] = Explanation(roots=tuple(_cause(r, services) for r in roots))
            continue
        if service.status not in FAILING:
            continue
        suspects = [
            d
            for d in dict.fromkeys(service.depends_on)
            if _severity(services.get(d)) > 0 and name not in closure[d]
        ]
        if suspects:
            out[name] = Explanation(suspects=tuple(_cause(d, services) for d in suspects))
    return out


def affected_dependents(
    explained: Mapping[str, Explanation], services: Mapping[str, Service]
) -> dict[str, list[str]]:
    """Per root cause: the failing services it explains (sorted), for `likely_cause_of`."""
    out: dict[str, list[str]] = {}
    for name, why in explained.items():
        if services[name].status in FAILING:
            for cause in why.roots:
                out.setdefault(cause.service, []).append(name)
    return {k: sorted(v) for k, v in out.items()}
