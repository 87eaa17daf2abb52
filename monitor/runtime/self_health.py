"""The monitor's own health, as `/healthz` reports it: scheduling alive, event loop responsive,
and checks completing. A monitor cannot report its own death, so this is what an orchestrator's
liveness probe or an outside heartbeat watches. Pure: the daemon passes in what it measured.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from monitor import __version__
from monitor.model import Status

__all__ = ["HEALTHZ_LOOP_LAG", "NO_CHECKS_PERIOD", "STALL_SLACK", "self_health"]

HEALTHZ_LOOP_LAG = 1.0
"""Event-loop lag (seconds) over which the monitor is unhealthy: every latency it measures
meanwhile is that much too long, and its checks start that late."""
STALL_SLACK = 5.0
"""Seconds allowed beyond two of the shortest check periods (interval + timeout) before the
checks count as stalled: room for a slow start-up and the spread of first runs."""
NO_CHECKS_PERIOD = 60.0
"""The period assumed by a monitor with no checks (never reported as stalled anyway)."""


def self_health(
    now: float,
    *,
    started_at: float | None,
    last_check_at: float | None,
    periods: Iterable[float],
    scheduler_running: bool,
    loop_lag: float,
    schedule_lag_p99: float | None,
    checks: int,
) -> tuple[bool, dict[str, Any]]:
    """Healthy or not, and the details `/healthz` shows. Times are monotonic seconds;
    `periods` are the checks' interval + timeout. Checks are judged stalled only once the
    shortest period has had time to pass twice since start-up."""
    shortest = min(periods, default=NO_CHECKS_PERIOD)
    since_check = None if last_check_at is None else now - last_check_at
    uptime = 0.0 if started_at is None else now - started_at
    stalled = uptime > 2 * shortest + STALL_SLACK and (
        since_check is None or since_check > 2 * shortest + STALL_SLACK
    )
    problems = []
    if not scheduler_running:
        problems.append("scheduler is not running")
    if loop_lag > HEALTHZ_LOOP_LAG:
        problems.append(f"event loop lag {loop_lag:.3f}s")
    if stalled and checks:
        problems.append("no check has completed recently")
    return not problems, {
        "status": Status.HEALTHY.value if not problems else Status.UNHEALTHY.value,
        "problems": problems,
        "scheduler_running": scheduler_running,
        "event_loop_lag_seconds": round(loop_lag, 6),
        "schedule_lag_p99_seconds": _rounded(schedule_lag_p99),
        "seconds_since_last_check": None if since_check is None else round(since_check, 3),
        "checks": checks,
        "version": __version__,
    }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 6)
