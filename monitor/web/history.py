"""Uptime, the uptime bar and incidents, computed from stored status changes. Pure.

The store keeps one row per *check* status change; a service's status at any instant is
rebuilt from its checks' timelines exactly as `status.service_verdict` does it (the health
check decides, a failing smoke check makes it at worst `degraded`). The current state of each
check (from `FleetStatus`) is authoritative from its `since` on, so changes not yet flushed are
never missing.

Observed time is time covered by a verdict: before a service's health check first answered,
and before the oldest change the store still keeps (retention), nothing is observed and
nothing counts, up or down. A status is assumed to hold until the next change, including
across monitor restarts (the store restores `since`).

Up means `healthy`. `available` also counts `degraded` (the service answers, something in it
is wrong): both are computed, the page shows the first and names the second.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from monitor.model import CheckKind, FleetStatus, Reason, Status
from monitor.runtime.store import StatusChange

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
BUCKETS = 90
BUCKET_WIDTH = timedelta(minutes=16)  # 90 x 16 min = 24 h
INCIDENT_LIMIT = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_id(service: str, kind: CheckKind, name: str) -> str:
    """The id the store files a check's changes under (the same as `config.Check.id`)."""
    return f"{service}/{kind.value}/{name}"


@dataclass(frozen=True, slots=True)
class Segment:
    """A status that held over [start, end)."""

    start: datetime
    end: datetime
    status: Status
    reason: str
    detail: str

    @property
    def seconds(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds())


@dataclass(frozen=True, slots=True)
class Uptime:
    """Shares of observed time; None when nothing was observed in the window."""

    up: float | None
    available: float | None
    observed_s: float


class Bucket(NamedTuple):
    """One slice of the uptime bar: its worst status (None: not observed) and why. A tuple:
    a page makes 90 per card, and a frozen dataclass's __init__ costs ten times more."""

    start: datetime
    end: datetime
    status: Status | None
    reason: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Incident:
    """A run of non-healthy status. `end` is None while it goes on."""

    service: str
    start: datetime
    end: datetime | None
    status: Status
    reason: str
    detail: str
    duration_s: float


@dataclass(frozen=True, slots=True)
class ServiceHistory:
    name: str
    uptime_24h: Uptime
    uptime_7d: Uptime
    buckets: list[Bucket]
    incidents: list[Incident]


@dataclass(frozen=True, slots=True)
class FleetHistory:
    services: dict[str, ServiceHistory]
    incidents: list[Incident]
    """Every service's incidents, newest first, at most INCIDENT_LIMIT."""


def check_segments(
    changes: Iterable[StatusChange],
    current: tuple[Status, str, str, datetime] | None,
    now: datetime,
) -> list[Segment]:
    """One check's timeline from its changes (any order) and its current state
    `(status, reason, detail, since)`, which wins from `since` on."""
    ordered = sorted(changes, key=lambda c: c.at)
    if current is not None:
        ordered = [c for c in ordered if c.at < current[3]]
    segments: list[Segment] = []
    for i, change in enumerate(ordered):
        if i + 1 < len(ordered):
            end = ordered[i + 1].at
        else:
            end = current[3] if current is not None else now
        segments.append(Segment(change.at, end, change.to_status, change.reason, change.detail))
    if current is not None:
        status, reason, detail, since = current
        segments.append(Segment(since, max(since, now), status, reason, detail))
    return [s for s in segments if s.end > s.start or s.end == now]


def _at(segments: Sequence[Segment], t: datetime) -> Segment | None:
    for s in segments:
        if s.start <= t and (t < s.end or (t == s.end == s.start)):
            return s
    return None


def service_segments(
    health: Sequence[Segment], smoke: Sequence[Sequence[Segment]]
) -> list[Segment]:
    """A service's timeline: health decides, smoke checks make it at worst degraded."""
    if not health:
        return []
    points = sorted(
        {p for s in [*health, *(x for t in smoke for x in t)] for p in (s.start, s.end)}
    )
    begin = health[0].start
    end = health[-1].end
    points = [p for p in points if begin <= p <= end]
    out: list[Segment] = []
    for i, start in enumerate(points):
        stop = points[i + 1] if i + 1 < len(points) else end  # the last point is `end`
        h = _at(health, start)  # at `end` only an instant: a change at now shows, as in buckets

        if h is None:
            continue
        status, reason, detail = h.status, h.reason, h.detail
        for timeline in smoke:
            s = _at(timeline, start)
            if s is None:
                continue
            capped = Status.DEGRADED if s.status is Status.UNHEALTHY else s.status
            if capped.severity > status.severity:
                status, reason, detail = capped, s.reason, s.detail
        if out and (out[-1].status, out[-1].reason, out[-1].detail) == (status, reason, detail):
            out[-1] = Segment(out[-1].start, stop, status, reason, detail)
        else:
            out.append(Segment(start, stop, status, reason, detail))
    return out


