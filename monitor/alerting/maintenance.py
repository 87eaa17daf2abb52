"""Maintenance windows: planned work during which pages are held, not lost. Pure.

A window is recurring (`schedule`, a cron expression in `timezone`, open for `duration`) or a
one-off (`start`/`end`). While one is open, alerts of its services (or matching its matchers)
are held like a silence; an alert still firing when it closes pages at the next evaluation.
Cron in a local timezone meets DST twice a year: a wall time that does not exist (02:30 on
the spring-forward night) opens the window at the next one that does, as croniter reports it;
a wall time that happens twice (the fall-back night) opens it once, at the first. `duration`
is elapsed time, not wall time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.alerting.state import Matcher, Matchers, Silence, UtcTime
from monitor.config import Duration

WINDOW_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
SILENCE_PREFIX = "maintenance:"
"""Held alerts say `suppressed_by: silence:maintenance:<name>`."""


class MaintenanceWindow(BaseModel):
    """One `maintenance:` entry of alerts.yaml, or one added with `POST /api/maintenance`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=WINDOW_NAME)
    services: tuple[str, ...] = ()
    matchers: Matchers = ()
    schedule: str | None = None
    duration: Duration | None = Field(default=None, gt=0)
    timezone: str = "UTC"
    start: UtcTime | None = None
    end: UtcTime | None = None
    comment: str = ""
    created_by: str = "alerts.yaml"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; expected e.g. Europe/Berlin") from None
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}; expected e.g. '0 2 * * SUN'")
        return value

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceWindow:
        if not self.services and not self.matchers:
            raise ValueError("give services or matchers: which alerts the window holds")
        recurring = self.schedule is not None or self.duration is not None
        one_off = self.start is not None or self.end is not None
        if recurring == one_off:
            raise ValueError("give either schedule and duration, or start and end")
        if recurring and (self.schedule is None or self.duration is None):
            raise ValueError("a recurring window needs both schedule and duration")
        if one_off and (self.start is None or self.end is None or self.end <= self.start):
            raise ValueError("a one-off window needs start and an end after it")
        return self

    def occurrence(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The opening of this window that contains `now` (UTC start, end), if any."""
        if self.start is not None and self.end is not None:
            return (self.start, self.end) if self.start <= now < self.end else None
        assert self.schedule is not None and self.duration is not None
        begins = last_start(self.schedule, self.timezone, now)
        ends = begins + timedelta(seconds=self.duration)
        return (begins, ends) if begins <= now < ends else None

    def next_start(self, now: datetime) -> datetime | None:
        """When it next opens after `now` (for listings); None for a past one-off."""
        if self.start is not None:
            return self.start if self.start > now else None
        assert self.schedule is not None
        local = now.astimezone(ZoneInfo(self.timezone))
        return _utc(croniter(self.schedule, local).get_next(datetime))

    def silence(self, begins: datetime, ends: datetime) -> Silence:
        """The silence that holds this window's alerts while it is open."""
        matchers = list(self.matchers)
        if self.services:
            pattern = "|".join(re.escape(s) for s in self.services)
            matchers.append(Matcher(name="service", value=pattern, op="=~"))
        return Silence(
            id=SILENCE_PREFIX + self.name,
            matchers=tuple(matchers),
            starts_at=begins,
            ends_at=ends,
            comment=self.comment,
            created_by=self.created_by,
        )


class Deploy(BaseModel):
    """An announced deploy (`POST /api/deploys`): a window holds its services' pages while the
    gate runs; the gate's verdict closes it."""

    id: str
    services: tuple[str, ...] = Field(min_length=1)
    version: str = Field(min_length=1, max_length=200)
    started_at: datetime
    passed: bool | None = None
    """The gate's verdict; None while it runs."""

    @property
    def window_name(self) -> str:
        return f"deploy-{self.id}"

    def window(self, ends: datetime) -> MaintenanceWindow:
        return MaintenanceWindow(
            name=self.window_name,
            services=self.services,
            start=self.started_at,
            end=ends,
            comment=f"deploy {self.version}",
            created_by="deploy",
        )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def last_start(schedule: str, timezone: str, now: datetime) -> datetime:
    """The latest time at or before `now` the cron `schedule` fires in `timezone` (UTC).
    A wall time the fall-back night repeats counts once, at its first occurrence."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone) + timedelta(microseconds=1)  # at `now` counts
    runs = croniter(schedule, local)
    latest: datetime = runs.get_prev(datetime)
    before: datetime = runs.get_prev(datetime)
    if before.replace(tzinfo=None) == latest.replace(tzinfo=None):
        latest = before
    here = now.astimezone(zone)
    if here.fold:
        # the fall-back night's second pass: croniter steps back in wall time, so it misses
        # the first pass's later wall times (02:30 CEST at 02:10 CET), which came earlier
        repeated = here.replace(fold=0).utcoffset() - here.utcoffset()  # type: ignore[operator]
        first_pass = croniter(schedule, (now - repeated).astimezone(zone))
        for _ in range(int(repeated.total_seconds()) + 1):  # at most one a second
            run: datetime = first_pass.get_next(datetime)
            if run > now:
                break
            if not run.astimezone(zone).fold:  # a wall time the second pass repeats: once
                latest = max(latest, run)
    return _utc(latest)


def open_windows(
    windows: Iterable[MaintenanceWindow], now: datetime
) -> list[tuple[MaintenanceWindow, datetime, datetime]]:
    """The windows open at `now`, each with its current opening."""
    found = []
    for window in windows:
        opening = window.occurrence(now)
        if opening is not None:
            found.append((window, *opening))
    return found


def silences(windows: Iterable[MaintenanceWindow], now: datetime) -> tuple[Silence, ...]:
    """The silences the open windows hold alerts with (fed to `evaluate` like the API's)."""
    return tuple(w.silence(b, e) for w, b, e in open_windows(windows, now))


def service_windows(
    windows: Iterable[MaintenanceWindow],
    services: Mapping[str, Mapping[str, str]],
    now: datetime,
) -> dict[str, tuple[str, datetime]]:
    """Per service (name -> its labels): the open window that holds it, `(name, ends_at)`
    (the one that ends last, if several), for /status and the status page."""
    held: dict[str, tuple[str, datetime]] = {}
    for window, begins, ends in open_windows(windows, now):
        silence = window.silence(begins, ends)
        for name, labels in services.items():
            if not silence.silences({**labels, "service": name}, now):
                continue
            if name not in held or held[name][1] < ends:
                held[name] = (window.name, ends)
    return held
