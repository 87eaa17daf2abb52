"""`GET /status` for machines at scale (issue 18): filters, pages with a cursor, gzip, ETag and
304, served for real on loopback against the seed fleet."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from monitor.config import parse_config
from monitor.fleet.sharding import ShardSpec
from monitor.http.status_query import BadStatusQuery, encode_cursor, parse_status_query
from monitor.model import FleetStatus, Reason, Status, Verdict
from monitor.runtime.daemon import Monitor
from monitor.runtime.settings import MonitorSettings
from monitor.simulator import SimulatedFleet, fleet_config
from tests.serving import serving


@dataclass
class Daemon:
    monitor: Monitor
    url: str
    session: aiohttp.ClientSession

    async def get(self, query: str = "", **headers: str) -> tuple[int, Any, bytes]:
        headers.setdefault("Accept-Encoding", "identity")
        async with self.session.get(
            self.url + "/status" + query, headers=headers, auto_decompress=False
        ) as response:
            return response.status, response.headers, await response.read()

    async def json(self, query: str = "") -> dict[str, Any]:
        code, _, body = await self.get(query)
        assert code == 200, body
        data: dict[str, Any] = json.loads(body)
        FleetStatus.model_validate(data)  # the contract holds for every answer
        return data


@pytest.fixture
async def daemon(fleet: SimulatedFleet) -> AsyncIterator[Daemon]:
    data: Any = fleet_config(fleet)
    for service in data["services"]:
        if service["name"] in ("do-gateway", "auth"):
            service.update(team="platform", labels={"tier": "edge"})
        elif service["name"] == "do-db":
            service.update(team="data", labels={"tier": "core"})
    monitor = Monitor(parse_config(json.dumps(data)))
    await monitor.start(schedule=False)
    await monitor.run_all_once()
    async with serving(monitor) as url, aiohttp.ClientSession() as session:
        yield Daemon(monitor, url, session)


def names(data: dict[str, Any]) -> list[str]:
    return [s["name"] for s in data["services"]]


async def test_status_filter_keeps_config_order_and_counts_the_answer(daemon: Daemon) -> None:
    everything = await daemon.json()
    bad = [s["name"] for s in everything["services"] if s["status"] in ("degraded", "unhealthy")]
    assert "email" in bad and "do-gateway" not in bad
    data = await daemon.json("?status=degraded,unhealthy")
    assert names(data) == bad
    assert data["page"] == {"total": len(bad), "limit": None, "next_cursor": None}
    assert sum(data["counts"].values()) == len(bad)
    assert names(await daemon.json("?status=degraded&status=unhealthy")) == bad


async def test_service_team_and_label_filters(daemon: Daemon) -> None:
    assert names(await daemon.json("?service=queue&service=auth")) == ["auth", "queue"]
    assert names(await daemon.json("?service=queue&service=no-such")) == ["queue"]
    assert names(await daemon.json("?team=platform")) == ["do-gateway", "auth"]
    assert names(await daemon.json("?team=platform&team=data")) == ["do-gateway", "do-db", "auth"]
    assert names(await daemon.json("?label=tier=core")) == ["do-db"]
    assert names(await daemon.json("?label=tier=edge&service=auth")) == ["auth"]
    assert names(await daemon.json("?label=tier=nowhere")) == []
    assert names(await daemon.json("?search=DO-")) == [
        "do-gateway",
        "do-db",
        "do-schedule",
        "do-mcp",
    ]
    assert names(await daemon.json("?search=do-&team=platform")) == ["do-gateway"]
    assert names(await daemon.json("?search=%20queue%20")) == ["queue"]  # trimmed


async def test_filters_follow_a_reload(daemon: Daemon) -> None:
    """The index is per config: after a reload a filter answers from the new one."""
    assert names(await daemon.json("?team=platform")) == ["do-gateway", "auth"]
    data = daemon.monitor.config.model_dump(mode="json", exclude_unset=True)
    for service in data["services"]:
        if service["name"] == "queue":
            service["team"] = "platform"
        elif service["name"] == "auth":
            service["team"] = "security"
    daemon.monitor.apply_config(parse_config(json.dumps(data)))
    assert names(await daemon.json("?team=platform")) == ["do-gateway", "queue"]
    assert names(await daemon.json("?team=security&service=auth")) == ["auth"]


async def test_status_filters_follow_each_service_s_status_as_the_daemon_recomputes_it(
    daemon: Daemon,
) -> None:
    """The index keeps each status's members as the daemon changes a service's status (the
    hook in ServiceTracks): every filter agrees with the daemon's own status of every service,
    before and after one goes down and comes back, and so does the page's search."""
    monitor = daemon.monitor
    every = names(await daemon.json())

    async def agree() -> None:
        for status in Status:
            want = [n for n in every if monitor.service_status_now(n) is status]
            assert names(await daemon.json(f"?status={status.value}")) == want, status
            async with daemon.session.get(
                f"{daemon.url}/page/services?status={status.value}&limit=500"
            ) as response:
                found = await response.json()
            assert [s["name"] for s in found["services"]] == want and found["total"] == len(want)

    await agree()
    target = "do-gateway"
    assert monitor.service_status_now(target) is Status.HEALTHY
    down = Verdict(status=Status.UNHEALTHY, reason=Reason.SERVER_ERROR, detail="HTTP 500")
    for _ in range(10):  # bounded: a few failures confirm it
        for check in [c for c in monitor.checks() if c.service == target]:
            monitor.apply_verdict(check, down, monitor.clock())
        if monitor.service_status_now(target) is Status.UNHEALTHY:
            break
    assert target in names(await daemon.json("?status=unhealthy"))
    await agree()
    await monitor.run_all_once()  # the simulator answers healthy again
    assert target not in names(await daemon.json("?status=unhealthy"))
    await agree()


