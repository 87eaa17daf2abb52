"""The status page's view model: what a person reads, built from `/status` and history. Pure.

Everything the template shows is decided here (wording, icons, which dependency explains an
outage, what the uptime bar says on hover), so it is tested without a server or a browser.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.alerting import dependencies
from monitor.model import CheckKind, CheckStatus, FleetStatus, Reason, ServiceStatus, Status
from monitor.web.history import Bucket, FleetHistory, Incident, ServiceHistory, Uptime

LABELS = {
    Status.HEALTHY: "Healthy",
    Status.DEGRADED: "Degraded",
    Status.UNHEALTHY: "Down",
    Status.UNKNOWN: "Unknown",
}
NODE_W, NODE_H, GAP_X, GAP_Y, BOW = 150, 38, 24, 34, 40
ICONS = {Status.HEALTHY: "✓", Status.DEGRADED: "!", Status.UNHEALTHY: "✕", Status.UNKNOWN: "?"}

PHRASES: dict[Reason, str] = {
    Reason.OK: "Working normally",
    Reason.NOT_CHECKED: "Not checked yet",
    Reason.REPORTED_DEGRADED: "Reports itself degraded",
    Reason.REPORTED_UNHEALTHY: "Reports itself failing",
    Reason.REPORTED_UNKNOWN: "Reports its own health as unknown",
    Reason.COMPONENT_DEGRADED: "A part of it is degraded",
    Reason.COMPONENT_UNHEALTHY: "A part of it is failing",
    Reason.INCONSISTENT_STATUS: "Says healthy but answers with an HTTP error",
    Reason.UNRECOGNIZED_BODY: "Answers, but not in a health format we know",
    Reason.INVALID_JSON: "Answers with broken JSON",
    Reason.INVALID_ENCODING: "Answers with unreadable text",
    Reason.BODY_TOO_LARGE: "Answer too large to read",
    Reason.UNEXPECTED_CONTENT_TYPE: "Answers with the wrong content type",
    Reason.NOT_FOUND: "No health endpoint (HTTP 404)",
    Reason.UNAUTHORIZED: "Refuses the monitor's credentials",
    Reason.RATE_LIMITED: "Rate limiting the monitor",
    Reason.CLIENT_ERROR: "Rejects the request (HTTP 4xx)",
    Reason.SERVER_ERROR: "Server error (HTTP 5xx)",
    Reason.UNEXPECTED_REDIRECT: "Redirects instead of answering",
    Reason.TOO_MANY_REDIRECTS: "Redirect loop",
    Reason.WORKER_EXCEPTION: "Crashing: the worker throws an exception",
    Reason.WORKER_RESOURCE_LIMIT: "Over its platform resource limit",
    Reason.EDGE_ERROR: "Edge platform error",
    Reason.ORIGIN_UNREACHABLE: "Edge cannot reach the origin",
    Reason.TIMEOUT: "Not answering in time",
    Reason.CONNECTION_REFUSED: "Not running: connection refused",
    Reason.CONNECTION_RESET: "Connection dropped mid-answer",
    Reason.DNS_FAILURE: "Host name does not resolve",
    Reason.TLS_CERTIFICATE_EXPIRED: "TLS certificate expired",
    Reason.TLS_CERTIFICATE_UNTRUSTED: "TLS certificate not trusted",
    Reason.TLS_ERROR: "TLS handshake failed",
    Reason.PROTOCOL_ERROR: "Broken HTTP answer",
    Reason.CONNECTION_ERROR: "Cannot connect",
    Reason.LATENCY_OVER_TARGET: "Slower than its target",
    Reason.ASSERTION_FAILED: "Answer fails its expectation",
    Reason.ASSERTION_ERROR: "Expectation cannot be checked on the answer",
    Reason.CERTIFICATE_EXPIRING: "TLS certificate expires soon",
    Reason.UNEXPECTED_BANNER: "Port answers with the wrong greeting",
    Reason.MCP_ERROR: "MCP server returns an error",
    Reason.PROTOCOL_VERSION_MISMATCH: "Speaks another MCP revision",
    Reason.TOOL_MISSING: "An expected MCP tool is missing",
    Reason.ERROR_RATE_HIGH: "Real users get errors",
    Reason.CPU_NEAR_LIMIT: "Near its CPU limit",
    Reason.QUEUE_BACKLOG_GROWING: "Its queue is backing up",
    Reason.ANALYTICS_UNAVAILABLE: "Traffic analytics unavailable",
    Reason.NEVER_REPORTED: "Has not reported in yet",
    Reason.LATE: "Missed its heartbeat: the job did not report",
    Reason.REPORTED_FAILURE: "Its job reported a failed run",
    Reason.RUN_TOO_LONG: "Its job started and has not finished in time",
}


def phrase(reason: str) -> str:
    """A short human phrase for a reason code (codes from older rows pass through)."""
    try:
        return PHRASES[Reason(reason)]
    except ValueError:
        return reason.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Banner:
    status: Status
    text: str


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One check's latency against its target, in words."""

    label: str
    status: Status
    latency: str
    over_target: bool


