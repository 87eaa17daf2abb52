"""Static sharding with replication, the way Prometheus scales: each replica runs the checks it
owns, and every check is owned by `replicas` of the `shards` replicas. Pure: no I/O, no clock.

Ownership is rendezvous (highest random weight) hashing: a check's owners are the `R` shards
with the highest `blake2b(key, shard)` weight. Every replica computes the same answer from the
same config with no coordination; going from N to N+1 shards moves only the ~1/(N+1) of the
checks the new shard now wins, and removing a shard moves only the checks it held.

Shard indexes are 0-based, like StatefulSet ordinals: `--shard 0/3` is the first of three,
and the pod `monitor-2` holds shard 2.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from monitor.model import ShardInfo

ShardBy = Literal["check", "service"]

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_ORDINAL = re.compile(r"^[A-Za-z0-9.-]*?-(\d+)$")
MAX_SHARDS = 1024


class ShardSpecError(ValueError):
    """A shard spec that cannot be used: the CLI turns it into a usage error (exit 2)."""


def weight(key: str, shard: int) -> int:
    """The rendezvous weight of `key` on `shard`: stable across processes and restarts
    (blake2b, not Python's per-process salted `hash()`)."""
    digest = hashlib.blake2b(
        key.encode(), digest_size=8, salt=shard.to_bytes(8, "big"), person=b"monitor-shard"
    ).digest()
    return int.from_bytes(digest, "big")


def assign(key: str, shards: int, replicas: int = 1) -> tuple[int, ...]:
    """The `replicas` shards that own `key`, highest weight first."""
    _validate(shards, replicas)
    ranked = sorted(range(shards), key=lambda shard: weight(key, shard), reverse=True)
    return tuple(ranked[:replicas])


def owns(key: str, shard_index: int, shards: int, replicas: int = 1) -> bool:
    """Whether shard `shard_index` is one of the owners of `key`."""
    if not 0 <= shard_index < shards:
        raise ShardSpecError(f"shard index {shard_index} is outside 0..{shards - 1}")
    return shard_index in assign(key, shards, replicas)


def _validate(shards: int, replicas: int) -> None:
    if not 1 <= shards <= MAX_SHARDS:
        raise ShardSpecError(f"expected 1 to {MAX_SHARDS} shards, got {shards}")
    if not 1 <= replicas <= shards:
        raise ShardSpecError(
            f"expected 1 to {shards} replicas (no more than the shards), got {replicas}"
        )


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """Which shard this replica is: `index` of `count`, each check on `replicas` of them."""

    index: int
    count: int
    replicas: int = 1
    name: str = ""
    by: ShardBy = "check"
    """Hash the check's id (spread evenly) or its service (a service's checks stay together,
    so every owner sees the whole service: see docs/ha.md)."""

    def __post_init__(self) -> None:
        _validate(self.count, self.replicas)
        if not 0 <= self.index < self.count:
            raise ShardSpecError(
                f"shard index {self.index} is outside 0..{self.count - 1} (indexes are 0-based)"
            )

    def key(self, check_id: str, service: str) -> str:
        return service if self.by == "service" else check_id

    def owns(self, check_id: str, service: str) -> bool:
        return self.index in assign(self.key(check_id, service), self.count, self.replicas)


def parse_spec(text: str) -> tuple[int, int]:
    """`I/N` (0-based): `0/3`, `2/3`. Anything else is a ShardSpecError saying what is expected."""
    match = _SPEC.match(text)
    if match is None:
        raise ShardSpecError(f"expected a shard as INDEX/COUNT such as 0/3 (0-based), got {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or count > MAX_SHARDS:
        raise ShardSpecError(f"expected 1 to {MAX_SHARDS} shards, got {count} in {text!r}")
    if index >= count:
        hint = ""
        if index == count:
            hint = f" (indexes are 0-based: did you mean {index - 1}/{count}?)"
        raise ShardSpecError(f"shard index {index} is outside 0..{count - 1} in {text!r}{hint}")
    return index, count


def ordinal(hostname: str) -> int:
    """The StatefulSet ordinal at the end of a pod's hostname: `monitor-2` -> 2."""
    match = _ORDINAL.match(hostname.split(".", 1)[0])
    if match is None:
        raise ShardSpecError(
            f"cannot take the shard from hostname {hostname!r}: expected NAME-ORDINAL such as "
            "monitor-2 (a StatefulSet pod), or pass --shard INDEX/COUNT"
        )
    return int(match.group(1))


def resolve(
    *,
    shard: str | None,
    shards: int | None,
    replicas: int | None,
    hostname: str,
    name: str | None = None,
    by: ShardBy = "check",
) -> ShardSpec | None:
    """The shard from the command line or environment: `--shard I/N`, else `--shards N` with
    the index from the hostname ordinal, else None (one replica runs everything)."""
    if shard is not None and shard.strip():
        index, count = parse_spec(shard)
        if shards is not None and shards != count:
            raise ShardSpecError(f"--shard {shard} says {count} shards but --shards says {shards}")
    elif shards is not None:
        index, count = ordinal(hostname), shards
        if index >= count:
            raise ShardSpecError(
                f"hostname {hostname!r} has ordinal {index}, outside 0..{count - 1} "
                f"for {count} shards: scale --shards with the StatefulSet's replicas"
            )
    else:
        if replicas not in (None, 1):
            raise ShardSpecError("--replicas needs --shard INDEX/COUNT or --shards COUNT")
        return None
    return ShardSpec(index, count, 1 if replicas is None else replicas, name or hostname, by)


def spread(keys: Iterable[str], shards: int, replicas: int = 1) -> list[int]:
    """How many keys each shard owns (for tests, benchmarks and capacity planning)."""
    counts = [0] * shards
    for key in keys:
        for shard in assign(key, shards, replicas):
            counts[shard] += 1
    return counts


def config_digest(check_ids: Iterable[str]) -> str:
    """16 hex digits over the sorted check ids: replicas reporting different digests were
    started from different configs, and their shards do not add up."""
    digest = hashlib.sha256("\n".join(sorted(check_ids)).encode()).hexdigest()
    return digest[:16]


def other_owners(spec: ShardSpec, check_id: str, service: str) -> tuple[int, ...]:
    """The shards besides this one that own a check (where a push ping must also go)."""
    owners = assign(spec.key(check_id, service), spec.count, spec.replicas)
    return tuple(i for i in owners if i != spec.index)


def shard_info(spec: ShardSpec, owned: int, all_ids: list[str]) -> ShardInfo:
    """The `shard` object of a replica's `/status`."""
    return ShardInfo(
        index=spec.index,
        count=spec.count,
        replicas=spec.replicas,
        replica=spec.name,
        by=spec.by,
        checks_owned=owned,
        checks_total=len(all_ids),
        config_digest=config_digest(all_ids),
    )
