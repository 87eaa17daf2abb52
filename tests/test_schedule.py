"""Scheduling: the pure next-run maths, and the tick scheduler on a real event loop."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import Check
from monitor.model import CheckKind
from monitor.runtime.scheduler import CheckScheduler, first_offset, next_due
from tests.check_builders import check_config
from tests.polling import until


def check(name: str, interval: float) -> Check:
    return check_config(
        service=name,
        name="health",
        kind=CheckKind.HEALTH,
        url="http://x",
        interval=interval,
        timeout=interval,
        target=0.05,
        max_body_bytes=1024,
    )


@pytest.mark.parametrize(
    ("due", "interval", "now", "expected"),
    [
        (10.0, 5.0, 10.0, 15.0),  # on time: one interval later
        (10.0, 5.0, 12.0, 15.0),  # a little late: still the same phase
        (10.0, 5.0, 15.0, 20.0),  # exactly one missed: skipped, not bunched
        (10.0, 5.0, 26.0, 30.0),  # several missed: coalesced onto the phase
    ],
)
def test_next_due_keeps_the_phase_and_coalesces(
    due: float, interval: float, now: float, expected: float
) -> None:
    assert next_due(due, interval, now) == pytest.approx(expected)


def test_first_offset_is_stable_and_spread() -> None:
    offsets = [first_offset(f"svc{i}/health/health", 30.0, 2.0) for i in range(1000)]
    assert offsets == [first_offset(f"svc{i}/health/health", 30.0, 2.0) for i in range(1000)]
    assert all(0 <= o < 2.0 for o in offsets)
    assert min(offsets) < 0.1 and max(offsets) > 1.9, "spread over the whole window"
    assert first_offset("a", 0.5, 2.0) < 0.5, "never more than the interval"


def test_phases_are_pinned_across_versions() -> None:
    """A check's phase is CRC-32 of its id over 2**32: golden values, so a restart into a
    newer version keeps each check on the phase it had (a change here moves the whole fleet)."""
    assert first_offset("do-gateway/health/health", 60.0, 60.0) == 60.0 * 2775584550 / 2**32
    assert first_offset("auth/rpc/session", 30.0, 10.0) == 10.0 * 3678989083 / 2**32
    assert first_offset("auth/rpc/session", 5.0, 10.0) == 5.0 * 3678989083 / 2**32


async def run_for(scheduler: CheckScheduler, seconds: float) -> None:
    scheduler.start()
    try:
        await asyncio.sleep(seconds)  # the duration under test, not a synchronisation
    finally:
        scheduler.shutdown()


async def test_runs_each_check_at_its_interval_and_reports_lag() -> None:
    """The real tick on a real loop, read against a clock the test moves: one interval at a
    time, waiting for the run it makes due. Counts and lags are then exact, however late a
    loaded machine runs the tick (the wall-clock version counted runs in 1.05 s)."""
    clock = 1000.0
    runs: dict[str, list[float]] = {}
    lags: list[float] = []

    async def record(c: Check) -> None:
        runs.setdefault(c.service, []).append(clock)

    scheduler = CheckScheduler(record, on_lag=lags.append, spread=0.1, monotonic=lambda: clock)
    fast_offset = first_offset("fast/health/health", 0.1, 0.1)
    slow_offset = first_offset("slow/health/health", 0.3, 0.1)
    for name, interval in (("fast", 0.1), ("slow", 0.3)):
        scheduler.add(check(name, interval))
    scheduler.start()
    try:
        for step in range(1, 11):
            clock = 1000.0 + 0.1 * step
            await until(lambda: len(runs.get("fast", [])) == step)  # noqa: B023
        await until(lambda: len(runs.get("slow", [])) == 4)  # due at +0.02, 0.32, 0.62, 0.92
    finally:
        scheduler.shutdown()
    assert runs["fast"] == pytest.approx([1000.0 + 0.1 * step for step in range(1, 11)])
    # each run is launched at the first step after it fell due: its lag is the step minus
    # its phase (fast 10 times, slow 4), measured from when it was due, not from the tick
    expected = sorted([0.1 - fast_offset] * 10 + [0.1 - slow_offset] * 4)
    assert sorted(lags) == pytest.approx(expected)


async def test_never_two_runs_of_one_check_at_once() -> None:
    active = 0
    peak = 0
    skipped: list[str] = []

    async def slow(c: Check) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.25)  # the check's own duration (longer than its interval)
        active -= 1

    scheduler = CheckScheduler(slow, on_skipped=skipped.append, spread=0.01)
    scheduler.add(check("busy", 0.1))
    await run_for(scheduler, 0.6)
    assert peak == 1
    assert skipped and set(skipped) == {"busy/health/health"}


async def test_remove_and_run_soon() -> None:
    runs: list[str] = []

    async def record(c: Check) -> None:
        runs.append(c.service)

    scheduler = CheckScheduler(record, spread=5.0)
    assert first_offset("later/health/health", 10.0, 5.0) > 1.0, "would not run by itself"
    scheduler.add(check("gone", 0.05), immediately=True)
    scheduler.add(check("later", 10.0), immediately=False)
    scheduler.remove("gone/health/health")
    scheduler.run_soon("later/health/health", 0.05)
    await run_for(scheduler, 0.3)
    assert "gone" not in runs
    assert runs.count("later") >= 1


@pytest.mark.parametrize(
    ("checks", "interval", "spread"),
    [
        (100, 30.0, 2.0),  # a small fleet: first results within 2 s
        (1000, 1.0, 1.0),  # never more than the interval
        (5000, 30.0, 5.0),  # 5,000 at <= 1,000 launches/s
        (50_000, 30.0, 30.0),  # spread over the whole interval
    ],
)
async def test_a_large_fleet_spreads_its_phases(
    checks: int, interval: float, spread: float
) -> None:
    async def nothing(_: Check) -> None:
        return None

    # A clock that stands still: phases are read against the instant start() saw, so the
    # bounds are exact and do not depend on how long adding 50,000 checks takes under load.
    began = 1000.0
    scheduler = CheckScheduler(nothing, start_rate=1000.0, monotonic=lambda: began)
    for i in range(checks):
        scheduler.add(check(f"s{i}", interval))
    scheduler.start()
    try:
        offsets = [due - began for due in scheduler._due.values()]
    finally:
        scheduler.shutdown()
    assert len(offsets) == checks
    assert min(offsets) >= 0.0
    assert max(offsets) < min(spread, interval)
    assert max(offsets) > 0.9 * min(spread, interval), "spread over the whole window"


async def test_a_skipped_tick_is_not_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """While a big fleet starts, a tick can find the previous one still queued; APScheduler
    logs that skip as a WARNING, dozens a second. It is coalesced by design and exported as
    schedule lag, so the log stays quiet; a job's error would still be logged."""

    async def run(_: Check) -> None:
        return None

    scheduler = CheckScheduler(run, tick=0.01)
    scheduler.start()
    try:
        aps = scheduler._scheduler
        executor = aps._lookup_executor("default")
        executor._instances["tick"] = 1  # the previous tick has not run yet
        aps.modify_job("tick", next_run_time=datetime.now(UTC) - timedelta(seconds=1))
        with caplog.at_level(logging.DEBUG):
            aps._process_jobs()  # no await since the line above: the tick is due, still queued
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert aps._logger.isEnabledFor(logging.ERROR)
    finally:
        scheduler.shutdown()


