"""monitor/status.py where push checks, analytics and services without url meet: which check
speaks for a service, what is shown of a check that polls nothing, and when a service without
a health check was last observed. Expected words are written out, not read from the module."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import parse_config
from monitor.model import Certificate, CheckKind, CheckStatus, Reason, Status, Verdict
from monitor.state import CheckState
from monitor.status import fleet_status, service_verdict
from tests.check_builders import check_status

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
HEADLESS = parse_config(
    """
services:
  - name: queue
    tcp: [{name: connect, address: "db:5432"}]
    push: [{name: consumer, every: 1m, grace: 1m, token: a-push-token-of-16-chars}]
""",
    env={},
)


def _state(status: Status, reason: Reason, at: datetime, detail: str = "d") -> CheckState:
    return CheckState(Verdict(status=status, reason=reason, detail=detail), at, at, 1, 0.25)


def _check(kind: CheckKind, status: Status, reason: Reason, name: str) -> CheckStatus:
    return check_status(name, kind, status, reason, detail=f"{name} says {status.value}")


UNKNOWN = Status.UNKNOWN
CONNECT_NOT_RUN = (CheckKind.TCP, UNKNOWN, Reason.NOT_CHECKED, "connect")


@pytest.mark.parametrize(
    ("checks", "headless", "expected"),
    [
        # a health check's own detail speaks for its service, not prefixed like a smoke check's
        (
            [(CheckKind.HEALTH, Status.UNHEALTHY, Reason.SERVER_ERROR, "health")],
            False,
            (Status.UNHEALTHY, Reason.SERVER_ERROR, "health says unhealthy"),
        ),
        (
            [CONNECT_NOT_RUN, (CheckKind.PUSH, UNKNOWN, Reason.NOT_CHECKED, "consumer")],
            True,
            (UNKNOWN, Reason.NOT_CHECKED, "not checked yet"),
        ),
        # a job that never reported names itself over a check not run yet
        (
            [CONNECT_NOT_RUN, (CheckKind.PUSH, UNKNOWN, Reason.NEVER_REPORTED, "consumer")],
            True,
            (UNKNOWN, Reason.NEVER_REPORTED, "push check consumer: consumer says unknown"),
        ),
        # push checks only, one on time: healthy (one not reported yet waits)
        (
            [
                (CheckKind.PUSH, Status.HEALTHY, Reason.OK, "consumer"),
                (CheckKind.PUSH, UNKNOWN, Reason.NEVER_REPORTED, "nightly"),
            ],
            False,
            (Status.HEALTHY, Reason.OK, "every push check reports on time"),
        ),
    ],
)
def test_which_check_speaks_for_a_service(
    checks: list[tuple[CheckKind, Status, Reason, str]],
    headless: bool,
    expected: tuple[Status, Reason, str],
) -> None:
    statuses = [_check(*c) for c in checks]
    assert service_verdict(statuses, headless=headless) == expected


HEALTHY = (Status.HEALTHY, Reason.OK)


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        # an analytics outage says nothing about the service
        (
            [(CheckKind.ANALYTICS, Status.UNKNOWN, Reason.ANALYTICS_UNAVAILABLE)],
            (Status.HEALTHY, Reason.OK, "health says healthy"),
        ),
        # real users' errors count in full, not capped at degraded like a smoke check
        (
            [(CheckKind.ANALYTICS, Status.UNHEALTHY, Reason.ERROR_RATE_HIGH)],
            (Status.UNHEALTHY, Reason.ERROR_RATE_HIGH, "analytics check a0: a0 says unhealthy"),
        ),
        # a smoke check the monitor cannot read is unknown: worse than healthy
        (
            [(CheckKind.RPC, Status.UNKNOWN, Reason.UNRECOGNIZED_BODY)],
            (Status.UNKNOWN, Reason.UNRECOGNIZED_BODY, "rpc check r0: r0 says unknown"),
        ),
        # a skipped analytics check does not stop the checks after it being read
        (
            [
                (CheckKind.ANALYTICS, Status.UNKNOWN, Reason.ANALYTICS_UNAVAILABLE),
                (CheckKind.RPC, Status.UNHEALTHY, Reason.TIMEOUT),
            ],
            (Status.DEGRADED, Reason.TIMEOUT, "rpc check r1: r1 says unhealthy"),
        ),
    ],
)
def test_analytics_counts_in_full_unless_it_is_unavailable(
    others: list[tuple[CheckKind, Status, Reason]], expected: tuple[Status, Reason, str]
) -> None:
    checks = [_check(CheckKind.HEALTH, *HEALTHY, "health")]
    checks += [_check(kind, s, r, f"{kind.value[0]}{i}") for i, (kind, s, r) in enumerate(others)]
    assert service_verdict(checks) == expected


def test_a_service_without_url_counts_a_failing_check_in_full_and_shows_no_url() -> None:
    states = {
        "queue/tcp/connect": _state(Status.UNHEALTHY, Reason.CONNECTION_REFUSED, T0, "refused"),
        "queue/push/consumer": _state(Status.HEALTHY, Reason.OK, T0 + timedelta(seconds=7)),
    }
    (queue,) = fleet_status(HEADLESS, states, {}, T0 + timedelta(minutes=1)).services
    assert (queue.status, queue.reason, queue.detail) == (
        Status.UNHEALTHY,
        Reason.CONNECTION_REFUSED,
        "tcp check connect: refused",
    )
    assert queue.url == ""
    assert queue.checked_at == T0 + timedelta(seconds=7)  # the latest of its checks


def test_a_service_without_url_not_checked_yet_was_never_observed() -> None:
    (queue,) = fleet_status(HEADLESS, {}, {}, T0).services
    assert (queue.status, queue.reason, queue.checked_at) == (
        Status.UNKNOWN,
        Reason.NOT_CHECKED,
        None,
    )


def test_a_push_check_shows_neither_a_round_trip_nor_a_target() -> None:
    states = {"queue/push/consumer": _state(Status.HEALTHY, Reason.OK, T0)}
    (queue,) = fleet_status(HEADLESS, states, {}, T0).services
    tcp, push = queue.checks
    assert (push.kind, push.duration_ms, push.target_ms, push.checked_at) == (
        CheckKind.PUSH,
        None,
        None,
        T0,
    )
    assert (tcp.kind, tcp.target_ms) == (CheckKind.TCP, 50.0)  # the tcp default, 50 ms


def test_a_replica_holding_only_push_checks_of_a_service_with_url_shows_when_they_ran() -> None:
    config = parse_config(
        """
services:
  - name: sync
    url: http://sync.test
    push: [{name: nightly, every: 1h, grace: 5m, token: a-push-token-of-16-chars}]
""",
        env={},
    )
    (push,) = [c for c in config.checks() if c.kind is CheckKind.PUSH]
    states = {push.id: _state(Status.HEALTHY, Reason.OK, T0 - timedelta(minutes=3))}
    (sync,) = fleet_status(config, states, {}, T0, checks=[push]).services
    assert (sync.status, sync.detail, sync.url, sync.checked_at) == (
        Status.HEALTHY,
        "every push check reports on time",
        "http://sync.test",
        T0 - timedelta(minutes=3),
    )


def test_a_certificate_reaches_the_check_s_entry() -> None:
    config = parse_config("services:\n  - {name: web, url: 'https://web.test'}\n", env={})
    at = T0 + timedelta(days=20)
    cert = Certificate(host="web.test", not_after=at, chain_not_after=at, days_left=20)
    verdict = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="fine", tls=cert)
    states = {"web/health/health": CheckState(verdict, T0, T0, 1, 0.01)}
    (web,) = fleet_status(config, states, {}, T0).services
    assert web.checks[0].tls == cert
