"""The status page at fleet scale (issue 18): for N services, the size of `/` and the server
time it took (its own `Server-Timing: page;dur=`, and the client's round trip), a search
through `/page/services`, and a poll of `/page/changes` with and without news.

The daemon state is tests/big_fleet.py's (a `Monitor` over N services fed one verdict per
check directly, one in fifty down), with an in-memory store flushed, served by the daemon's own
app on loopback.

    .venv/bin/python bench/page_scale.py 1000 10000 100000
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from multidict import CIMultiDict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.http.app import serve
from monitor.runtime.daemon import Monitor
from monitor.runtime.gc_policy import tune_collector
from monitor.runtime.store import Store
from tests.big_fleet import DOWN, QUIET, big_config, feed, set_service

RUNS = 9


async def get(
    session: aiohttp.ClientSession, url: str, **headers: str
) -> tuple[float, int, CIMultiDict[str], bytes]:
    started = time.perf_counter()
    async with session.get(url, headers=headers) as response:
        body = await response.read()
        return time.perf_counter() - started, response.status, CIMultiDict(response.headers), body


def server_ms(headers: CIMultiDict[str]) -> tuple[float, float]:
    """The page's own `Server-Timing`: wall time and the loop thread's CPU time."""
    timing = dict(
        (part.split(";dur=")[0].strip(), float(part.split(";dur=")[1]))
        for part in headers["Server-Timing"].split(",")
    )
    return timing["page"], timing["cpu"]


async def measure(n: int) -> dict[str, float]:
    out: dict[str, float] = {"services": n}
    started = time.perf_counter()
    config = big_config(n)
    store = Store(":memory:")
    monitor = Monitor(config, store=store, logger=QUIET)
    await monitor.start(schedule=False)
    now = datetime.now(UTC)
    await feed(monitor, now)
    tune_collector()  # as `monitor run` does once started (and again after the first round)
    out["setup_s"] = time.perf_counter() - started
    runner, port = await serve(monitor, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{port}"
    identity = {"Accept-Encoding": "identity"}
    try:
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=True) as session:
            await get(session, base + "/", **identity)  # warm: templates compiled
            walls, cpus, trips = [], [], []
            for _ in range(RUNS):
                monitor.runs += 1  # as on a live daemon: a check ran, the page looks again
                took, code, headers, body = await get(session, base + "/", **identity)
                assert code == 200
                wall, cpu = server_ms(headers)
                walls.append(wall)
                cpus.append(cpu)
                trips.append(took * 1000)
            out["page_server_ms_median"] = statistics.median(walls)
            out["page_server_ms_max"] = max(walls)
            out["page_cpu_ms_median"] = statistics.median(cpus)
            out["page_roundtrip_ms_median"] = statistics.median(trips)
            out["page_kb"] = len(body) / 1000
            _, _, headers, gz = await get(session, base + "/", **{"Accept-Encoding": "gzip"})
            out["page_gzip_kb"] = int(headers.get("Content-Length", len(gz))) / 1000
            seq = headers["X-Page-Seq"]
            searches = []
            for i in range(RUNS):
                query = f"/page/services?search=s{n // 2 + i:06d}"
                took, code, _, body = await get(session, base + query)
                assert code == 200 and json.loads(body)["total"] == 1
                searches.append(took * 1000)
            out["search_ms_median"] = statistics.median(searches)
            took, code, headers, body = await get(session, base + f"/page/changes?since={seq}")
            assert code == 200, code
            out["changes_quiet_ms"], out["changes_quiet_bytes"] = took * 1000, len(body)
            took, code, _, _ = await get(
                session, base + f"/page/changes?since={seq}", **{"If-None-Match": headers["ETag"]}
            )
            out["changes_304_ms"] = took * 1000
            assert code == 304, code
            down = next(c for c in monitor.checks() if c.service == f"s{n - 2:06d}")
            set_service(monitor, down.service, DOWN, datetime.now(UTC))
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
