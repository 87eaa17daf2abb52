"""Where a big `/status` answer's time goes (issue 18), for the 2,000 unhealthy services of N
(`?status=unhealthy,degraded` without a page size on bench/outputs_scale.py's fleet) and for
one `limit=100` page:

- `status`: `Monitor.status(names)`, the views (the latency view, then the models), and `json`:
  each service's `model_dump_json`: what building a service's view costs (the miss path);
- `cold`: `StatusViews.answer` with nothing kept (every view built and serialised);
- `warm`: the same answer again, every view kept;
- `sixth`: after one service in six got a new result (a poller every 10 s, checks every 60 s);
  a poller every interval or less often finds them all new: `cold`;
- `chunks`: `fleet_json_chunks`, the bytes written.

In-process like `outputs_scale.filtered_in_process`: tests/big_fleet.py's fleet fed one
verdict per check, plus HISTORIES round trips per check (a minute apart), as the daemon's
have after their first round and after an hour at a 60 s interval. One core, nothing
scheduled; CPU time (`time.process_time`), median of ROUNDS; the collector set as `monitor
run` sets it.

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
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.http.status_api import fleet_json_chunks
from monitor.http.status_views import StatusViews
from monitor.model import FleetStatus, ServiceStatus
from monitor.runtime.daemon import Monitor
from monitor.runtime.gc_policy import tune_collector
from monitor.slo import LatencySource
from tests.big_fleet import DOWN, QUIET, big_config, feed, verdict_for

ROUNDS = 7
HISTORIES = (1, 60)
"""Round trips a check has seen, a minute apart: after the first round (only the status
window's quantiles are computed), and after an hour (the 1h window judges: two windows')."""


def cpu_ms(
    call: Callable[[], Any], before: Callable[[], object] = lambda: None
) -> tuple[float, Any]:
    """Median CPU milliseconds of ROUNDS calls (each after `before`, not timed), and the last
    call's result."""
    times, result = [], None
    for _ in range(ROUNDS):
        before()
        started = time.process_time()
        result = call()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times), result


def dump_each(services: list[ServiceStatus]) -> list[str]:
    return [s.model_dump_json() for s in services]


def list_chunks(shell: FleetStatus, parts: list[bytes]) -> list[bytes]:
    return list(fleet_json_chunks(shell, parts))


def new_results(monitor: Monitor, names: list[str]) -> None:
    """One more result for every check of `names` (the same verdict, a new state)."""
    now = datetime.now(UTC)
    for name in names:
        for record in monitor.by_service[name]:
            monitor.apply_verdict(record.check, verdict_for(name), now, 0.004)


async def measure(n: int, history: int) -> None:
    monitor = Monitor(big_config(n), logger=QUIET)
    await monitor.start(schedule=False)
    try:
        await feed(monitor, datetime.now(UTC))
        latency = monitor.config.latency
        now = time.monotonic()
        for record in monitor.tracked.values():
            for k in range(history):  # a round trip a minute, the last one now
                record.record_latency(
                    record.check.target, 0.003 + k / 1e5, LatencySource.ROUND_TRIP,
                    now - 60.0 * (history - 1 - k), latency.windows, latency.min_samples,
                )  # fmt: skip
        tune_collector()  # as `monitor run` does once started: what exists now is frozen
        bad = [s.name for s in monitor.config.services if verdict_for(s.name) is DOWN]
        for label, names in (("unhealthy_all", bad), ("page100", bad[:100])):
            status_ms, fleet = cpu_ms(partial(monitor.status, names))
            json_ms, _ = cpu_ms(partial(dump_each, fleet.services))
            cold_ms, _ = cpu_ms(lambda: StatusViews().answer(monitor, names))  # noqa: B023
            views = StatusViews()
            warm_ms, (shell, parts) = cpu_ms(partial(views.answer, monitor, names))
            sixth = partial(new_results, monitor, names[::6])
            sixth_ms, _ = cpu_ms(partial(views.answer, monitor, names), before=sixth)
            chunks_ms, chunks = cpu_ms(partial(list_chunks, shell, parts))
            size = sum(len(c) for c in chunks)
            print(
                f"{n} services, {history} round trips a check, {label}: {len(names)} services, "
                f"{size / 1e6:.2f} MB: "
                f"status {status_ms:.1f} ms + json {json_ms:.1f} ms; answer cold {cold_ms:.1f}, "
                f"warm {warm_ms:.1f}, a sixth new {sixth_ms:.1f} ms; chunks {chunks_ms:.1f} ms; "
                f"a service cold {(cold_ms + chunks_ms) * 1000 / len(names):.1f} us, "
                f"warm {(warm_ms + chunks_ms) * 1000 / len(names):.1f} us",
                flush=True,
            )
    finally:
        await monitor.stop(grace=0)


if __name__ == "__main__":
    print(f"load average before: {os.getloadavg()}", flush=True)
    for size in [int(a) for a in sys.argv[1:]] or [100_000]:
        for history in HISTORIES:
            asyncio.run(measure(size, history))
    print(f"load average after: {os.getloadavg()}", flush=True)
