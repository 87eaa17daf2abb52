"""The daemon against the simulated fleet: real sockets, real scheduler."""

from __future__ import annotations

import asyncio
import json

import pytest

from monitor.config import parse_config
from monitor.model import Reason, Status
from monitor.runtime.daemon import Monitor
from monitor.simulator import Behavior, Latency, SimulatedFleet, fleet_config_yaml, seed_fleet
from tests.polling import until

SEED_TABLE = {
    "do-gateway": (Status.HEALTHY, Reason.OK),
    "do-db": (Status.DEGRADED, Reason.REPORTED_DEGRADED),
    "auth": (Status.UNHEALTHY, Reason.WORKER_EXCEPTION),
    "webhooks": (Status.DEGRADED, Reason.NOT_FOUND),
    "do-schedule": (Status.HEALTHY, Reason.OK),
    "queue": (Status.HEALTHY, Reason.OK),
    "do-mcp": (Status.UNHEALTHY, Reason.WORKER_EXCEPTION),
    "email": (Status.UNHEALTHY, Reason.WORKER_EXCEPTION),
    "deploy": (Status.HEALTHY, Reason.OK),
    "dispatcher": (Status.HEALTHY, Reason.OK),
}


def detailed(config_yaml: str) -> str:
    """The config with `metrics: detailed`: these tests read the full set of series."""
    return json.dumps({**json.loads(config_yaml), "metrics": "detailed"})


async def test_seed_fleet_is_classified_as_the_report_does(fleet: SimulatedFleet) -> None:
    monitor = Monitor(parse_config(fleet_config_yaml(fleet)))
    await monitor.start(schedule=False)
    try:
        await monitor.run_all_once()
        status = monitor.status()
    finally:
        await monitor.stop()
    got = {s.name: (s.status, s.reason) for s in status.services}
    assert got == SEED_TABLE
    assert status.status is Status.UNHEALTHY
    assert status.counts == {
        Status.HEALTHY: 5,
        Status.DEGRADED: 2,
        Status.UNHEALTHY: 3,
        Status.UNKNOWN: 0,
    }
    db = next(s for s in status.services if s.name == "do-db")
    assert db.components["postgres"].detail == "DATABASE_URL not configured"
    gateway = next(s for s in status.services if s.name == "do-gateway")
    assert [c.name for c in gateway.checks] == ["health", "db"]
    assert gateway.depends_on == ["do-db", "auth"]


async def test_before_the_first_check_everything_is_unknown(fleet: SimulatedFleet) -> None:
    monitor = Monitor(parse_config(fleet_config_yaml(fleet)))
    status = monitor.status()
    assert {s.status for s in status.services} == {Status.UNKNOWN}
    assert {s.reason for s in status.services} == {Reason.NOT_CHECKED}


async def test_scheduled_checks_follow_a_service_down_and_back(fleet: SimulatedFleet) -> None:
    config = parse_config(detailed(fleet_config_yaml(fleet, interval="200ms", timeout="150ms")))
    monitor = Monitor(config)
    await monitor.start()
    try:

        def status_of(name: str) -> Status | None:
            state = monitor.tracked[f"{name}/health/health"].state
            return None if state is None else state.verdict.status

        await until(lambda: status_of("queue") is Status.HEALTHY)
        healthy_since = monitor.tracked["queue/health/health"].state.since
        fleet.set_behavior("queue", Behavior(status=503, body='{"status":"down"}'))
        await until(lambda: status_of("queue") is Status.UNHEALTHY)
        down = monitor.tracked["queue/health/health"].state
        assert down.since > healthy_since and down.previous is Status.HEALTHY
        fleet.set_behavior("queue", Behavior(body='{"status":"ok"}'))
        await until(lambda: status_of("queue") is Status.HEALTHY)
        service = next(s for s in monitor.status().services if s.name == "queue")
        assert service.since is not None and service.since > down.since
        changes = monitor.registry.get_sample_value(
            "monitor_check_status_changes_total",
            {"service": "queue", "check": "health", "kind": "health"},
        )
        assert changes == 2
    finally:
        await monitor.stop()


async def test_one_slow_service_does_not_delay_the_others(fleet: SimulatedFleet) -> None:
    fleet.set_behavior("auth", Behavior(body='{"status":"ok"}', latency=Latency(5.0, 5.0)))
    config = parse_config(detailed(fleet_config_yaml(fleet, interval="300ms", timeout="250ms")))
    monitor = Monitor(config)
    await monitor.start()
    try:
        await until(
            lambda: (
                (
                    monitor.registry.get_sample_value(
                        "monitor_checks_total",
                        {
                            "service": "queue",
                            "check": "health",
                            "kind": "health",
                            "status": "healthy",
                        },
                    )
                    or 0
                )
                >= 5
                and monitor.tracked["auth/health/health"].state is not None
            ),
            timeout=5,
        )
        auth = monitor.tracked["auth/health/health"].state
        assert auth.verdict.reason is Reason.TIMEOUT
        lag_count = monitor.registry.get_sample_value("monitor_schedule_lag_seconds_count")
        lag_sum = monitor.registry.get_sample_value("monitor_schedule_lag_seconds_sum")
        assert lag_count and lag_sum is not None
        # A schedule held by the slow check would put its 250 ms timeout into every round's
        # lag; on schedule, the mean is the loop's noise (a few ms, tens on a loaded CI).
        assert lag_sum / lag_count < 0.1, "healthy checks kept their schedule"
        # the same starts reach the alert rules and /healthz as a p99 over the last minute
        p99 = monitor.rule_input().schedule_lag_s
        assert p99 is not None and 0.0 <= p99 < 1.0
        assert monitor.self_health()[1]["schedule_lag_p99_seconds"] == round(p99, 6)
    finally:
        await monitor.stop()