@dataclass(frozen=True, slots=True)
class Bar:
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a service fails, when another explains it (alerting/dependencies.py's rule): `root`
    (what the pager names and holds the page back for) or `suspect` (fails less badly)."""

    kind: str
    services: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    status: Status
    label: str
    icon: str
    reason: str
    phrase: str
    detail: str
    version: str | None
    since: str
    checks: list[CheckLine]
    uptime_24h: str
    uptime_7d: str
    uptime_title: str
    answering_24h: str | None
    bars: list[Bar]
    bar_label: str
    cause: Cause | None = None
    runbook: str | None = None
    maintenance: str | None = None


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


@dataclass(frozen=True, slots=True)
class IncidentView:
    service: str
    status: Status
    label: str
    icon: str
    phrase: str
    detail: str
    start: str
    end: str
    duration: str
    ongoing: bool


@dataclass(frozen=True, slots=True)
class Page:
    banner: Banner
    rows: list[Row]
    graph: Graph
    incidents: list[IncidentView]
    generated_at: str
    refresh_s: int


# -- words ----------------------------------------------------------------------------------


def banner(fleet: FleetStatus) -> Banner:
    """ "All 10 services healthy", or the bad news first: "3 down, 2 degraded · 5 of 10 healthy"."""
    total = len(fleet.services)
    if total == 0:
        return Banner(Status.UNKNOWN, "No services configured")
    counts = {s: sum(1 for x in fleet.services if x.status is s) for s in Status}
    if counts[Status.HEALTHY] == total:
        return Banner(Status.HEALTHY, f"All {total} services healthy" if total > 1 else "Healthy")
    parts = [
        f"{counts[s]} {LABELS[s].lower()}"
        for s in (Status.UNHEALTHY, Status.DEGRADED, Status.UNKNOWN)
        if counts[s]
    ]
    return Banner(fleet.status, f"{', '.join(parts)} · {counts[Status.HEALTHY]} of {total} healthy")


def duration(seconds: float) -> str:
    """3 s, 4 min, 2 h 5 min, 3 d 4 h: two units at most."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(s // 3600, 24)
    return f"{d} d {h} h" if h else f"{d} d"


def percent(share: float | None) -> str:
    """99.95 %, never rounded up to 100 % unless it is."""
    if share is None:
        return "no data"
    if share >= 1.0:
        return "100 %"
    value = int(share * 10000) / 100  # truncate: 99.999 % is not 100 %
    return f"{value:.2f} %".replace(".00 %", " %")


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def latency_line(check: CheckStatus) -> CheckLine:
    """The latency line, and the days the check's certificate has left when it has one."""
    line = _latency_line(check)
    if check.tls is None:
        return line
    days = check.tls.days_left
    left = f"certificate {days} day{'' if days == 1 else 's'} left"
    if not check.tls.verified:
        left += " (not verified)"
    return dataclasses.replace(line, latency=f"{line.latency} · {left}")


def _latency_line(check: CheckStatus) -> CheckLine:
    """p95 against target when the daemon keeps percentiles; else the last round trip. An
    analytics check shows what real traffic did instead ("0.4 % errors over the last 5m")."""
    if check.kind is CheckKind.ANALYTICS:
        text = check.detail.removeprefix("real traffic: ") or "no measurement yet"
        return CheckLine("real traffic", check.status, text, check.status is not Status.HEALTHY)
    label = "health" if check.kind is CheckKind.HEALTH else f"{check.kind.value} {check.name}"
    target = check.target_ms
    p95 = check.latency_ms.p95 if check.latency_ms is not None else None
    if p95 is not None:
        measured, value = f"p95 {ms(p95)}", p95
    elif check.duration_ms is not None:
        measured, value = f"last {ms(check.duration_ms)}", check.duration_ms
    else:
        return CheckLine(label, check.status, "no measurement yet", False)
    if target is None:
        return CheckLine(label, check.status, measured, False)
    if p95 is None:  # one round trip is no percentile: show it, judge nothing
        return CheckLine(label, check.status, f"{measured} · target {ms(target)}", False)
    over = check.within_target is False or (check.within_target is None and value > target)
    return CheckLine(label, check.status, f"{measured} / target {ms(target)}", over)


def bar(bucket: Bucket) -> Bar:
    span = f"{bucket.start:%H:%M} to {bucket.end:%H:%M} UTC"
    if bucket.status is None:
        return Bar("none", f"{span}: no data")
    text = f"{span}: {LABELS[bucket.status]}"
    if bucket.status is not Status.HEALTHY:
        text += f" — {phrase(bucket.reason)}"
        if bucket.detail:
            text += f" ({bucket.detail[:120]})"
    return Bar(bucket.status.value, text)


# -- dependencies ---------------------------------------------------------------------------


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


# -- the page -------------------------------------------------------------------------------


def _uptime_title(day: Uptime, week: Uptime) -> str:
    return (
        f"Healthy {percent(day.up)} of the last 24 h and {percent(week.up)} of 7 d; "
        f"answering (healthy or degraded) {percent(day.available)} and "
        f"{percent(week.available)}. Only observed time counts."
    )


def maintenance_text(service: ServiceStatus, now: datetime) -> str | None:
    """ "In maintenance (db-migration) until 03:00 UTC": pages are held until then."""
    note = service.maintenance
    if note is None:
        return None
    ends = note.ends_at.astimezone(UTC)
    when = f"{ends:%H:%M} UTC" if ends.date() == now.astimezone(UTC).date() else stamp(ends)
    return f"In maintenance ({note.name}) until {when}"


def row(
    service: ServiceStatus, history: ServiceHistory | None, cause: Cause | None, now: datetime
) -> Row:
    bars = [bar(b) for b in history.buckets] if history else []
    day = history.uptime_24h if history else Uptime(None, None, 0.0)
    week = history.uptime_7d if history else Uptime(None, None, 0.0)
    since = ""
    if service.since is not None and service.reason is not Reason.NOT_CHECKED:
        since = f"for {duration((now - service.since).total_seconds())}"
    return Row(
        name=service.name,
        status=service.status,
        label=LABELS[service.status],
        icon=ICONS[service.status],
        reason=service.reason.value,
        phrase=phrase(service.reason.value),
        detail=service.detail,
        version=service.version,
        since=since,
        checks=[latency_line(c) for c in service.checks],
        uptime_24h=percent(day.up),
        uptime_7d=percent(week.up),
        uptime_title=_uptime_title(day, week),
        answering_24h=percent(day.available) if day.available != day.up else None,
        bars=bars,
        bar_label=f"{service.name}, last 24 hours in {len(bars)} slices: healthy {percent(day.up)}",
        cause=cause,
        runbook=service.runbook,
        maintenance=maintenance_text(service, now),
    )


def incident_view(incident: Incident, now: datetime) -> IncidentView:
    return IncidentView(
        service=incident.service,
        status=incident.status,
        label=LABELS[incident.status],
        icon=ICONS[incident.status],
        phrase=phrase(incident.reason),
        detail=incident.detail,
        start=stamp(incident.start),
        end="ongoing" if incident.end is None else stamp(incident.end),
        duration=duration(incident.duration_s),
        ongoing=incident.end is None,
    )


def page(fleet: FleetStatus, history: FleetHistory, now: datetime, refresh_s: int) -> Page:
    found = causes(fleet.services)
    return Page(
        banner=banner(fleet),
        rows=[row(s, history.services.get(s.name), found.get(s.name), now) for s in fleet.services],
        graph=graph(fleet.services, found),
        incidents=[incident_view(i, now) for i in history.incidents],
        generated_at=stamp(now),
        refresh_s=refresh_s,
    )
