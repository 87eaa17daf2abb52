"""Three sharded replicas (R=2) on loopback, a scaled-up simulated fleet and a real Alertmanager:
every check probed by exactly its two owners; after a SIGKILL the survivors still cover every
check; a service that goes down is paged once through Alertmanager; the merged status covers
every check.

Each replica sends its own User-Agent (a `${VAR}` header in monitor.yaml), so the simulator
can tell which replica probed which path. Alertmanager is required: missing, the test fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
from aiohttp import web

from monitor.fleet.sharding import assign
from monitor.simulator import Behavior, Latency, SimService, SimulatedFleet
from tests.alerting_fixtures import serve_posts
from tests.polling import until_value
from tests.processes import port_from_file, stop
from tests.test_alertmanager import running_alertmanager

ENDPOINTS = 600
"""Enough for every owner pair to hold hundreds of checks (~200 each); three replicas and the
simulator share two cores with the rest of CI, and 3,000 endpoints (1,200 probes/s) missed the
40 s first round whenever the machine was busy. 600 every 3 s is the 400 probes/s that 1,000
every 5 s was, with each of the test's three waits for a round 2 s shorter. Throughput at
scale is bench/sharding.py's job."""
SHARDS, REPLICAS = 3, 2
INTERVAL = 3.0
OK = Behavior(body='{"status":"ok"}', latency=Latency(0.0005, 0.001))
DOWN = Behavior(status=503, body='{"status":"down"}')


def _path(i: int) -> str:
    return f"/t{i:04d}/health"


def _monitor_yaml(base: str) -> str:
    services = [
        {"name": f"t{i:04d}", "url": base, "health_path": _path(i)} for i in range(ENDPOINTS)
    ]
    config = {
        "defaults": {
            "interval": f"{INTERVAL:g}s",
            "timeout": "2s",
            "recheck_interval": "500ms",
            "headers": {"User-Agent": "${MONITOR_REPLICA_NAME:-unnamed}"},
        },
        "services": services,
    }
    return json.dumps(config)


def _alerts_yaml(am_url: str, victim: str) -> str:
    return json.dumps(
        {
            "receivers": [{"name": "am", "type": "alertmanager", "url": am_url, "hold": "1h"}],
            "rules": [
                {
                    "name": "TenantDown",
                    "kind": "status",
                    "match": {"services": [victim]},
                    "status": ["unhealthy"],
                    "for": 2,
                    "resolve_after": 2,
                    "severity": "critical",
                    "route": ["am"],
                    "repeat_interval": "30m",
                }
            ],
        }
    )


AM_CONFIG = """
route:
  receiver: hook
  group_by: [alertname, service]
  group_wait: 500ms
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {hook}
        send_resolved: false
"""


@asynccontextmanager
async def _webhook_collector() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    runner, url = await serve_posts(hook)
    try:
        yield url + "/", received
    finally:
        await runner.cleanup()


