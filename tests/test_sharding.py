"""Rendezvous sharding: deterministic, balanced, minimal movement, exact replication, and the
shard spec from the command line, the environment and StatefulSet hostnames."""

from __future__ import annotations

import subprocess
import sys

import pytest

from monitor.config import parse_config
from monitor.fleet.sharding import (
    ShardSpec,
    ShardSpecError,
    assign,
    config_digest,
    ordinal,
    owns,
    parse_spec,
    resolve,
    spread,
)
from monitor.runtime.daemon import Monitor
from monitor.runtime.settings import MonitorSettings

KEYS = [f"tenant-{i:05d}/health/health" for i in range(10_000)]


def test_assignment_is_deterministic_across_processes() -> None:
    """Not Python's salted hash(): another interpreter computes the same owners."""
    here = [assign(k, 7, 2) for k in KEYS[:50]]
    code = (
        "from monitor.fleet.sharding import assign;"
        "print([assign(f'tenant-{i:05d}/health/health', 7, 2) for i in range(50)])"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert repr(here) == there.strip()
    assert here == [assign(k, 7, 2) for k in KEYS[:50]]


@pytest.mark.parametrize("shards", range(3, 11))
def test_balanced_at_10000_checks(shards: int) -> None:
    counts = spread(KEYS, shards)
    mean = len(KEYS) / shards
    assert sum(counts) == len(KEYS)
    assert max(counts) / mean < 1.1, counts


@pytest.mark.parametrize("shards", range(3, 11))
def test_balanced_with_two_replicas(shards: int) -> None:
    counts = spread(KEYS, shards, replicas=2)
    assert sum(counts) == 2 * len(KEYS)
    assert max(counts) / (2 * len(KEYS) / shards) < 1.1, counts


@pytest.mark.parametrize("shards", range(3, 11))
def test_adding_a_shard_moves_about_one_nth(shards: int) -> None:
    before = {k: assign(k, shards)[0] for k in KEYS}
    after = {k: assign(k, shards + 1)[0] for k in KEYS}
    moved = [k for k in KEYS if before[k] != after[k]]
    assert len(moved) / len(KEYS) <= 1.3 / shards
    assert all(after[k] == shards for k in moved), "a key only ever moves to the new shard"
    assert len(moved) > 0.5 * len(KEYS) / (shards + 1)


@pytest.mark.parametrize("shards", [2, 3, 5, 10])
def test_removing_a_shard_moves_only_its_checks(shards: int) -> None:
    before = {k: assign(k, shards)[0] for k in KEYS}
    after = {k: assign(k, shards - 1)[0] for k in KEYS}
    assert all(before[k] == after[k] for k in KEYS if before[k] != shards - 1)


@pytest.mark.parametrize(("shards", "replicas"), [(2, 2), (3, 2), (5, 2), (10, 3), (4, 4)])
def test_every_check_has_exactly_r_distinct_owners(shards: int, replicas: int) -> None:
    for key in KEYS[:2000]:
        owners = assign(key, shards, replicas)
        assert len(set(owners)) == replicas
        assert [s for s in range(shards) if owns(key, s, shards, replicas)] == sorted(owners)


def test_more_replicas_keep_the_first_owners() -> None:
    """R=2 adds a second owner; the first stays (going from R=1 to R=2 moves nothing)."""
    assert all(assign(k, 5, 2)[0] == assign(k, 5, 1)[0] for k in KEYS[:2000])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0/3", (0, 3)), ("2/3", (2, 3)), (" 1 / 4 ", (1, 4)), ("0/1", (0, 1)), ("9/10", (9, 10))],
)
def test_parse_spec(text: str, expected: tuple[int, int]) -> None:
    assert parse_spec(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3/3", "did you mean 2/3"),
        ("4/3", "outside 0..2"),
        ("0/0", "expected 1 to"),
        ("1", "INDEX/COUNT"),
        ("-1/3", "INDEX/COUNT"),
        ("a/b", "INDEX/COUNT"),
        ("1/2/3", "INDEX/COUNT"),
        ("", "INDEX/COUNT"),
    ],
)
def test_bad_specs(text: str, message: str) -> None:
    with pytest.raises(ShardSpecError, match=message.replace(".", r"\.")):
        parse_spec(text)


