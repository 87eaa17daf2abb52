"""The first round after a start: healthy first verdicts at debug, the rest at info, and one
`monitor.first_round` event when the last check waited for has its first verdict."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from monitor.config import parse_config
from monitor.model import Reason, Status, Verdict
from monitor.runtime.daemon import Monitor
from monitor.runtime.first_round import FirstRound, quiet_first_verdict
from monitor.runtime.store import Store
from monitor.state import CheckState
from tests.test_tracked import THREE_SERVICES

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
OK = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="ok")
DOWN = Verdict(status=Status.UNHEALTHY, reason=Reason.REPORTED_UNHEALTHY, detail="503")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_reports_exactly_once_when_the_last_waited_check_is_judged() -> None:
    clock = Clock()
    round_ = FirstRound(["a", "b"], clock)
    clock.now = 103.2504  # reported to the millisecond
    assert not round_.judged("a")
    assert not round_.judged("a"), "judged twice still waits for b"
    assert not round_.judged("not-waited-for")
    assert round_.judged("b")
    assert round_.done
    assert not round_.judged("b"), "once only"
    assert not round_.forget(["a"])
    report = round_.report([Status.HEALTHY, Status.HEALTHY, Status.UNHEALTHY])
    assert report == {
        "seconds": 3.25,
        "checks": 2,
        "services": {"healthy": 2, "degraded": 0, "unhealthy": 1, "unknown": 0},
    }


def test_removing_the_last_waited_checks_completes_the_round() -> None:
    round_ = FirstRound(["a", "b", "c"])
    assert not round_.forget(["c"])
    assert not round_.judged("a")
    assert round_.forget(["b", "elsewhere"])
    assert not round_.judged("b")


def test_nothing_to_wait_for_never_reports() -> None:
    round_ = FirstRound([])
    assert round_.done
    assert not round_.judged("a") and not round_.forget(["a"])


@pytest.mark.parametrize(
    ("first", "status", "reason", "quiet"),
    [
        (True, Status.HEALTHY, Reason.OK, True),
        (True, Status.UNKNOWN, Reason.NEVER_REPORTED, True),
        (True, Status.UNKNOWN, Reason.NOT_CHECKED, True),
        (True, Status.DEGRADED, Reason.REPORTED_DEGRADED, False),
        (True, Status.UNHEALTHY, Reason.REPORTED_UNHEALTHY, False),
        (True, Status.UNKNOWN, Reason.ANALYTICS_UNAVAILABLE, False),
        (False, Status.HEALTHY, Reason.OK, False),
        (False, Status.UNKNOWN, Reason.NEVER_REPORTED, False),
    ],
)
def test_only_a_healthy_or_no_news_first_verdict_is_quiet(
    first: bool, status: Status, reason: Reason, quiet: bool
) -> None:
    assert quiet_first_verdict(first, status, reason) is quiet


def capturing() -> tuple[Any, list[dict[str, Any]]]:
    """A logger for the Monitor that keeps every event, debug too, whatever another test set
    structlog's level to."""
    capture = structlog.testing.LogCapture()
    logger = structlog.wrap_logger(
        structlog.ReturnLogger(),
        processors=[capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    return logger, capture.entries


def events(logs: list[dict[str, Any]], name: str) -> list[tuple[str, str, str]]:
    return [(e["log_level"], e["service"], e["to"]) for e in logs if e["event"] == name]


async def test_the_daemon_logs_first_verdicts_by_news_and_the_round_once() -> None:
    """api healthy at first look: debug; web down at first look: info; then api going down
    and back: info both ways (not first any more). The push check is not waited for."""
    logger, logs = capturing()
    monitor = Monitor(parse_config(THREE_SERVICES), clock=lambda: NOW, logger=logger)
    await monitor.start(schedule=False)
    try:
        assert monitor.first_round.checks == 3  # api's two, web's one; not the push check
        checks = {c.id: c for c in monitor.checks()}
        monitor.apply_verdict(checks["api/health/health"], OK, NOW)
        monitor.apply_verdict(checks["api/rpc/db"], OK, NOW)
        assert not [e for e in logs if e["event"] == "monitor.first_round"]
        assert not monitor.first_round_done.is_set()
        monitor.apply_verdict(checks["web/health/health"], DOWN, NOW)
        assert monitor.first_round_done.is_set(), "what gc_policy freezes the round on"
        monitor.apply_verdict(checks["api/health/health"], DOWN, NOW + timedelta(minutes=1))
        monitor.apply_verdict(checks["api/health/health"], OK, NOW + timedelta(minutes=2))
    finally:
        await monitor.stop(grace=0)
    assert events(logs, "check.status_changed") == [
        ("debug", "jobs", "unknown"),  # the push check, judged at start: not reported yet
        ("debug", "api", "healthy"),
        ("debug", "api", "healthy"),
        ("info", "web", "unhealthy"),
        ("info", "api", "unhealthy"),
        ("info", "api", "healthy"),
    ]
    assert events(logs, "service.status_changed") == [
        ("debug", "jobs", "unknown"),
        ("debug", "api", "healthy"),
        ("info", "web", "unhealthy"),
        ("info", "api", "unhealthy"),
        ("info", "api", "healthy"),
    ]
    (first_round,) = [e for e in logs if e["event"] == "monitor.first_round"]
    assert first_round["log_level"] == "info"
    assert first_round["checks"] == 3
    assert first_round["services"] == {"healthy": 1, "degraded": 0, "unhealthy": 1, "unknown": 1}


async def test_a_restored_check_is_not_waited_for_and_a_reload_can_end_the_round(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "monitor.db")
    since = NOW - timedelta(hours=2)
    store.save({"api/rpc/db": CheckState(OK, since, since, 3, 0.01, None)}, [])
    logger, logs = capturing()
    monitor = Monitor(parse_config(THREE_SERVICES), store=store, clock=lambda: NOW, logger=logger)
    await monitor.start(schedule=False)
    try:
        assert monitor.first_round.checks == 2  # api/rpc/db was restored
        checks = {c.id: c for c in monitor.checks()}
        monitor.apply_verdict(checks["api/health/health"], OK, NOW)
        assert not monitor.first_round.done
        monitor.apply_config(parse_config(THREE_SERVICES.replace("  - {name: web", "  # web")))
        assert monitor.first_round.done, "web was the last waited for, and is gone"
    finally:
        await monitor.stop(grace=0)
        store.close()
    (first_round,) = [e for e in logs if e["event"] == "monitor.first_round"]
    assert first_round["services"] == {"healthy": 1, "degraded": 0, "unhealthy": 0, "unknown": 1}
