"""The page's dependency view: why a failing service fails (the pager's own rule,
alerting/dependencies.py) and a layered drawing of `depends_on`. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitor.alerting import dependencies
from monitor.model import ServiceStatus, Status
from monitor.web.words import LABELS

NODE_W, NODE_H, GAP_X, GAP_Y, BOW = 150, 38, 24, 34, 40


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a service fails, when another explains it (alerting/dependencies.py's rule): `root`
    (what the pager names and holds the page back for) or `suspect` (fails less badly)."""

    kind: str
    services: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    status: Status
    x: int
    y: int
    root_cause: bool


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    path: str
    """SVG path data: straight down to the next layer, a bow to the right past layers."""
    broken: bool


@dataclass(frozen=True, slots=True)
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int
    label: str
    alone: list[str] = field(default_factory=list)


def causes(services: Sequence[ServiceStatus]) -> dict[str, Cause]:
    """For each failing service, what the pager names (`dependencies.explain`, the one rule):
    root causes as "Likely caused by", a less failing dependency as a suspect."""
    by_name = {s.name: s for s in services}
    out: dict[str, Cause] = {}
    for name, why in dependencies.explain(by_name).items():
        if by_name[name].status not in dependencies.FAILING:
            continue  # a healthy row has nothing to explain
        if why.roots:
            found = tuple(c.service for c in why.roots)
            out[name] = Cause("root", found, _blame("Likely caused by", why.roots))
        else:
            found = tuple(c.service for c in why.suspects)
            out[name] = Cause("suspect", found, _blame("Depends on", why.suspects))
    return out


def _blame(lead: str, found: Sequence[dependencies.Cause]) -> str:
    """ "Likely caused by a and b, which are down"; statuses that differ are named one by one."""
    words = [LABELS[c.status].lower() for c in found]
    if len(set(words)) == 1:
        names = [c.service for c in found]
        return f"{lead} {_names(names)}, which {'is' if len(names) == 1 else 'are'} {words[0]}"
    return f"{lead} {_names([f'{c.service} ({w})' for c, w in zip(found, words, strict=True)])}"


def _names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def graph(services: Sequence[ServiceStatus], found: Mapping[str, Cause]) -> Graph:
    """A layered drawing of `depends_on`: dependents on top, what they depend on below
    (narrow, so it stays readable on a phone)."""
    by_name = {s.name: s for s in services}
    edges = [(s.name, d) for s in services for d in s.depends_on if d in by_name]
    linked = {n for e in edges for n in e}
    order = [s.name for s in services if s.name in linked]
    depth = dict.fromkeys(order, 0)
    for _ in range(len(order)):  # longest path from a leaf; bounded, so cycles end
        for a, b in edges:
            depth[a] = max(depth[a], min(depth[b] + 1, len(order)))
    top = max(depth.values(), default=0)
    layers: dict[int, list[str]] = {}
    for name in order:
        layers.setdefault(top - depth[name], []).append(name)
    pos: dict[str, tuple[int, int]] = {}
    for layer, names in layers.items():
        for i, name in enumerate(names):
            pos[name] = (i * (NODE_W + GAP_X), layer * (NODE_H + GAP_Y))
    roots = {n for c in found.values() if c.kind == "root" for n in c.services}
    nodes = [Node(n, by_name[n].status, *pos[n], root_cause=n in roots) for n in order]
    lines = [
        Edge(a, b, _edge_path(pos[a], pos[b]), by_name[b].status is not Status.HEALTHY)
        for a, b in edges
    ]
    across = max((len(v) for v in layers.values()), default=0)
    label = "; ".join(f"{a} depends on {b} ({LABELS[by_name[b].status].lower()})" for a, b in edges)
    return Graph(
        nodes,
        lines,
        width=max(0, across * (NODE_W + GAP_X) - GAP_X + BOW),
        height=max(0, len(layers) * (NODE_H + GAP_Y) - GAP_Y),
        label=label or "No service declares dependencies",
        alone=[s.name for s in services if s.name not in linked],
    )


def _edge_path(a: tuple[int, int], b: tuple[int, int]) -> str:
    (ax, ay), (bx, by) = a, b
    if by - ay <= NODE_H + GAP_Y:  # next layer: from the bottom of a to the top of b
        x1, y1, x2, y2 = ax + NODE_W // 2, ay + NODE_H, bx + NODE_W // 2, by
        mid = (y1 + y2) // 2
        return f"M{x1} {y1} C{x1} {mid} {x2} {mid} {x2} {y2}"
    x1, y1, x2, y2 = ax + NODE_W, ay + NODE_H // 2, bx + NODE_W, by + NODE_H // 2
    bow = max(x1, x2) + BOW
    return f"M{x1} {y1} C{bow} {y1} {bow} {y2} {x2} {y2}"