async def test_metrics_are_declared_at_zero_and_follow_checks(fleet: SimulatedFleet) -> None:
    monitor = Monitor(parse_config(detailed(fleet_config_yaml(fleet))))
    labels = {"service": "auth", "check": "health", "kind": "health"}
    get = monitor.registry.get_sample_value
    assert get("monitor_checks_total", {**labels, "status": "unhealthy"}) == 0
    assert get("monitor_check_status", {**labels, "status": "unknown"}) == 1
    await monitor.start(schedule=False)
    try:
        await monitor.run_all_once()
    finally:
        await monitor.stop()
    assert get("monitor_checks_total", {**labels, "status": "unhealthy"}) == 1
    assert get("monitor_check_status", {**labels, "status": "unhealthy"}) == 1
    assert get("monitor_check_status", {**labels, "status": "unknown"}) == 0
    assert get("monitor_check_reason", {**labels, "reason": "worker_exception"}) == 1
    assert get("monitor_check_reason", {**labels, "reason": "not_checked"}) is None
    assert get("monitor_service_status", {"service": "auth", "status": "unhealthy"}) == 1
    assert get("monitor_check_duration_seconds_count", labels) == 1


@pytest.mark.parametrize(
    ("behavior", "status", "reason", "detail"),
    [
        (
            Behavior(status=200, body="\x00\xff" * 10, content_type="application/json"),
            Status.DEGRADED,
            Reason.INVALID_JSON,
            "HTTP 200 declares application/json but the body is not JSON (JSONDecodeError: "
            "Expecting value: line 1 column 1 (char 0))",
        ),
        (
            Behavior(status=200, body="{" * 50000, content_type="application/json"),
            Status.DEGRADED,
            Reason.INVALID_JSON,
            "HTTP 200 declares application/json but the body is not JSON (JSONDecodeError: "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        ),
        (
            Behavior(status=999, body="?"),
            Status.UNKNOWN,
            Reason.UNRECOGNIZED_BODY,
            "unexpected HTTP status 999",
        ),
        (
            Behavior(status=200, body="", content_type="application/json"),
            Status.DEGRADED,
            Reason.INVALID_JSON,
            "HTTP 200 declares application/json but the body is not JSON (empty body)",
        ),
    ],
    ids=["binary", "deep nesting", "status 999", "empty json"],
)
async def test_daemon_survives_what_a_service_sends(
    fleet: SimulatedFleet, behavior: Behavior, status: Status, reason: Reason, detail: str
) -> None:
    fleet.set_behavior("queue", behavior)
    monitor = Monitor(parse_config(fleet_config_yaml(fleet)))
    await monitor.start(schedule=False)
    try:
        await monitor.run_all_once()
    finally:
        await monitor.stop()
    queue = monitor.tracked["queue/health/health"].state.verdict
    assert (queue.status, queue.reason, queue.detail) == (status, reason, detail)


async def test_self_health(fleet: SimulatedFleet) -> None:
    monitor = Monitor(parse_config(fleet_config_yaml(fleet, interval="200ms", timeout="100ms")))
    ok, details = monitor.self_health()
    assert not ok and "scheduler is not running" in details["problems"]
    await monitor.start()
    try:
        await until(lambda: monitor.last_check_monotonic is not None)
        ok, details = monitor.self_health()
        assert ok, details
    finally:
        await monitor.stop()


def test_seed_fleet_expectations_match_the_table() -> None:
    assert {s.name: s.expected for s in seed_fleet()} == {
        name: status.value for name, (status, _) in SEED_TABLE.items()
    }


async def test_checks_in_flight_is_read_when_scraped(fleet: SimulatedFleet) -> None:
    fleet.set_behavior("auth", Behavior(body='{"status":"ok"}', latency=Latency(0.5, 0.5)))
    monitor = Monitor(parse_config(fleet_config_yaml(fleet, timeout="2s")))
    in_flight = lambda: monitor.registry.get_sample_value("monitor_checks_in_flight")  # noqa: E731
    assert in_flight() == 0
    await monitor.start(schedule=False)
    try:
        round_ = asyncio.create_task(monitor.run_all_once())
        slow = sum(1 for c in monitor.checks() if c.service == "auth")
        unchecked = lambda: sum(t.state is None for t in monitor.tracked.values())  # noqa: E731
        await until(lambda: unchecked() == slow)  # all but auth
        assert not round_.done() and in_flight() == slow, "auth's checks await their answers"
        await round_
        assert in_flight() == 0
    finally:
        await monitor.stop()


async def test_a_raising_parser_is_counted_and_the_check_still_judged(
    fleet: SimulatedFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    import monitor.normalize as normalize

    def explode(*_: object) -> None:
        raise RuntimeError("parser bug")

    monitor = Monitor(parse_config(fleet_config_yaml(fleet)))
    get = monitor.registry.get_sample_value
    assert get("monitor_normalizer_parser_errors_total", {"parser": "generic_json"}) == 0
    monkeypatch.setattr(normalize, "PARSERS", (("boom", explode), *normalize.PARSERS))
    await monitor.start(schedule=False)
    try:
        await monitor.run_all_once()
    finally:
        await monitor.stop()
    assert get("monitor_normalizer_parser_errors_total", {"parser": "boom"}) == len(monitor.tracked)
    assert monitor.tracked["do-db/health/health"].state.verdict.reason is Reason.REPORTED_DEGRADED