async def test_a_tick_cancelled_by_shutdown_is_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def run(_: Check) -> None:
        return None

    scheduler = CheckScheduler(run, tick=0.01)
    scheduler.start()
    aps = scheduler._scheduler
    aps.modify_job("tick", next_run_time=datetime.now(UTC) - timedelta(seconds=1))
    with caplog.at_level(logging.DEBUG):
        scheduler.shutdown()  # APScheduler queues this for the loop's next turn...
        aps._process_jobs()  # ...where it comes before this tick's first step: cancelled
        ticks = set(aps._lookup_executor("default")._pending_futures)
        assert ticks, "a tick was submitted"
        # the executor's own done-callback was added first, so it has run when this returns
        await asyncio.wait(ticks, timeout=5)
        assert all(tick.cancelled() for tick in ticks)
    assert [r for r in caplog.records if "executed successfully" in r.getMessage()] == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_checks_added_before_start_are_phased_once_on_the_fleets_spread() -> None:
    """A fleet larger than SPREAD allows is phased over checks / start_rate seconds, each check
    once: one heap entry a check (the heap was built twice at 100,000 checks' start-up)."""

    async def nothing(_c: Check) -> None:
        return None

    clock = [1000.0]
    scheduler = CheckScheduler(nothing, spread=2.0, start_rate=100.0, monotonic=lambda: clock[0])
    fleet = [check(f"svc{i}", 600.0) for i in range(1000)]
    for c in fleet:
        scheduler.add(c)
    scheduler.add(fleet[0])  # added again before start: still one entry
    assert scheduler.spread == 10.0  # 1,000 checks at 100 a second
    scheduler.start()
    try:
        heap = scheduler._heap
        assert len(heap) == len(fleet)
        assert sorted(c for _, _, c in heap) == sorted(c.id for c in fleet)
        assert {round(due - 1000.0, 9) for due, _, _ in heap} == {
            round(first_offset(c.id, 600.0, 10.0), 9) for c in fleet
        }
        assert heap[0][0] == min(due for due, _, _ in heap)  # a heap
    finally:
        scheduler.shutdown()


async def test_add_many_while_running_phases_each_as_add_does() -> None:
    """A reload's changed checks: each on its own phase from now, in one heapify; the older
    entry of a check added again is dropped as stale when it comes up."""

    async def nothing(_c: Check) -> None:
        return None

    clock = [50.0]
    scheduler = CheckScheduler(nothing, spread=2.0, monotonic=lambda: clock[0])
    first = check("svc0", 60.0)
    scheduler.add(first)
    scheduler.start()
    try:
        clock[0] = 80.0
        fleet = [first, *(check(f"svc{i}", 30.0) for i in range(1, 4))]
        scheduler.add_many(fleet)
        for c in fleet:
            assert scheduler._due[c.id] == 80.0 + first_offset(c.id, c.interval, 2.0)
        live = [e for e in scheduler._heap if scheduler._version.get(e[2]) == e[1]]
        assert sorted(e[2] for e in live) == sorted(c.id for c in fleet)
        assert len(scheduler._heap) == len(fleet) + 1  # svc0's entry of start() is stale
        assert scheduler._heap[0][0] == min(e[0] for e in scheduler._heap)
    finally:
        scheduler.shutdown()
