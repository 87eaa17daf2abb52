"""The whole `/status` document for known states, field by field, against committed JSON
(tests/fixtures/status/): a smoke check capped at degraded, `since` from the service track,
secrets out of URLs, a service not checked yet, and a sharded replica holding only a smoke
check. Reviewed by hand when written; a change to the contract shows up as a diff here."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.config import parse_config
from monitor.model import Component, LatencySummary, Reason, ShardInfo, Status, Verdict
from monitor.state import CheckState, ServiceTrack
from monitor.status import fleet_status

FIXTURES = Path(__file__).parent / "fixtures" / "status"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CONFIG = parse_config(
    """
services:
  - name: api
    url: http://user:pw@api.test
    team: core
    runbook: https://runbooks.test/api
    labels: {tier: edge}
    depends_on: [db]
    rpc:
      - {name: db, path: /smoke/db, target: 5ms}
  - name: db
    url: http://db.test
""",
    env={},
)


def _expected(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_the_fleet_document() -> None:
    states = {
        "api/health/health": CheckState(
            Verdict(
                status=Status.HEALTHY,
                reason=Reason.OK,
                detail="reports healthy (JSON)",
                http_status=200,
                version="1.2",
                evidence='{"status":"ok"}',
                components={"cache": Component(status=Status.HEALTHY)},
            ),
            T0 + timedelta(seconds=30),
            T0,
            2,
            0.0123456,
            None,
        ),
        "api/rpc/db": CheckState(
            Verdict(
                status=Status.UNHEALTHY,
                reason=Reason.SERVER_ERROR,
                detail="HTTP 500",
                http_status=500,
            ),
            T0 + timedelta(seconds=31),
            T0 + timedelta(seconds=31),
            1,
            0.5,
            Status.HEALTHY,
        ),
    }
    document = fleet_status(
        CONFIG,
        states,
        {"api": ServiceTrack(Status.DEGRADED, T0 - timedelta(minutes=5))},
        T0 + timedelta(minutes=1),
        latency={
            "api/health/health": LatencySummary(p50=10.0, p95=12.5, p99=13.0, window="1m", count=30)
        },
        sources={"api/rpc/db": "server_timing"},
        within={"api/rpc/db": False},
    )
    assert document.model_dump(mode="json") == _expected("fleet.json")


def test_a_sharded_replica_with_only_a_smoke_check() -> None:
    (rpc,) = [c for c in CONFIG.checks() if c.id == "api/rpc/db"]
    states = {
        "api/rpc/db": CheckState(
            Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="fine"), T0, T0, 3, 0.001
        )
    }
    shard = ShardInfo(
        index=1,
        count=2,
        replicas=1,
        replica="monitor-1",
        by="check",
        checks_owned=1,
        checks_total=3,
        config_digest="0123456789abcdef",
    )
    document = fleet_status(
        CONFIG,
        states,
        {"api": ServiceTrack(Status.HEALTHY, T0 - timedelta(hours=1))},
        T0,
        checks=[rpc],
        shard=shard,
    )
    assert document.model_dump(mode="json") == _expected("sharded.json")


def test_a_check_not_yet_run_still_shows_its_latency_window() -> None:
    """After a restart the latency windows are back before the first check has run."""
    window = LatencySummary(p50=1.0, p95=2.0, p99=3.0, window="5m", count=25)
    document = fleet_status(
        CONFIG,
        {},
        {},
        T0,
        latency={"db/health/health": window},
        sources={"db/health/health": "round_trip"},
        within={"db/health/health": True},
    )
    db = document.services[1].checks[0]
    assert (db.reason, db.latency_ms, db.latency_source, db.within_target) == (
        Reason.NOT_CHECKED,
        window,
        "round_trip",
        True,
    )
    assert document.counts[Status.UNKNOWN] == 2
