"""Where a big `/status` answer's time goes (issue 18): `Monitor.status(names)` (the latency
view, then the views of the services and their checks) and `fleet_json_chunks` (the JSON),
timed apart, for the 2,000 unhealthy or degraded services of N (`?status=unhealthy,degraded`
without a page size) and for one `limit=100` page.

In-process like `outputs_scale.filtered_in_process`: tests/big_fleet.py's fleet fed one
verdict per check, plus LATENCY_SAMPLES round trips per check so every check has a latency
summary (as the daemon's do after its first round). One core, nothing scheduled; CPU time
(`time.process_time`), median of ROUNDS.

    .venv/bin/python bench/status_scale.py [100000]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.http.status_api import fleet_json_chunks
from monitor.runtime.daemon import Monitor
from monitor.runtime.latency_gauges import latency_view
from monitor.slo import LatencySource
from tests.big_fleet import QUIET, big_config, feed, verdict_for

ROUNDS = 7
LATENCY_SAMPLES = 3


def cpu_ms(call: Callable[[], Any]) -> tuple[float, Any]:
    """Median CPU milliseconds of ROUNDS calls, and the last call's result."""
    times, result = [], None
    for _ in range(ROUNDS):
        started = time.process_time()
        result = call()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times), result


async def measure(n: int) -> None:
    monitor = Monitor(big_config(n), logger=QUIET)
    await monitor.start(schedule=False)
    try:
        await feed(monitor, datetime.now(UTC))
        latency = monitor.config.latency
        now = time.monotonic()
        for record in monitor.tracked.values():
            for i in range(LATENCY_SAMPLES):
                record.record_latency(
                    record.check.target, 0.003 + i / 1000, LatencySource.ROUND_TRIP, now,
                    latency.windows, latency.min_samples,
                )  # fmt: skip
        bad = [s.name for s in monitor.config.services if verdict_for(s.name).status != "healthy"]
        for label, names in (("unhealthy_all", bad), ("page100", bad[:100])):
            records = {t.check.id: t for s in names for t in monitor.by_service[s]}
            view_ms, _ = cpu_ms(
                lambda r=records: latency_view(  # type: ignore[misc]
                    r, time.monotonic(), latency.status_window, latency.min_samples
                )
            )
            status_ms, fleet = cpu_ms(lambda s=names: monitor.status(s))  # type: ignore[misc]
            json_ms, chunks = cpu_ms(lambda f=fleet: list(fleet_json_chunks(f)))  # type: ignore[misc]
            size = sum(len(c) for c in chunks)
            total = status_ms + json_ms
            print(
                f"{n} services, {label}: {len(names)} services, {size / 1e6:.2f} MB: "
                f"status {status_ms:.1f} ms (latency_view {view_ms:.1f}), "
                f"json {json_ms:.1f} ms, total {total:.1f} ms = "
                f"{total * 1000 / len(names):.1f} us a service",
                flush=True,
            )
    finally:
        await monitor.stop(grace=0)


if __name__ == "__main__":
    print(f"load average before: {os.getloadavg()}", flush=True)
    for size in [int(a) for a in sys.argv[1:]] or [100_000]:
        asyncio.run(measure(size))
    print(f"load average after: {os.getloadavg()}", flush=True)