@pytest.mark.parametrize(
    ("hostname", "index"),
    [
        ("monitor-0", 0),
        ("monitor-2", 2),
        ("fleet-monitor-12", 12),
        ("monitor-2.monitor.observability.svc.cluster.local", 2),
    ],
)
def test_ordinal(hostname: str, index: int) -> None:
    assert ordinal(hostname) == index


@pytest.mark.parametrize("hostname", ["monitor", "monitor-", "monitor-x", "laptop.local", ""])
def test_hostname_without_ordinal(hostname: str) -> None:
    with pytest.raises(ShardSpecError, match="NAME-ORDINAL"):
        ordinal(hostname)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"shard": None, "shards": None, "replicas": None}, None),
        ({"shard": "", "shards": None, "replicas": 1}, None),
        ({"shard": "1/3", "shards": None, "replicas": 2}, ShardSpec(1, 3, 2, "monitor-2")),
        ({"shard": "1/3", "shards": 3, "replicas": None}, ShardSpec(1, 3, 1, "monitor-2")),
        ({"shard": None, "shards": 3, "replicas": 2}, ShardSpec(2, 3, 2, "monitor-2")),
    ],
)
def test_resolve(kwargs: dict[str, object], expected: ShardSpec | None) -> None:
    assert resolve(hostname="monitor-2", **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shard": "1/3", "shards": 4, "replicas": None}, "--shards says 4"),
        ({"shard": None, "shards": 2, "replicas": None}, "ordinal 2, outside 0..1"),
        ({"shard": None, "shards": None, "replicas": 2}, "--replicas needs"),
        ({"shard": "0/3", "shards": None, "replicas": 4}, "expected 1 to 3 replicas"),
        ({"shard": "0/3", "shards": None, "replicas": 0}, "expected 1 to 3 replicas"),
    ],
)
def test_resolve_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ShardSpecError, match=message):
        resolve(hostname="monitor-2", **kwargs)  # type: ignore[arg-type]


def test_shard_by_service_keeps_a_service_together() -> None:
    specs = [ShardSpec(i, 4, 1, by="service") for i in range(4)]
    for service in ("auth", "do-db", "queue", "email"):
        ids = [f"{service}/health/health", f"{service}/rpc/db", f"{service}/http/items"]
        holders = {i for i, s in enumerate(specs) for cid in ids if s.owns(cid, service)}
        assert len(holders) == 1


def test_config_digest_ignores_order() -> None:
    assert config_digest(["b", "a"]) == config_digest(["a", "b"]) != config_digest(["a"])


CONFIG = "\n".join(
    ["services:"]
    + [
        f"  - {{name: t{i}, url: 'http://127.0.0.1:9', rpc: [{{name: db, path: /db}}]}}"
        for i in range(60)
    ]
)


def test_daemon_runs_only_its_shard_and_status_says_so() -> None:
    config = parse_config(CONFIG)
    monitors = [
        Monitor(config, MonitorSettings(shard=ShardSpec(i, 3, 2, f"m-{i}"))) for i in range(3)
    ]
    every = {c.id for c in config.checks()}
    held = [set(m.tracked) for m in monitors]
    for cid in every:
        assert sum(cid in h for h in held) == 2
    for i, m in enumerate(monitors):
        fleet = m.status()
        assert fleet.shard is not None
        assert (fleet.shard.index, fleet.shard.count, fleet.shard.replicas) == (i, 3, 2)
        assert fleet.shard.replica == f"m-{i}"
        assert fleet.shard.checks_owned == len(held[i])
        assert fleet.shard.checks_total == len(every) == 120
        shown = {f"{s.name}/{c.kind.value}/{c.name}" for s in fleet.services for c in s.checks}
        assert shown == held[i], "checks not owned are left out, not shown as not_checked"
        assert all(s.checks for s in fleet.services)