async def test_a_sharded_replica_filters_and_counts_only_the_services_it_shows() -> None:
    """A replica's /status shows the services it checks; a filter and its page count the same
    ones (they counted every configured service: a page of 7 could hold fewer than 7)."""
    config = parse_config(
        "services:\n"
        + "\n".join(f"  - {{name: t{i:02d}, url: 'http://127.0.0.1:9'}}" for i in range(30))
    )
    monitor = Monitor(config, MonitorSettings(shard=ShardSpec(0, 3, 1, by="service")))
    await monitor.start(schedule=False)
    async with serving(monitor) as url, aiohttp.ClientSession() as session:
        replica = Daemon(monitor, url, session)
        shown = names(await replica.json())
        assert 0 < len(shown) < 30
        data = await replica.json("?status=unknown")
        assert names(data) == shown and data["page"]["total"] == len(shown)
        seen: list[str] = []
        query = "?status=unknown&limit=7"
        for _ in range(30):  # bounded: a page holds 7 but the last
            data = await replica.json(query)
            assert data["page"]["total"] == len(shown)
            seen += names(data)
            if data["page"]["next_cursor"] is None:
                break
            assert len(data["services"]) == 7
            query = f"?status=unknown&limit=7&cursor={data['page']['next_cursor']}"
        assert seen == shown


async def test_pages_walk_the_whole_list_once(daemon: Daemon) -> None:
    every = names(await daemon.json())
    assert len(every) == 10
    seen: list[str] = []
    query = "?limit=3"
    for _ in range(10):  # bounded: 4 pages expected
        data = await daemon.json(query)
        assert data["page"]["total"] == 10 and len(data["services"]) <= 3
        seen += names(data)
        if data["page"]["next_cursor"] is None:
            break
        query = f"?limit=3&cursor={data['page']['next_cursor']}"
    assert seen == every


async def test_limit_exactly_the_count_has_no_next_page(daemon: Daemon) -> None:
    data = await daemon.json("?limit=10")
    assert len(data["services"]) == 10 and data["page"]["next_cursor"] is None
    data = await daemon.json("?limit=9")
    assert data["page"]["next_cursor"] == encode_cursor(names(data)[-1])


