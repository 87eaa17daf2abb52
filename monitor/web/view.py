"""The status page's view model: what a person reads, built from `/status` and history. Pure.

Everything the template shows is decided here or in the modules it draws on (words.py for the
wording, graph.py for dependencies, summary.py for what is folded), so it is tested without a
server or a browser.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.alerting.maintenance import Deploy
from monitor.http.service_index import NO_TEAM
from monitor.model import CheckKind, CheckStatus, FleetStatus, Reason, ServiceStatus, Status
from monitor.web.graph import Cause, Graph, causes, graph
from monitor.web.history import FleetHistory, Incident, ServiceHistory, Uptime
from monitor.web.summary import Summary
from monitor.web.timeline import Bar, DeployMark, bars, deploy_marks, deploy_text
from monitor.web.words import (
    ICONS,
    LABELS,
    Banner,
    banner,
    duration,
    ms,
    percent,
    phrase,
    stamp,
)


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One check's latency against its target, in words."""

    label: str
    status: Status
    latency: str
    over_target: bool


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
    deploys: list[DeployMark] = dataclasses.field(default_factory=list)
    last_deploy: str | None = None
    team: str | None = None


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
class TeamLine:
    team: str
    """The config's team; empty for services without one."""
    name: str
    """What the page calls it."""
    healthy: str
    total: str
    all_healthy: bool


@dataclass(frozen=True, slots=True)
class Fold:
    """A big fleet's healthy services, as counts by team (searchable and paged by the page)."""

    healthy: str
    attention: int
    """Services not healthy; `shown` of them are cards in the first response."""
    shown: int
    teams: list[TeamLine]
    more_teams: int


@dataclass(frozen=True, slots=True)
class Page:
    banner: Banner
    rows: list[Row]
    graph: Graph
    incidents: list[IncidentView]
    generated_at: str
    refresh_s: int
    fold: Fold | None = None


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


def since_text(service: ServiceStatus, now: datetime) -> str:
    """ "for 4 min": how long the service has had its status ("" before its first check)."""
    if service.since is None or service.reason is Reason.NOT_CHECKED:
        return ""
    return f"for {duration((now - service.since).total_seconds())}"


def search_line(service: ServiceStatus, now: datetime) -> dict[str, str | None]:
    """One service in the page's search results (page_api.py's JSON): a line, not a card."""
    return {
        "name": service.name,
        "status": service.status.value,
        "label": LABELS[service.status],
        "icon": ICONS[service.status],
        "reason": service.reason.value,
        "phrase": phrase(service.reason.value),
        "since": since_text(service, now),
        "team": service.team,
    }


def row(
    service: ServiceStatus,
    history: ServiceHistory | None,
    cause: Cause | None,
    now: datetime,
    *,
    merge_bars: bool = False,
    deploys: Sequence[Deploy] = (),
) -> Row:
    shown = bars(history.buckets, merge=merge_bars) if history else []
    slices = len(history.buckets) if history else 0
    day = history.uptime_24h if history else Uptime(None, None, 0.0)
    week = history.uptime_7d if history else Uptime(None, None, 0.0)
    since = since_text(service, now)
    mine = [d for d in deploys if service.name in d.services]
    last = max(mine, key=lambda d: d.started_at, default=None)
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
        bars=shown,
        bar_label=f"{service.name}, last 24 hours in {slices} slices: healthy {percent(day.up)}",
        cause=cause,
        runbook=service.runbook,
        maintenance=maintenance_text(service, now),
        deploys=deploy_marks(mine, service.name, now) if shown else [],
        last_deploy=None if last is None else deploy_text(last),
        team=service.team,
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


def fold(summary: Summary) -> Fold | None:
    if not summary.folded:
        return None
    return Fold(
        healthy=f"{summary.counts[Status.HEALTHY]:,}",
        attention=summary.attention,
        shown=len(summary.shown),
        teams=[
            TeamLine(
                t.team,
                t.team if t.team != NO_TEAM else "no team",
                f"{t.healthy:,}",
                f"{t.total:,}",
                t.healthy == t.total,
            )
            for t in summary.teams
        ],
        more_teams=summary.more_teams,
    )


def page(
    fleet: FleetStatus,
    history: FleetHistory,
    now: datetime,
    refresh_s: int,
    *,
    summary: Summary | None = None,
    deploys: Sequence[Deploy] = (),
) -> Page:
    """The page for `fleet`: every service in it as a card. With `summary` (a big fleet),
    `fleet` holds only the services shown in full (and what explains them); the banner and
    the folded counts come from the summary."""
    found = causes(fleet.services)
    shown = fleet.services
    folded = summary is not None and summary.folded
    if summary is not None:
        wanted = set(summary.shown)
        shown = [s for s in fleet.services if s.name in wanted]
        order = {name: i for i, name in enumerate(summary.shown)}
        shown.sort(key=lambda s: order[s.name])
    return Page(
        banner=banner(Counter(s.status for s in fleet.services), fleet.status)
        if summary is None
        else banner(summary.counts, summary.status),
        rows=[
            row(
                s,
                history.services.get(s.name),
                found.get(s.name),
                now,
                merge_bars=folded,
                deploys=deploys,
            )
            for s in shown
        ],
        graph=graph(shown, found),
        incidents=[incident_view(i, now) for i in history.incidents],
        generated_at=stamp(now),
        refresh_s=refresh_s,
        fold=None if summary is None else fold(summary),
    )
