"""LagWatch: the schedule's lateness as a rolling p99 with a rate-limited warning, and the
loop's lag sampled on a real event loop."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry

from monitor import __version__
from monitor.config import parse_config
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.runtime.daemon import Monitor
from monitor.runtime.lag_watch import (
    LOOP_LAG_PERIOD,
    SCHEDULE_LAG_WARN,
    SCHEDULE_LAG_WINDOW,
    LagWatch,
)
from tests.polling import until


class Log:
    """Records warnings as (event, fields)."""

    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.warnings.append((event, fields))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_watch() -> tuple[LagWatch, Log, Clock, CollectorRegistry]:
    registry = CollectorRegistry()
    log, clock = Log(), Clock()
    return LagWatch(MonitorMetrics(registry, __version__), log, clock), log, clock, registry


def behind(log: Log) -> list[dict[str, Any]]:
    return [fields for event, fields in log.warnings if event == "monitor.schedule_behind"]


def test_no_starts_no_figure_and_no_warning() -> None:
    watch, log, _, _ = make_watch()
    watch.check_schedule()
    assert watch.schedule_lag_p99() is None and log.warnings == []


@pytest.mark.parametrize(
    ("late", "expected_p99"),
    [
        (0, 0.004),  # every start within 4 ms: p99 is the slowest of them
        (5, 0.004),  # 0.5 % late: under the 1 % the p99 leaves out
        (20, 2.0),  # 2 % late by 2 s: the p99 is one of them
    ],
)
def test_the_p99_of_starts_in_the_last_minute(late: int, expected_p99: float) -> None:
    watch, log, clock, registry = make_watch()
    for i in range(1000 - late):
        watch.observe_schedule_lag(0.001 + 0.003 * i / 999)
    for _ in range(late):
        watch.observe_schedule_lag(2.0)
    p99 = watch.schedule_lag_p99()
    assert p99 == pytest.approx(expected_p99, rel=0.02)
    assert registry.get_sample_value("monitor_schedule_lag_seconds_count") == 1000
    watch.check_schedule()
    assert bool(behind(log)) is (expected_p99 > SCHEDULE_LAG_WARN)
    clock.now += SCHEDULE_LAG_WINDOW + 1  # the window has moved past every start
    assert watch.schedule_lag_p99() is None


def test_behind_schedule_warns_once_a_minute_while_it_lasts() -> None:
    watch, log, clock, _ = make_watch()
    for _ in range(3):  # three looks 20 s apart, checks 3 s late all along
        for _ in range(100):
            watch.observe_schedule_lag(3.0)
        watch.check_schedule()
        clock.now += 20
    assert len(behind(log)) == 1
    fields = behind(log)[0]
    assert fields["p99_ms"] == pytest.approx(3000, rel=0.02) and fields["window"] == "1m"
    assert fields["checks_started"] == 100
    for _ in range(100):
        watch.observe_schedule_lag(3.0)
    watch.check_schedule()  # 60 s after the first warning, still behind
    assert len(behind(log)) == 2


async def test_a_blocked_loop_is_measured_and_warned_about() -> None:
    watch, log, _, registry = make_watch()
    task = asyncio.create_task(watch.run())
    try:
        await asyncio.sleep(0)  # the watcher takes its first timer
        time.sleep(LOOP_LAG_PERIOD + 0.2)  # the loop's thread is held, as a hogging callback does
        await until(lambda: log.warnings, timeout=5)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    [(event, fields)] = log.warnings
    assert event == "monitor.loop_lag_high" and fields["lag_ms"] >= 150
    delay = "monitor_event_loop_delay_seconds"
    total = registry.get_sample_value(f"{delay}_count") or 0
    assert total - (registry.get_sample_value(f"{delay}_bucket", {"le": "0.1"}) or 0) >= 1


def test_skipped_runs_are_all_counted_and_warned_about_once_a_minute() -> None:
    watch, log, clock, registry = make_watch()
    for i in range(300):  # 300 skips over 30 s, from 100 checks
        watch.observe_skipped(f"svc-{i % 100}/health/health")
        clock.now += 0.1
    skips = [fields for event, fields in log.warnings if event == "check.skipped_overlap"]
    assert registry.get_sample_value("monitor_checks_skipped_total") == 300
    assert len(skips) == 1 and skips[0]["skipped"] == 1
    clock.now += 30  # a minute after the warning
    watch.observe_skipped("svc-7/health/health")
    skips = [fields for event, fields in log.warnings if event == "check.skipped_overlap"]
    assert [s["skipped"] for s in skips] == [1, 300]  # the second tells what the first left out


async def test_a_service_that_hangs_through_every_timeout_is_one_warning() -> None:
    """Timeout equal to the interval, and the service never answers: every other run is
    skipped. Counted each time, one warning (it used to be one per skipped run)."""

    connections: set[asyncio.StreamWriter] = set()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.add(writer)
        try:
            await reader.read()  # until the monitor gives up and closes
        finally:
            writer.close()
            connections.discard(writer)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = parse_config(
        "defaults: {interval: 200ms, timeout: 200ms}\n"
        f"services:\n  - name: hung\n    url: http://127.0.0.1:{port}\n"
    )
    registry = CollectorRegistry()
    monitor = Monitor(config, metrics=MonitorMetrics(registry, __version__))
    with structlog.testing.capture_logs() as logs:
        await monitor.start()
        try:
            await until(
                lambda: (registry.get_sample_value("monitor_checks_skipped_total") or 0) >= 4,
                timeout=20,
            )
        finally:
            await monitor.stop(grace=0)  # closes its connections: every handler ends
            server.close()
            await until(lambda: not connections, timeout=10)
            await server.wait_closed()
    assert [e["event"] for e in logs].count("check.skipped_overlap") == 1
