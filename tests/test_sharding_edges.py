"""Shard specs at their edges, with the exact words an operator reads: the last index, the
largest count, a hostname without an ordinal, and the digest replicas compare across versions."""

from __future__ import annotations

import pytest

from monitor.fleet.sharding import (
    ShardSpec,
    ShardSpecError,
    assign,
    config_digest,
    ordinal,
    owns,
    parse_spec,
    resolve,
)


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