async def test_a_cursor_at_the_end_gives_an_empty_last_page(daemon: Daemon) -> None:
    last = names(await daemon.json())[-1]
    data = await daemon.json(f"?limit=5&cursor={encode_cursor(last)}")
    assert data["services"] == [] and data["page"] == {
        "total": 10,
        "limit": 5,
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?status=down", "unknown status 'down'; expected one or more of healthy"),
        ("?status=", "status: empty value"),
        ("?label=tier", "label 'tier': expected key=value"),
        ("?limit=0", "limit: expected one whole number from 1 to 10000"),
        ("?limit=10001", "limit: expected one whole number from 1 to 10000"),
        ("?limit=-1", "limit: expected one whole number"),
        ("?cursor=%25%25", "cursor: expected the next_cursor of a previous answer"),
        (f"?cursor={encode_cursor('gone-away')}", "cursor: its service is no longer configured"),
        ("?colour=red", "unknown parameter 'colour'; expected status, service, label"),
        ("?service=a%20b", "service 'a b' is not a service name"),
        ("?search=a&search=b", "search: expected one piece of a name, at most 100 long"),
        ("?search=" + "x" * 101, "search: expected one piece of a name"),
    ],
)
async def test_a_bad_filter_is_400_with_a_clear_message(
    daemon: Daemon, query: str, message: str
) -> None:
    code, headers, body = await daemon.get(query)
    assert code == 400 and headers["Content-Type"].startswith("application/json")
    assert message in json.loads(body)["error"]


async def test_gzip_only_when_asked_and_the_same_document(daemon: Daemon) -> None:
    code, headers, zipped = await daemon.get("", **{"Accept-Encoding": "gzip"})
    assert code == 200 and headers["Content-Encoding"] == "gzip"
    code, headers, plain = await daemon.get("", **{"Accept-Encoding": "identity"})
    assert code == 200 and "Content-Encoding" not in headers
    a, b = json.loads(gzip.decompress(zipped)), json.loads(plain)
    assert {**a, "generated_at": None} == {**b, "generated_at": None}
    assert len(zipped) < len(plain) / 3


async def test_etag_gives_304_until_a_check_runs(daemon: Daemon) -> None:
    code, headers, _ = await daemon.get("?status=unhealthy")
    etag = headers["ETag"]
    assert code == 200 and etag.startswith('W/"')
    code, headers, body = await daemon.get("?status=unhealthy", **{"If-None-Match": etag})
    assert code == 304 and body == b"" and headers["ETag"] == etag
    strong = etag.removeprefix("W/")
    code, _, _ = await daemon.get("?status=unhealthy", **{"If-None-Match": f'"x", {strong}'})
    assert code == 304
    code, headers, _ = await daemon.get("", **{"If-None-Match": etag})
    assert code == 200 and headers["ETag"] != etag  # another question, another tag
    await daemon.monitor.run_all_once()
    code, headers, _ = await daemon.get("?status=unhealthy", **{"If-None-Match": etag})
    assert code == 200 and headers["ETag"] != etag


async def test_the_unfiltered_answer_is_streamed_in_chunks(daemon: Daemon) -> None:
    code, headers, body = await daemon.get()
    assert code == 200 and headers.get("Transfer-Encoding") == "chunked"
    assert headers["Content-Security-Policy"] == "default-src 'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "page" not in json.loads(body) or json.loads(body)["page"] is None


def test_parse_rejects_a_repeated_limit_and_reads_repeats_as_alternatives() -> None:
    with pytest.raises(BadStatusQuery, match="limit"):
        parse_status_query({"limit": ["1", "2"]})
    query = parse_status_query({"status": ["healthy", "degraded,unknown"], "team": ["a", "b"]})
    assert {s.value for s in query.statuses} == {"healthy", "degraded", "unknown"}
    assert query.teams == {"a", "b"} and query.filtered
