"""The push kind's pure deadline maths: cron and periods, grace, DST in Europe/Berlin, and
the verdict of every state with its detail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from monitor.config import PushSpec
from monitor.model import Reason, Status
from monitor.probes.push.schedule import (
    PushRecord,
    Signal,
    next_deadline,
    next_expected,
    parse_signal,
    push_verdict,
    record_ping,
)

BERLIN = ZoneInfo("Europe/Berlin")
TOKEN = SecretStr("t" * 16)


def cron(expr: str, tz: str = "Europe/Berlin", grace: float = 600.0, **kw: float) -> PushSpec:
    return PushSpec(grace=grace, token=TOKEN, cron=expr, timezone=tz, **kw)  # type: ignore[arg-type]


def every(period: float, grace: float = 15.0, **kw: float) -> PushSpec:
    return PushSpec(grace=grace, token=TOKEN, every=period, **kw)  # type: ignore[arg-type]


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        # a plain night: the next 03:00 in Berlin
        (cron("0 3 * * *"), berlin(2026, 11, 29, 3, 4), berlin(2026, 11, 30, 3, 0)),
        (cron("0 3 * * *"), berlin(2026, 11, 30, 2, 59), berlin(2026, 11, 30, 3, 0)),
        # UTC by default
        (
            cron("0 3 * * *", tz="UTC"),
            datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
            datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
        ),
        # spring forward (29 March 2026, 02:00 -> 03:00): the 02:30 job that night is due at
        # 03:00 CEST, right after the jump, and at 02:30 again the night after
        (cron("30 2 * * *"), berlin(2026, 3, 28, 2, 31), berlin(2026, 3, 29, 3, 0)),
        (cron("30 2 * * *"), berlin(2026, 3, 29, 3, 1), berlin(2026, 3, 30, 2, 30)),
        # autumn (25 October 2026, 03:00 CEST -> 02:00 CET): 02:30 comes twice; a fixed-time
        # job ran in the first pass and is not expected in the second
        (cron("30 2 * * *"), berlin(2026, 10, 24, 2, 31), berlin(2026, 10, 25, 2, 30)),
        (cron("30 2 * * *"), berlin(2026, 10, 25, 2, 31), berlin(2026, 10, 26, 2, 30)),
        # ... while a wildcard-hour job runs in both passes
        (cron("30 * * * *"), berlin(2026, 10, 25, 2, 31), berlin(2026, 10, 25, 2, 30, fold=1)),
        # a fixed period counts from the ping
        (
            every(30.0),
            datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC),
            datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC),
        ),
    ],
)
def test_next_expected(spec: PushSpec, after: datetime, expected: datetime) -> None:
    got = next_expected(spec, after)
    assert got == expected
    assert got.utcoffset() == expected.utcoffset()  # the same instant, not only wall time


def test_the_autumn_hour_is_expected_one_hour_apart_in_absolute_time() -> None:
    first = berlin(2026, 10, 25, 2, 30)
    second = next_expected(cron("30 * * * *"), berlin(2026, 10, 25, 2, 31))
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("suffix", "parsed"),
    [
        ("", (Signal.SUCCESS, None)),
        ("start", (Signal.START, None)),
        ("fail", (Signal.FAIL, None)),
        ("0", (Signal.SUCCESS, 0)),
        ("1", (Signal.FAIL, 1)),
        ("255", (Signal.FAIL, 255)),
        ("256", None),
        ("-1", None),
        ("0001", None),
        ("log", None),
        ("Start", None),
        ("٣", None),  # a digit, but not an ASCII one
    ],
)
def test_parse_signal(suffix: str, parsed: tuple[Signal, int | None] | None) -> None:
    assert parse_signal(suffix) == parsed


NIGHTLY = cron("0 3 * * *", max_runtime=1800.0)
PING = berlin(2026, 11, 29, 3, 2)  # last night's run
HEALTHY = record_ping(PushRecord(), Signal.SUCCESS, PING)[0]


@pytest.mark.parametrize(
    ("record", "now", "status", "reason", "detail"),
    [
        (
            PushRecord(),
            PING,
            Status.UNKNOWN,
            Reason.NEVER_REPORTED,
            "no ping received yet (schedule 0 3 * * * Europe/Berlin, grace 10m)",
        ),
        (
            HEALTHY,
            berlin(2026, 11, 30, 3, 9, 59),
            Status.HEALTHY,
            Reason.OK,
            "last ping 24 h ago; next expected by 03:10 Europe/Berlin",
        ),
        # the deadline itself: overdue by the whole grace
        (
            HEALTHY,
            berlin(2026, 11, 30, 3, 10),
            Status.UNHEALTHY,
            Reason.LATE,
            "expected by 03:10 Europe/Berlin, last ping 24 h ago",
        ),
        (
            HEALTHY,
            berlin(2026, 11, 30, 6, 2),
            Status.UNHEALTHY,
            Reason.LATE,
            "expected by 03:10 Europe/Berlin, last ping 27 h ago",
        ),
        (
            record_ping(PushRecord(), Signal.FAIL, PING, 3)[0],
            berlin(2026, 11, 29, 3, 5),
            Status.UNHEALTHY,
            Reason.REPORTED_FAILURE,
            "last run reported failure with exit code 3 3 min ago; next expected by "
            "03:10 Europe/Berlin",
        ),
        # a failure is also the news that the job ran: lateness takes over when the next
        # run does not come
        (
            record_ping(PushRecord(), Signal.FAIL, PING)[0],
            berlin(2026, 11, 30, 3, 11),
            Status.UNHEALTHY,
            Reason.LATE,
            "expected by 03:10 Europe/Berlin, last ping 24 h ago",
        ),
        (
            record_ping(HEALTHY, Signal.START, berlin(2026, 11, 30, 3, 0))[0],
            berlin(2026, 11, 30, 3, 29, 59),
            Status.HEALTHY,
            Reason.OK,
            "last ping 29 min ago (run in progress); next expected by 03:10 Europe/Berlin",
        ),
        (
            record_ping(HEALTHY, Signal.START, berlin(2026, 11, 30, 3, 0))[0],
            berlin(2026, 11, 30, 3, 30),
            Status.UNHEALTHY,
            Reason.RUN_TOO_LONG,
            "run started 30 min ago at 03:00 Europe/Berlin, longer than max_runtime 30m "
            "without a finish",
        ),
    ],
)
def test_verdicts(
    record: PushRecord, now: datetime, status: Status, reason: Reason, detail: str
) -> None:
    verdict = push_verdict(NIGHTLY, record, now)
    assert (verdict.status, verdict.reason, verdict.detail) == (status, reason, detail)


def test_a_start_holds_lateness_off_until_the_next_run_is_due() -> None:
    started = record_ping(HEALTHY, Signal.START, berlin(2026, 11, 30, 3, 0))[0]
    spec = cron("0 3 * * *")  # no max_runtime: a hung run is caught by the next deadline
    assert next_deadline(spec, started, berlin(2026, 11, 30, 3, 1)) == berlin(2026, 12, 1, 3, 10)


def test_the_run_time_is_start_to_finish() -> None:
    started = record_ping(PushRecord(), Signal.START, PING)[0]
    finished, run_s = record_ping(started, Signal.SUCCESS, PING + timedelta(seconds=95))
    assert run_s == 95.0
    assert finished.started_at is None and finished.last_run_s == 95.0
    _, no_run = record_ping(finished, Signal.SUCCESS, PING + timedelta(seconds=100))
    assert no_run is None  # a finish without a start measures nothing


@pytest.mark.parametrize(
    ("record", "now", "deadline"),
    [
        (PushRecord(), PING, None),  # never reported: nothing to wait for
        (HEALTHY, PING, berlin(2026, 11, 30, 3, 10)),
        (HEALTHY, berlin(2026, 11, 30, 3, 10), None),  # late already: only a ping changes it
        (
            record_ping(HEALTHY, Signal.START, berlin(2026, 11, 30, 3, 0))[0],
            berlin(2026, 11, 30, 3, 1),
            berlin(2026, 11, 30, 3, 30),  # max_runtime comes before the next night
        ),
    ],
)
def test_next_deadline(record: PushRecord, now: datetime, deadline: datetime | None) -> None:
    assert next_deadline(NIGHTLY, record, now) == deadline


def test_every_with_seconds_in_the_detail() -> None:
    at = datetime(2026, 11, 30, 12, 0, 5, tzinfo=UTC)
    record = record_ping(PushRecord(), Signal.SUCCESS, at)[0]
    verdict = push_verdict(every(30.0), record, at + timedelta(seconds=46))
    assert verdict.reason is Reason.LATE
    assert verdict.detail == "expected by 12:00:50 UTC, last ping 46 s ago"
