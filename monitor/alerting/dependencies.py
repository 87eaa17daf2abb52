"""Dependency-aware paging, derived from the declared `depends_on` graph (pure).

When do-db is down, auth and do-gateway fail too; paging three people for one cause is noise.
Like Alertmanager inhibition, but from the graph: a dependent's page is held back while a
service it depends on (transitively) is degraded or unhealthy; the dependency's alert names
the dependents ("likely cause of: auth, do-gateway") and the held-back alert names the cause
("likely cause: do-db unhealthy since 12:03"). Holding back never applies to a resolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.alerting.state import ServiceInput
from monitor.model import Status

FAILING = frozenset({Status.DEGRADED, Status.UNHEALTHY})


@dataclass(frozen=True, slots=True)
class Cause:
    """A failing dependency, as a dependent's alert names it."""

    service: str
    status: Status
    since: datetime | None

    def describe(self) -> str:
        when = f" since {self.since:%H:%M}" if self.since is not None else ""
        return f"{self.service} {self.status.value}{when}"


def _ancestors(name: str, services: Mapping[str, ServiceInput]) -> list[str]:
    """Every service `name` depends on, transitively, nearest first; cycles end the walk."""
    seen: set[str] = {name}
    order: list[str] = []
    frontier = [name]
    while frontier:
        nxt: list[str] = []
        for current in frontier:
            service = services.get(current)
            for dep in service.depends_on if service else ():
                if dep not in seen:
                    seen.add(dep)
                    order.append(dep)
                    nxt.append(dep)
        frontier = nxt
    return order


def _failing(name: str, services: Mapping[str, ServiceInput]) -> bool:
    service = services.get(name)
    return service is not None and service.status in FAILING


def likely_causes(services: Mapping[str, ServiceInput]) -> dict[str, tuple[Cause, ...]]:
    """Per service with a failing (transitive) dependency: the root causes among them.

    A root cause is a failing dependency none of whose own dependencies fail; when every
    failing dependency has a failing dependency (a cycle), all of them are named. A service in
    a cycle with its cause gets none: two services holding back each other's page would page
    nobody.
    """
    out: dict[str, tuple[Cause, ...]] = {}
    for name in services:
        failing = [d for d in _ancestors(name, services) if _failing(d, services)]
        failing = [d for d in failing if name not in _ancestors(d, services)]
        if not failing:
            continue
        roots = [
            d
            for d in failing
            if not any(_failing(a, services) for a in _ancestors(d, services) if a != name)
        ]
        out[name] = tuple(
            Cause(d, services[d].status, services[d].since) for d in (roots or failing)
        )
    return out


def affected_dependents(services: Mapping[str, ServiceInput]) -> dict[str, list[str]]:
    """Per failing service: the failing services that depend on it, transitively (sorted)."""
    out: dict[str, list[str]] = {}
    for name in services:
        if not _failing(name, services):
            continue
        for dep in _ancestors(name, services):
            if _failing(dep, services):
                out.setdefault(dep, []).append(name)
    return {k: sorted(v) for k, v in out.items()}


def describe(causes: tuple[Cause, ...]) -> str:
    return "; ".join(c.describe() for c in causes)
