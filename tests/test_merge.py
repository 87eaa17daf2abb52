"""Merging replicas' /status: freshest result per check, coverage, unreachable replicas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.fleet.merge import ReplicaAnswer, merge
from monitor.fleet.sharding import assign, config_digest
from monitor.model import (
    CheckKind,
    CheckStatus,
    FleetStatus,
    Reason,
    ServiceStatus,
    ShardInfo,
    Status,
)
from tests.check_builders import check_status

T0 = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
IDS = ["a/health/health", "a/rpc/db", "b/health/health"]


def _check(name: str, kind: CheckKind, status: Status, at: datetime | None) -> CheckStatus:
    reason = {Status.HEALTHY: Reason.OK, Status.UNHEALTHY: Reason.SERVER_ERROR}.get(
        status, Reason.NOT_CHECKED
    )
    return check_status(name, kind, status, reason, detail=reason.value, checked_at=at, since=at)


def _fleet(index: int, services: dict[str, list[CheckStatus]]) -> FleetStatus:
    shard = ShardInfo(
        index=index,
        count=3,
        replicas=2,
        replica=f"m-{index}",
        by="check",
        checks_owned=sum(len(c) for c in services.values()),
        checks_total=len(IDS),
        config_digest=config_digest(IDS),
    )
    return FleetStatus(
        status=Status.HEALTHY,
        generated_at=T0,
        counts={s: 0 for s in Status},
        services=[
            ServiceStatus(
                name=name,
                status=Status.HEALTHY,
                reason=Reason.OK,
                detail="",
                url="http://x",
                checks=checks,
            )
            for name, checks in services.items()
        ],
        shard=shard,
    )


def test_freshest_result_wins_and_service_is_reaggregated() -> None:
    old = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0)
    new = _check("health", CheckKind.HEALTH, Status.UNHEALTHY, T0 + timedelta(seconds=5))
    rpc = _check("db", CheckKind.RPC, Status.HEALTHY, T0)
    merged = merge(
        [
            ReplicaAnswer("r0", _fleet(0, {"a": [old, rpc]})),
            ReplicaAnswer("r1", _fleet(1, {"a": [new], "b": [old]})),
            ReplicaAnswer("r2", _fleet(2, {"a": [rpc], "b": [old]})),
        ],
        T0,
    )
    a = next(s for s in merged.fleet.services if s.name == "a")
    assert a.status is Status.UNHEALTHY and a.reason is Reason.SERVER_ERROR
    assert a.checked_at == T0 + timedelta(seconds=5)
    assert [c.name for c in a.checks] == ["health", "db"]
    assert merged.fleet.status is Status.UNHEALTHY
    assert merged.fleet.counts[Status.UNHEALTHY] == 1
    assert merged.coverage == {"a/health/health": 2, "a/rpc/db": 2, "b/health/health": 2}
    assert merged.uncovered_count == 0 and merged.complete
    assert merged.missing_shards == [] and merged.problems == []


def test_not_checked_loses_to_any_result() -> None:
    pending = _check("health", CheckKind.HEALTH, Status.UNKNOWN, None)
    done = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0)
    for order in ([pending, done], [done, pending]):
        answers = [ReplicaAnswer(f"r{i}", _fleet(i, {"b": [c]})) for i, c in enumerate(order)]
        merged = merge(answers, T0)
        assert merged.fleet.services[0].checks[0].checked_at == T0


def test_unreachable_replica_is_reported_and_gaps_are_named() -> None:
    check = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0)
    merged = merge(
        [
            ReplicaAnswer("r0", _fleet(0, {"a": [check]})),
            ReplicaAnswer("r1", None, "no answer within 5s"),
        ],
        T0,
        expected=IDS,
    )
    assert [(r.source, r.ok, r.error) for r in merged.replicas] == [
        ("r0", True, None),
        ("r1", False, "no answer within 5s"),
    ]
    assert [u.id for u in merged.uncovered] == ["a/rpc/db", "b/health/health"]
    assert merged.uncovered[0].owners == list(assign("a/rpc/db", 3, 2))
    assert merged.uncovered_count == 2 and not merged.complete
    assert merged.missing_shards == [1, 2]


def test_count_of_uncovered_without_a_config() -> None:
    check = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0)
    merged = merge([ReplicaAnswer("r0", _fleet(0, {"a": [check]}))], T0)
    assert merged.checks_total == 3 and merged.uncovered_count == 2
    assert merged.uncovered == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"config_digest": "0000000000000000"}, "different configs"),
        ({"count": 4}, "shard layout"),
        ({"index": 0}, "more than one answering replica holds shard [0]"),
    ],
)
def test_inconsistent_replicas_are_problems(change: dict[str, object], problem: str) -> None:
    check = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0)
    first, second = _fleet(0, {"a": [check]}), _fleet(1, {"a": [check]})
    assert second.shard is not None
    second.shard = second.shard.model_copy(update=change)
    merged = merge([ReplicaAnswer("r0", first), ReplicaAnswer("r1", second)], T0)
    assert any(problem in p for p in merged.problems), merged.problems


def test_nothing_answered_is_not_complete() -> None:
    merged = merge([ReplicaAnswer("r0", None, "refused")], T0)
    assert not merged.complete and merged.fleet.services == []


@pytest.mark.parametrize("order", [0, 1])
def test_the_fresher_result_wins_and_at_the_same_instant_the_worse(order: int) -> None:
    failing = _check("health", CheckKind.HEALTH, Status.UNHEALTHY, T0)
    passing = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0 + timedelta(seconds=5))
    later = _check("health", CheckKind.HEALTH, Status.UNHEALTHY, T0 + timedelta(seconds=9))
    same_instant = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0)
    for pair, (status, at) in [
        ((failing, passing), (Status.HEALTHY, T0 + timedelta(seconds=5))),
        ((passing, later), (Status.UNHEALTHY, T0 + timedelta(seconds=9))),
        ((failing, same_instant), (Status.UNHEALTHY, T0)),
    ]:
        first, second = pair if order == 0 else pair[::-1]
        merged = merge(
            [
                ReplicaAnswer("r0", _fleet(0, {"a": [first]})),
                ReplicaAnswer("r1", _fleet(1, {"a": [second]})),
            ],
            T0,
        )
        [check] = merged.fleet.services[0].checks
        assert (check.status, check.checked_at) == (status, at)
