"""Shard ownership against a committed table, not against `assign()` itself: a changed hash,
salt or tie-break would make old and new replicas disagree on owners in a rolling upgrade.
If a change of ownership is meant, regenerate the table and write a migration note."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.fleet.sharding import ShardSpec, assign

TABLE = Path(__file__).parent / "fixtures" / "sharding" / "owners.tsv"


def _rows() -> list[tuple[str, int, int, tuple[int, ...]]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        check_id, shards, replicas, owners = line.split("\t")
        rows.append((check_id, int(shards), int(replicas), tuple(map(int, owners.split(",")))))
    return rows


ROWS = _rows()


def test_the_table_covers_enough_cases() -> None:
    assert len(ROWS) == 80
    assert {(n, r) for _, n, r, _ in ROWS} == {
        (1, 1),
        (2, 1),
        (3, 1),
        (3, 2),
        (3, 3),
        (7, 2),
        (16, 3),
        (1024, 1),
    }


@pytest.mark.parametrize(("check_id", "shards", "replicas", "owners"), ROWS)
def test_owners_match_the_committed_table(
    check_id: str, shards: int, replicas: int, owners: tuple[int, ...]
) -> None:
    assert assign(check_id, shards, replicas) == owners


@pytest.mark.parametrize(
    ("check_id", "shards", "replicas", "owners"), [row for row in ROWS if row[1] <= 16]
)
def test_each_replica_runs_exactly_its_rows(
    check_id: str, shards: int, replicas: int, owners: tuple[int, ...]
) -> None:
    running = [
        index
        for index in range(shards)
        if ShardSpec(index, shards, replicas).owns(check_id, service="unused")
    ]
    assert running == sorted(owners)