def test_reload_keeps_filtering() -> None:
    config = parse_config(CONFIG)
    monitor = Monitor(config, MonitorSettings(shard=ShardSpec(0, 3, 1)))
    bigger = parse_config(
        CONFIG + "\n  - {name: extra, url: 'http://127.0.0.1:9', rpc: [{name: a, path: /a}]}"
    )
    monitor.apply_config(bigger)
    expected = {c.id for c in bigger.checks() if assign(c.id, 3)[0] == 0}
    assert set(monitor.tracked) == expected
    status = monitor.status()
    assert status.shard is not None and status.shard.checks_total == 122
    assert status.shard.checks_owned == len(expected)


def test_unsharded_status_has_no_shard() -> None:
    monitor = Monitor(parse_config(CONFIG))
    assert monitor.status().shard is None
    assert len(monitor.tracked) == 120


# Shard specs at their edges, with the exact words an operator reads: the last index, the
# largest count, a hostname without an ordinal, and the digest replicas compare across versions.


def _message(call: object, *args: object) -> str:
    with pytest.raises(ShardSpecError) as caught:
        call(*args)  # type: ignore[operator]
    return str(caught.value)


def test_owns_accepts_the_last_index_and_refuses_the_count() -> None:
    assert sum(owns("queue/health/health", i, 3) for i in range(3)) == 1
    assert _message(owns, "queue/health/health", 3, 3) == "shard index 3 is outside 0..2"
    assert _message(owns, "queue/health/health", -1, 3) == "shard index -1 is outside 0..2"


def test_a_spec_accepts_the_last_index_and_refuses_the_count() -> None:
    assert ShardSpec(2, 3).index == 2
    assert _message(ShardSpec, 3, 3) == "shard index 3 is outside 0..2 (indexes are 0-based)"


def test_shard_counts_from_1_to_1024() -> None:
    assert assign("x", 1024) == assign("x", 1024, 1)
    assert _message(assign, "x", 0) == "expected 1 to 1024 shards, got 0"
    assert _message(assign, "x", 1025) == "expected 1 to 1024 shards, got 1025"
    assert parse_spec("1023/1024") == (1023, 1024)
    assert _message(parse_spec, "0/1025") == "expected 1 to 1024 shards, got 1025 in '0/1025'"


def test_an_index_past_the_count_gets_no_hint_and_one_equal_to_it_does() -> None:
    assert _message(parse_spec, "5/3") == "shard index 5 is outside 0..2 in '5/3'"
    assert _message(parse_spec, "3/3") == (
        "shard index 3 is outside 0..2 in '3/3' (indexes are 0-based: did you mean 2/3?)"
    )


def test_a_hostname_without_an_ordinal_says_what_to_do() -> None:
    assert ordinal("monitor-7.monitor.default.svc") == 7
    assert _message(ordinal, "monitor") == (
        "cannot take the shard from hostname 'monitor': expected NAME-ORDINAL such as "
        "monitor-2 (a StatefulSet pod), or pass --shard INDEX/COUNT"
    )


def test_replicas_without_shards_is_refused_in_words() -> None:
    with pytest.raises(ShardSpecError) as caught:
        resolve(shard=None, shards=None, replicas=2, hostname="monitor-0")
    assert str(caught.value) == "--replicas needs --shard INDEX/COUNT or --shards COUNT"


def test_resolve_keeps_what_to_shard_by() -> None:
    spec = resolve(shard="0/2", shards=None, replicas=None, hostname="h", by="service")
    assert spec == ShardSpec(0, 2, 1, "h", "service")


def test_config_digest_is_a_fixed_value() -> None:
    """Replicas of different versions compare it: sha256 of the sorted ids joined by newlines,
    first 16 hex digits."""
    assert config_digest(["b/health/health", "a/health/health"]) == "0fe988e70867ba30"
