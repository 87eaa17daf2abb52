"""When a push check expects its next ping, and what its silence means. Pure: the clock is a
parameter, cron maths is croniter's.

A push check's record holds its last pings; its verdict follows from the record, the schedule
and the time alone, so a restart that restores the record restores the verdict and the next
deadline (the clock is never reset).

Daylight saving time (cron `schedule` in a `timezone`): a fixed-time job whose hour is skipped
in spring is expected at the first minute after the jump (croniter's and Vixie cron's choice);
one whose hour repeats in autumn runs once (Vixie cron runs fixed-time jobs once and wildcard-
hour jobs in both passes), so the repeat of an hour already run is not expected again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from croniter import croniter

from monitor.config import PushSpec
from monitor.durations import format_duration
from monitor.model import Reason, Status, Verdict


class Signal(enum.StrEnum):
    """What one ping says: the URL's suffix (`/start`, `/fail`, an exit code, or nothing)."""

    SUCCESS = "success"
    START = "start"
    FAIL = "fail"


def parse_signal(suffix: str) -> tuple[Signal, int | None] | None:
    """`''` success, `start`, `fail`, or an exit code 0-255 (0 success, else failure).
    None for anything else."""
    if suffix == "":
        return Signal.SUCCESS, None
    if suffix in ("start", "fail"):
        return Signal(suffix), None
    if suffix.isascii() and suffix.isdigit() and str(int(suffix)) == suffix and int(suffix) < 256:
        code = int(suffix)
        return (Signal.SUCCESS if code == 0 else Signal.FAIL), code
    return None


@dataclass(frozen=True, slots=True)
class PushRecord:
    """Everything the monitor keeps of one push check's pings (persisted in the store)."""

    last_ping_at: datetime | None = None
    """Any ping, a start included: a job that started ran on schedule."""
    last_signal: Signal | None = None
    finished_at: datetime | None = None
    failed: bool = False
    """The last finished run reported failure (`/fail` or a non-zero exit code)."""
    exit_code: int | None = None
    started_at: datetime | None = None
    """A run in progress: a start not yet followed by a finish."""
    last_run_s: float | None = None
    evidence: str = ""


def record_ping(
    record: PushRecord,
    signal: Signal,
    at: datetime,
    exit_code: int | None = None,
    evidence: str = "",
) -> tuple[PushRecord, float | None]:
    """The record after one ping, and the run time (start to finish) if this ping finished a
    run that had started."""
    if signal is Signal.START:
        return replace(
            record, last_ping_at=at, last_signal=signal, started_at=at, evidence=evidence
        ), None
    run_s = None
    if record.started_at is not None and record.started_at <= at:
        run_s = (at - record.started_at).total_seconds()
    return PushRecord(
        last_ping_at=at,
        last_signal=signal,
        finished_at=at,
        failed=signal is Signal.FAIL,
        exit_code=exit_code,
        started_at=None,
        last_run_s=run_s if run_s is not None else record.last_run_s,
        evidence=evidence,
    ), run_s


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def next_expected(spec: PushSpec, after: datetime) -> datetime:
    """When the next run is due after a ping at `after` (aware datetimes, any zone)."""
    if spec.every is not None:
        return after + timedelta(seconds=spec.every)
    assert spec.cron is not None, "config guarantees schedule or every"
    zone = _zone(spec.timezone)
    local = after.astimezone(zone)
    runs = croniter(spec.cron, local)
    candidate: datetime = runs.get_next(datetime)
    if candidate.fold == 1 and not spec.cron.split()[1].startswith("*"):
        # the repeated hour in autumn: croniter returns the second pass only when the first
        # is already behind `after`, and a fixed-time job runs in the first pass alone
        candidate = runs.get_next(datetime)
    return candidate


def late_after(spec: PushSpec, record: PushRecord) -> datetime | None:
    """The moment the check turns `late` unless another ping comes; None before any ping."""
    if record.last_ping_at is None:
        return None
    return next_expected(spec, record.last_ping_at) + timedelta(seconds=spec.grace)


def too_long_after(spec: PushSpec, record: PushRecord) -> datetime | None:
    """The moment an open run turns `run_too_long`; None without `max_runtime` or open run."""
    if spec.max_runtime is None or record.started_at is None:
        return None
    return record.started_at + timedelta(seconds=spec.max_runtime)


def next_deadline(spec: PushSpec, record: PushRecord, now: datetime) -> datetime | None:
    """The next moment after `now` at which the verdict changes by itself (no ping)."""
    moments = [m for m in (late_after(spec, record), too_long_after(spec, record)) if m]
    future = [m for m in moments if m > now]
    return min(future) if future else None


def push_verdict(spec: PushSpec, record: PushRecord, now: datetime) -> Verdict:
    """The check's verdict at `now`. Worst first: a run over `max_runtime`, a missed ping, a
    reported failure; otherwise healthy."""
    if record.last_ping_at is None:
        return Verdict(
            status=Status.UNKNOWN,
            reason=Reason.NEVER_REPORTED,
            detail=f"no ping received yet ({describe_schedule(spec)})",
        )
    zone = _zone(spec.timezone)
    ago = _ago(now - record.last_ping_at)
    evidence = record.evidence
    too_long = too_long_after(spec, record)
    if too_long is not None and now >= too_long and record.started_at is not None:
        return Verdict(
            status=Status.UNHEALTHY,
            reason=Reason.RUN_TOO_LONG,
            detail=f"run started {_ago(now - record.started_at)} ago at "
            f"{_clock(record.started_at, zone)}, longer than max_runtime "
            f"{format_duration(spec.max_runtime or 0)} without a finish",
            evidence=evidence,
        )
    late = late_after(spec, record)
    if late is not None and now >= late:
        return Verdict(
            status=Status.UNHEALTHY,
            reason=Reason.LATE,
            detail=f"expected by {_clock(late, zone)}, last ping {ago} ago",
            evidence=evidence,
        )
    next_by = f"next expected by {_clock(late, zone) if late else 'unknown'}"
    if record.failed:
        code = "" if record.exit_code is None else f" with exit code {record.exit_code}"
        status, reason = Status.UNHEALTHY, Reason.REPORTED_FAILURE
        detail = f"last run reported failure{code} {ago} ago; {next_by}"
    else:
        running = " (run in progress)" if record.started_at is not None else ""
        status, reason, detail = (
            Status.HEALTHY,
            Reason.OK,
            f"last ping {ago} ago{running}; {next_by}",
        )
    return Verdict(status=status, reason=reason, detail=detail, evidence=evidence)


def describe_schedule(spec: PushSpec) -> str:
    if spec.every is not None:
        return f"every {format_duration(spec.every)}, grace {format_duration(spec.grace)}"
    return f"schedule {spec.cron} {spec.timezone}, grace {format_duration(spec.grace)}"


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    """`03:10 Europe/Berlin`; seconds shown only when they are not zero."""
    local = moment.astimezone(zone)
    text = local.strftime("%H:%M:%S" if local.second else "%H:%M")
    return f"{text} {zone.key}"


def _ago(delta: timedelta) -> str:
    """`42 s`, `17 min`, `27 h`, `3 d`: coarse, for people."""
    seconds = max(0.0, delta.total_seconds())
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 2 * 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 72 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"