def _replica(workdir: Path, index: int, log: BinaryIO) -> subprocess.Popen[bytes]:
    """Replica `index` on a port of the OS's choice: it writes the port to data-N/port."""
    data = workdir / f"data-{index}"
    data.mkdir()
    env = {**os.environ, "MONITOR_REPLICA_NAME": f"r{index}"}
    env.pop("MONITOR_SHARD", None)
    return subprocess.Popen(
        [
            sys.executable, "-m", "monitor", "--log-level", "warning", "run",
            "--config", str(workdir / "monitor.yaml"),
            "--alerts", str(workdir / "alerts.yaml"),
            "--listen", "127.0.0.1:0", "--port-file", str(data / "port"),
            "--data-dir", str(data),
            "--shard", f"{index}/{SHARDS}", "--replicas", str(REPLICAS),
            "--loop", "asyncio",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )  # fmt: skip


def _owners(i: int) -> set[str]:
    return {f"r{j}" for j in assign(f"t{i:04d}/health/health", SHARDS, REPLICAS)}


def _who(hits: Any) -> dict[str, set[str]]:
    """path -> the replicas (User-Agents) that probed it."""
    result: dict[str, set[str]] = {}
    for path, agent in list(hits):
        result.setdefault(path, set()).add(agent)
    return result


async def _sent(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(f"{url}/metrics") as response:
        text = await response.text()
    for line in text.splitlines():
        if line.startswith("monitor_alert_notifications_total{") and 'outcome="sent"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_three_replicas_two_owners_failover_and_one_page(tmp_path: Path) -> None:
    routes = {_path(i): OK for i in range(ENDPOINTS)}
    # the victim: a tenant neither of whose owners is killed (r0 dies below)
    victim_index = next(i for i in range(ENDPOINTS) if "r0" not in _owners(i))
    victim = f"t{victim_index:04d}"
    replicas: list[subprocess.Popen[bytes]] = []
    async with (
        SimulatedFleet([SimService("bulk", routes)]) as fleet,
        _webhook_collector() as (hook, pages),
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
    ):
        with running_alertmanager(tmp_path, AM_CONFIG.format(hook=hook)) as am:
            (tmp_path / "monitor.yaml").write_text(_monitor_yaml(fleet.url("bulk")))
            (tmp_path / "alerts.yaml").write_text(_alerts_yaml(am, victim))
            logs = (tmp_path / "replicas.log").open("wb")
            try:
                replicas = [_replica(tmp_path, i, logs) for i in range(SHARDS)]
                urls = [
                    f"http://127.0.0.1:{await port_from_file(tmp_path / f'data-{i}' / 'port', r)}"
                    for i, r in enumerate(replicas)
                ]
                hits = fleet.hits("bulk")
                expected = {_path(i): _owners(i) for i in range(ENDPOINTS)}

                # 1. every path probed, each by exactly its two owners
                async def all_probed() -> bool:
                    who = _who(hits)
                    return all(len(who.get(p, ())) >= REPLICAS for p in expected)

                await until_value(
                    all_probed, 40, every=0.1, what="every endpoint probed by 2 replicas"
                )
                assert _who(hits) == expected

                owned = []
                for url in urls:
                    async with session.get(f"{url}/status") as response:
                        shard = (await response.json())["shard"]
                    owned.append(shard["checks_owned"])
                    assert shard["checks_total"] == ENDPOINTS
                    assert (shard["count"], shard["replicas"]) == (SHARDS, REPLICAS)
                assert sum(owned) == REPLICAS * ENDPOINTS

                # 2. SIGKILL r0: the survivors still probe every path
                replicas[0].send_signal(signal.SIGKILL)
                replicas[0].wait(timeout=10)
                before = dict(hits)

                async def survivors_cover() -> bool:
                    fresh = {p for (p, a), n in list(hits.items()) if n > before.get((p, a), 0)}
                    return fresh >= set(expected)

                await until_value(
                    survivors_cover,
                    3 * INTERVAL,
                    every=0.1,
                    what="every endpoint probed after the kill",
                )

                # 3. the victim goes down: both owners page, Alertmanager shows one alert and
                #    notifies once
                fleet.set_behavior("bulk", DOWN, _path(victim_index))
                owner_urls = [urls[int(r[1:])] for r in sorted(_owners(victim_index))]

                async def both_sent() -> bool:
                    counts = [await _sent(session, u) for u in owner_urls]
                    return all(c >= 1 for c in counts)

                await until_value(both_sent, 30, every=0.1, what="both owners sent the alert")

                async def am_alerts() -> list[dict[str, Any]]:
                    async with session.get(f"{am}/api/v2/alerts") as response:
                        alerts: list[dict[str, Any]] = await response.json()
                    return [a for a in alerts if a["labels"].get("service") == victim]

                alerts = await until_value(
                    am_alerts, 10, every=0.1, what="the alert in Alertmanager"
                )
                assert len(alerts) == 1
                assert "replica" not in alerts[0]["labels"]

                def notified() -> list[dict[str, Any]]:
                    return [
                        a
                        for page in pages
                        for a in page["alerts"]
                        if a["labels"].get("service") == victim
                    ]

                async def paged() -> bool:
                    return bool(notified())

                await until_value(paged, 10, every=0.1, what="Alertmanager notified")
                # a second notification would come after group_interval (2 s) if the second
                # replica's copy counted as a change: watch one group_interval and more. A
                # window, not an event: Alertmanager's flush that sends nothing is not visible
                loop = asyncio.get_running_loop()
                watch_until = loop.time() + 3.0
                while loop.time() < watch_until:
                    assert len(notified()) == 1, pages
                    await asyncio.sleep(0.1)  # sampling the window, bounded by it
                assert len(await am_alerts()) == 1

                # 4. the merged status of the three URLs (one dead) covers every check
                merged = await asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-m", "monitor", "status", "--json", "--timeout", "3s",
                     "--config", str(tmp_path / "monitor.yaml"),
                     *(arg for url in urls for arg in ("--from", url))],
                    capture_output=True, text=True, timeout=60,
                )  # fmt: skip
                view = json.loads(merged.stdout)
                assert merged.returncode == 0, (view["replicas"], view["problems"])
                assert [r["ok"] for r in view["replicas"]] == [False, True, True]
                assert view["uncovered_count"] == 0 and view["uncovered"] == []
                assert len(view["coverage"]) == ENDPOINTS
                assert view["missing_shards"] == [0]
                down = [s for s in view["fleet"]["services"] if s["status"] == "unhealthy"]
                assert [s["name"] for s in down] == [victim]
            finally:
                stop(*replicas)
                logs.close()