def uptime(segments: Sequence[Segment], start: datetime, end: datetime) -> Uptime:
    """Time-weighted shares of [start, end) spent up (healthy) and available (+ degraded)."""
    observed = up = available = 0.0
    for s in segments:
        lo, hi = max(s.start, start), min(s.end, end)
        if hi <= lo:
            continue
        seconds = (hi - lo).total_seconds()
        observed += seconds
        if s.status is Status.HEALTHY:
            up += seconds
        if s.status in (Status.HEALTHY, Status.DEGRADED):
            available += seconds
    if observed == 0:
        return Uptime(None, None, 0.0)
    return Uptime(up / observed, available / observed, observed)


def bucket_starts(
    now: datetime, count: int = BUCKETS, width: timedelta = BUCKET_WIDTH
) -> list[datetime]:
    """Starts of `count` buckets aligned to multiples of `width` since the epoch; the last
    one holds `now` (so hover texts stay put between refreshes)."""
    index = (now - _EPOCH) // width
    last = _EPOCH + index * width
    return [last - (count - 1 - i) * width for i in range(count)]


def buckets(
    segments: Sequence[Segment],
    now: datetime,
    count: int = BUCKETS,
    width: timedelta = BUCKET_WIDTH,
) -> list[Bucket]:
    """The uptime bar: each bucket's worst status over [start, start + width) (the first of
    the worst segments). Each segment visits only the buckets it overlaps: a card's bar costs
    its 90 buckets, not 90 times its segments."""
    starts = bucket_starts(now, count, width)
    first = starts[0]
    worst: list[Segment | None] = [None] * count
    for s in segments:
        lo = (s.start - first) // width  # the first bucket whose end is after s.start
        q, r = divmod(s.end - first, width)
        hi = q if r else q - 1  # the last bucket whose start is before s.end
        if s.end == s.start == now:  # the current instant still marks its bucket
            hi = max(hi, lo)
        for i in range(max(lo, 0), min(hi, count - 1) + 1):
            held = worst[i]
            if held is None or s.status.severity > held.status.severity:
                worst[i] = s
    out: list[Bucket] = []
    for i, start in enumerate(starts):
        seg = worst[i]
        if seg is None:
            out.append(Bucket(start, start + width, None))
        else:
            out.append(Bucket(start, start + width, seg.status, seg.reason, seg.detail))
    return out


def incidents(service: str, segments: Sequence[Segment], now: datetime) -> list[Incident]:
    """Runs of non-healthy status, oldest first; the reason is the worst segment's."""
    out: list[Incident] = []
    run: list[Segment] = []

    def close(ongoing: bool = False) -> None:
        if not run:
            return
        worst_seg = max(run, key=lambda s: s.status.severity)  # first of the worst
        end = None if ongoing else run[-1].end
        duration = ((end or now) - run[0].start).total_seconds()
        out.append(
            Incident(
                service,
                run[0].start,
                end,
                worst_seg.status,
                worst_seg.reason,
                worst_seg.detail,
                max(0.0, duration),
            )
        )
        run.clear()

    for s in segments:
        if s.status is Status.HEALTHY:
            close()
        elif run and s.start > run[-1].end:  # a gap in observation ends a run
            close()
            run.append(s)
        else:
            run.append(s)
    close(ongoing=bool(run) and run[-1].end >= now)
    return out


def fleet_history(
    changes: Iterable[StatusChange],
    fleet: FleetStatus,
    now: datetime,
    bars: Collection[str] | None = None,
) -> FleetHistory:
    """Everything the status page shows about the past, for every service in `fleet`; the
    uptime bar only for the services in `bars` (None: all), as only cards show one."""
    by_check: dict[str, list[StatusChange]] = {}
    for change in changes:
        by_check.setdefault(change.check_id, []).append(change)
    services: dict[str, ServiceHistory] = {}
    every: list[Incident] = []
    for service in fleet.services:
        health: list[Segment] = []
        smoke: list[list[Segment]] = []
        for check in service.checks:
            cid = check_id(service.name, check.kind, check.name)
            current = None
            if check.since is not None and check.reason is not Reason.NOT_CHECKED:
                current = (check.status, check.reason.value, check.detail, check.since)
            timeline = check_segments(by_check.get(cid, []), current, now)
            if check.kind is CheckKind.HEALTH:
                health = timeline
            else:
                smoke.append(timeline)
        segments = service_segments(health, smoke)
        found = [i for i in incidents(service.name, segments, now) if _recent(i, now)]
        every.extend(found)
        services[service.name] = ServiceHistory(
            service.name,
            uptime(segments, now - DAY, now),
            uptime(segments, now - WEEK, now),
            buckets(segments, now) if bars is None or service.name in bars else [],
            found,
        )
    every.sort(key=lambda i: (i.end is None, i.end or i.start, i.start), reverse=True)
    return FleetHistory(services, every[:INCIDENT_LIMIT])


def _recent(incident: Incident, now: datetime) -> bool:
    return incident.end is None or incident.end >= now - WEEK


def window_start(now: datetime) -> datetime:
    """The oldest instant the page looks at (ask the store for changes from here)."""
    return min(now - WEEK, bucket_starts(now)[0])
