"""The status page at fleet scale (issue 18): for N services, the size of `/` and the server
time it took (its own `Server-Timing: page;dur=`, and the client's round trip), a search
through `/page/services`, and a poll of `/page/changes` with and without news.

The daemon state is built the cheapest honest way: a `Monitor` over a config of N services
(a health check each, one in ten with an rpc smoke path, teams and labels like
bench/outputs_scale.py), validated
as parse_config does, fed one verdict per check directly (no probing: the page's cost does
not depend on how the verdicts came), with an in-memory store flushed, served by the daemon's
own app on loopback. One in fifty services is unhealthy, one in a hundred degraded.

    .venv/bin/python bench/page_scale.py 1000 10000 100000
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from multidict import CIMultiDict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.config import MonitorConfig
from monitor.http.app import serve
from monitor.model import Reason, Status, Verdict
from monitor.runtime.daemon import Monitor
from monitor.runtime.store import Store

OK = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="reports healthy (JSON)")
DOWN = Verdict(status=Status.UNHEALTHY, reason=Reason.SERVER_ERROR, detail="HTTP 500")
SLOW = Verdict(status=Status.DEGRADED, reason=Reason.REPORTED_DEGRADED, detail="db slow")


def config_data(n: int) -> dict[str, object]:
    services = []
    for i in range(n):
        service: dict[str, object] = {
            "name": f"s{i:06d}",
            "url": f"http://127.0.0.1:9/s{i:06d}",
            "team": f"team-{i % 20}",
            "labels": {"tier": "edge" if i % 3 == 0 else "core"},
        }
        if i % 10 == 0:
            service["rpc"] = [{"name": "db", "path": "/smoke/db", "target": "5ms"}]
        services.append(service)
    return {"defaults": {"interval": "60s", "timeout": "5s"}, "services": services}


def verdict_for(service: str) -> Verdict:
    i = int(service[1:])
    return DOWN if i % 50 == 7 else SLOW if i % 100 == 3 else OK


async def feed(monitor: Monitor, now: datetime) -> None:
    for check in monitor.checks():
        monitor.apply_verdict(check, verdict_for(check.service), now, 0.004)
    await monitor.flush()


async def get(
    session: aiohttp.ClientSession, url: str, **headers: str
) -> tuple[float, int, CIMultiDict[str], bytes]:
    started = time.perf_counter()
    async with session.get(url, headers=headers) as response:
        body = await response.read()
        return time.perf_counter() - started, response.status, CIMultiDict(response.headers), body


def server_ms(headers: CIMultiDict[str]) -> float:
    return float(headers["Server-Timing"].split("dur=", 1)[1])


async def measure(n: int) -> dict[str, float]:
    out: dict[str, float] = {"services": n}
    started = time.perf_counter()
    # validated as parse_config does, without the YAML reading (its cost is startup's, 42 s at
    # 100,000 services before issue 18's startup work, and not the page's)
    config = MonitorConfig.model_validate(config_data(n), context={"env": {}})
    store = Store(":memory:")
    monitor = Monitor(config, store=store)
    await monitor.start(schedule=False)
    now = datetime.now(UTC)
    await feed(monitor, now)
    out["setup_s"] = time.perf_counter() - started
    runner, port = await serve(monitor, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{port}"
    identity = {"Accept-Encoding": "identity"}
    try:
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=True) as session:
            await get(session, base + "/", **identity)  # warm: templates compiled
            runs = []
            for _ in range(5):
                took, code, headers, body = await get(session, base + "/", **identity)
                assert code == 200
                runs.append((server_ms(headers), took, len(body)))
            runs.sort()
            out["page_server_ms_median"] = runs[2][0]
            out["page_server_ms_max"] = runs[-1][0]
            out["page_roundtrip_ms_median"] = sorted(r[1] for r in runs)[2] * 1000
            out["page_kb"] = runs[0][2] / 1000
            _, _, headers, gz = await get(session, base + "/", **{"Accept-Encoding": "gzip"})
            out["page_gzip_kb"] = int(headers.get("Content-Length", len(gz))) / 1000
            seq = headers["X-Page-Seq"]
            took, code, _, body = await get(session, base + f"/page/services?search=s{n // 2:06d}")
            assert code == 200 and json.loads(body)["total"] >= 1
            out["search_ms"] = took * 1000
            took, code, headers, body = await get(session, base + f"/page/changes?since={seq}")
            assert code == 200, code
            out["changes_quiet_ms"], out["changes_quiet_bytes"] = took * 1000, len(body)
            took, code, _, _ = await get(
                session, base + f"/page/changes?since={seq}", **{"If-None-Match": headers["ETag"]}
            )
            out["changes_304_ms"] = took * 1000
            assert code == 304, code
            down = next(c for c in monitor.checks() if c.service == f"s{n - 2:06d}")
            monitor.apply_verdict(down, DOWN, datetime.now(UTC), 0.004)
            await asyncio.sleep(1.05)  # the journal snapshots at most once a second (by design)
            took, code, _, body = await get(session, base + f"/page/changes?since={seq}")
            answer = json.loads(body)
            cards = answer.get("cards", [])
            shown = any(c["name"] == down.service and c["html"] for c in cards)
            assert shown or f'data-service="{down.service}"' in answer.get("main", ""), body[:300]
            out["changes_one_down_ms"], out["changes_one_down_bytes"] = took * 1000, len(body)
    finally:
        await runner.cleanup()
        await monitor.stop()
        store.close()
    return out


def main(sizes: list[int]) -> None:
    print(f"loadavg before: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    for n in sizes:
        row = asyncio.run(measure(n))
        print(json.dumps({k: round(v, 2) for k, v in row.items()}), flush=True)
    print(f"loadavg after: {Path('/proc/loadavg').read_text().strip()}")
    print(f"cpus: {os.cpu_count()}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
