"""State transitions and service aggregation: pure, with the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import parse_config
from monitor.model import CheckKind, CheckStatus, Reason, Status, Verdict
from monitor.state import CheckState, advance, track_service
from monitor.status import fleet_status, service_verdict
from tests.check_builders import check_status

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def verdict(status: Status, reason: Reason = Reason.OK) -> Verdict:
    return Verdict(status=status, reason=reason, detail=status.value)


def test_since_moves_only_when_status_changes() -> None:
    s1 = advance(None, verdict(Status.HEALTHY), T0, 0.01)
    assert (s1.since, s1.consecutive, s1.previous, s1.changed) == (T0, 1, None, True)
    s2 = advance(s1, verdict(Status.HEALTHY), T0 + timedelta(seconds=10), 0.01)
    assert (s2.since, s2.consecutive, s2.changed) == (T0, 2, False)
    s3 = advance(s2, verdict(Status.UNHEALTHY, Reason.TIMEOUT), T0 + timedelta(seconds=20), 2.0)
    assert (s3.since, s3.consecutive, s3.previous, s3.changed) == (
        T0 + timedelta(seconds=20),
        1,
        Status.HEALTHY,
        True,
    )
    s4 = advance(
        s3, verdict(Status.UNHEALTHY, Reason.CONNECTION_REFUSED), T0 + timedelta(seconds=30), 0
    )
    assert s4.since == s3.since and s4.consecutive == 2 and s4.previous is Status.HEALTHY
    assert not s4.changed, "a new reason under the same status is not a status change"


def test_service_track_keeps_since() -> None:
    t1 = track_service(None, Status.HEALTHY, T0)
    assert track_service(t1, Status.HEALTHY, T0 + timedelta(minutes=1)) is t1
    t2 = track_service(t1, Status.DEGRADED, T0 + timedelta(minutes=2))
    assert t2.since == T0 + timedelta(minutes=2)


def check(kind: CheckKind, status: Status, reason: Reason, name: str = "health") -> CheckStatus:
    return check_status(name, kind, status, reason, detail=f"{name} {status.value}")


@pytest.mark.parametrize(
    ("health", "smoke", "expected"),
    [
        ((Status.HEALTHY, Reason.OK), None, (Status.HEALTHY, Reason.OK)),
        (
            (Status.HEALTHY, Reason.OK),
            (Status.UNHEALTHY, Reason.TIMEOUT),
            (Status.DEGRADED, Reason.TIMEOUT),
        ),
        (
            (Status.HEALTHY, Reason.OK),
            (Status.DEGRADED, Reason.LATENCY_OVER_TARGET),
            (Status.DEGRADED, Reason.LATENCY_OVER_TARGET),
        ),
        (
            (Status.UNHEALTHY, Reason.SERVER_ERROR),
            (Status.UNHEALTHY, Reason.TIMEOUT),
            (Status.UNHEALTHY, Reason.SERVER_ERROR),
        ),
        (
            (Status.HEALTHY, Reason.OK),
            (Status.UNKNOWN, Reason.NOT_CHECKED),
            (Status.HEALTHY, Reason.OK),
        ),
    ],
)
def test_service_verdict(
    health: tuple[Status, Reason],
    smoke: tuple[Status, Reason] | None,
    expected: tuple[Status, Reason],
) -> None:
    checks = [check(CheckKind.HEALTH, *health)]
    if smoke:
        checks.append(check(CheckKind.RPC, *smoke, name="db"))
    status, reason, detail = service_verdict(checks)
    assert (status, reason) == expected
    if smoke and expected[1] == smoke[1] and expected[1] != health[1]:
        assert detail.startswith("rpc check db:")


@pytest.mark.parametrize(
    ("headless", "tcp", "expected"),
    [
        # a service without url: its tcp check is its health, counted in full
        (True, (Status.UNHEALTHY, Reason.CONNECTION_REFUSED), Status.UNHEALTHY),
        (True, (Status.DEGRADED, Reason.CERTIFICATE_EXPIRING), Status.DEGRADED),
        (True, (Status.HEALTHY, Reason.OK), Status.HEALTHY),
        # a sharded replica holding only a smoke check: capped, the health check is elsewhere
        (False, (Status.UNHEALTHY, Reason.CONNECTION_REFUSED), Status.DEGRADED),
    ],
)
def test_a_service_without_url_is_judged_by_its_checks_in_full(
    headless: bool, tcp: tuple[Status, Reason], expected: Status
) -> None:
    checks = [check(CheckKind.TCP, *tcp, name="connect")]
    status, reason, detail = service_verdict(checks, headless=headless)
    assert (status, reason) == (expected, tcp[1])
    if expected is Status.HEALTHY:
        assert detail == "every check passes (no url, so no health check)"
    else:
        assert detail.startswith("tcp check connect: ")


def test_fleet_status_counts_and_worst() -> None:
    config = parse_config(
        "services:\n  - {name: a, url: 'http://a'}\n  - {name: b, url: 'http://b'}\n"
    )
    states = {"a/health/health": CheckState(verdict(Status.HEALTHY), T0, T0, 3, 0.002)}
    fleet = fleet_status(config, states, {}, T0)
    assert fleet.status is Status.UNKNOWN
    assert fleet.counts[Status.HEALTHY] == 1 and fleet.counts[Status.UNKNOWN] == 1
    a = fleet.services[0]
    assert a.duration_ms == 2.0 and a.checks[0].consecutive == 3
