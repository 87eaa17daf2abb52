"""Merging replicas at the edges: a dead replica before a live one, a tie at the same instant
with the same status, counts and per-replica figures, a replica without the health check,
the exact problem words, and owners of uncovered checks when sharding by service."""

from __future__ import annotations

from datetime import timedelta

from monitor.fleet.merge import ReplicaAnswer, merge
from monitor.fleet.sharding import assign
from monitor.model import CheckKind, Reason, Status
from tests.test_merge import T0, _check, _fleet


def test_a_dead_replica_first_does_not_hide_the_live_ones() -> None:
    check = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0)
    merged = merge(
        [ReplicaAnswer("r0", None, "refused"), ReplicaAnswer("r1", _fleet(1, {"a": [check]}))], T0
    )
    assert [s.name for s in merged.fleet.services] == ["a"]
    assert [(r.source, r.ok, r.error, r.checks) for r in merged.replicas] == [
        ("r0", False, "refused", 0),
        ("r1", True, None, 1),
    ]
    assert merged.replicas[1].shard is not None and merged.replicas[1].shard.index == 1


def test_each_replica_reports_how_many_checks_it_holds() -> None:
    health = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0)
    rpc = _check("db", CheckKind.RPC, Status.HEALTHY, T0)
    merged = merge([ReplicaAnswer("r0", _fleet(0, {"a": [health, rpc], "b": [health]}))], T0)
    assert [r.checks for r in merged.replicas] == [3]
    assert merged.fleet.counts[Status.HEALTHY] == 2


def test_at_the_same_instant_and_status_the_first_answer_stays() -> None:
    first = _check("health", CheckKind.HEALTH, Status.UNHEALTHY, T0).model_copy(
        update={"detail": "from r0"}
    )
    second = first.model_copy(update={"detail": "from r1"})
    merged = merge(
        [
            ReplicaAnswer("r0", _fleet(0, {"a": [first]})),
            ReplicaAnswer("r1", _fleet(1, {"a": [second]})),
        ],
        T0,
    )
    assert merged.fleet.services[0].checks[0].detail == "from r0"


def test_a_service_whose_status_changed_takes_detail_and_since_from_its_checks() -> None:
    later = T0 + timedelta(minutes=3)
    down = _check("health", CheckKind.HEALTH, Status.UNHEALTHY, later)
    merged = merge([ReplicaAnswer("r0", _fleet(0, {"a": [down]}))], T0)
    (service,) = merged.fleet.services
    assert (service.status, service.reason, service.detail) == (
        Status.UNHEALTHY,
        Reason.SERVER_ERROR,
        "server_error",
    )
    assert service.since == later


def test_a_replica_with_only_a_smoke_check_is_merged() -> None:
    rpc = _check("db", CheckKind.RPC, Status.UNHEALTHY, T0)
    merged = merge([ReplicaAnswer("r0", _fleet(0, {"a": [rpc]}))], T0)
    (service,) = merged.fleet.services
    assert (service.status, service.since) == (Status.DEGRADED, None)


def test_problem_words_name_every_digest_and_layout() -> None:
    check = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0)
    first, second = _fleet(0, {"a": [check]}), _fleet(1, {"a": [check]})
    assert second.shard is not None
    second.shard = second.shard.model_copy(
        update={"config_digest": "0000000000000000", "count": 4, "by": "service"}
    )
    merged = merge([ReplicaAnswer("r0", first), ReplicaAnswer("r1", second)], T0)
    assert first.shard is not None
    assert merged.problems == [
        f"replicas run different configs (digests 0000000000000000, {first.shard.config_digest})",
        "replicas disagree on the shard layout: 3 shards x2 by check, 4 shards x2 by service",
    ]


def test_uncovered_checks_name_their_owners_by_service() -> None:
    check = _check("health", CheckKind.HEALTH, Status.HEALTHY, T0)
    replica = _fleet(0, {"a": [check]})
    assert replica.shard is not None
    replica.shard = replica.shard.model_copy(update={"by": "service"})
    merged = merge([ReplicaAnswer("r0", replica)], T0, expected=["a/health/health", "b/rpc/x/y"])
    assert merged.checks_total == 2
    # the owners of service "b" on 3 shards x2 (tests/fixtures/sharding/owners.tsv has the
    # same maths for check ids); every check of "b" has the same owners
    (uncovered,) = merged.uncovered
    assert uncovered.id == "b/rpc/x/y"
    assert uncovered.owners == list(assign("b", 3, 2))
