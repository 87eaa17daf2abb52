"""Soak: 1,000 services, the hostile corpus among them, watched by one Monitor for a while.

The simulated services run in a child process, so that what is sampled (RSS, open file
descriptors, asyncio tasks, every 10 s) is the monitor's alone. After a warm-up the slope of
each series is fitted by least squares and must be flat; the checks run are compared with the
checks the schedule called for (within 1 %).

    python bench/soak.py                    # 10 minutes
    python bench/soak.py --duration 60      # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import ssl
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.config import Check, parse_config
from monitor.logs import configure_logging
from monitor.runtime.daemon import Monitor
from monitor.runtime.scheduler import SPREAD, first_offset
from monitor.simulator import Behavior, Latency, SimService, SimulatedFleet
from tests.hostile import HostileCorpus

# -- the services, in a child process -------------------------------------------------------


async def _serve(total: int, conn: Connection) -> None:
    ok = Behavior(body='{"status":"ok"}', latency=Latency(0.001, 0.003))
    async with HostileCorpus() as corpus:
        routes = {f"/s{i}/health": ok for i in range(total - len(corpus.cases))}
        async with SimulatedFleet([SimService("bulk", routes)]) as fleet:
            await _report_and_wait(fleet, corpus, conn)


async def _report_and_wait(fleet: SimulatedFleet, corpus: HostileCorpus, conn: Connection) -> None:
    conn.send(
        {
            "bulk": fleet.url("bulk"),
            "ca": corpus.ca.cert_pem,
            "hostile": [(c.name, c.base_url, c.path) for c in corpus.cases],
        }
    )
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop


def _child(total: int, conn: Connection) -> None:
    asyncio.run(_serve(total, conn))


# -- the monitor, here ----------------------------------------------------------------------


class CountingMonitor(Monitor):
    def __init__(self, *args: Any, ssl_context: ssl.SSLContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ssl_context = ssl_context
        self.end = float("inf")
        self.runs = 0  # a counter, not a list of start times: the harness must not grow

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=512, ssl=self.ssl_context)
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    async def run_check(self, check: Check) -> Any:
        if time.monotonic() < self.end:
            self.runs += 1
        return await super().run_check(check)


@dataclass
class Sample:
    t: float
    rss_bytes: int
    fds: int
    tasks: int


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def sample(t: float) -> Sample:
    return Sample(t, _rss(), len(os.listdir("/proc/self/fd")), len(asyncio.all_tasks()))


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def expected_runs(checks: list[Check], duration: float) -> int:
    """Runs the schedule calls for in [0, duration): first run at the check's stable offset."""
    total = 0
    for check in checks:
        offset = first_offset(check.id, check.interval, SPREAD)
        if offset < duration:
            total += int((duration - offset) // check.interval) + 1
    return total


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child_end = ctx.Pipe()
    child = ctx.Process(target=_child, args=(args.services, child_end))
    child.start()
    try:
        info = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
        services: list[dict[str, Any]] = [
            {"name": f"hostile-{name}", "url": base, "health_path": path}
            for name, base, path in info["hostile"]
        ]
        healthy = args.services - len(services)
        services += [
            {"name": f"svc-{i:04d}", "url": f"{info['bulk']}/s{i}"} for i in range(healthy)
        ]
        defaults = {"interval": f"{args.interval}s", "timeout": f"{args.timeout}s"}
        config = parse_config(json.dumps({"defaults": defaults, "services": services}))
        monitor = CountingMonitor(
            config,
            ssl_context=ssl.create_default_context(cadata=info["ca"]),
        )
        samples: list[Sample] = []
        started = time.monotonic()  # before start(): jobs are placed relative to it
        monitor.end = started + args.duration
        await monitor.start()
        samples.append(sample(0.0))
        while (now := time.monotonic() - started) < args.duration:
            await asyncio.sleep(min(args.sample_every, args.duration - now))
            samples.append(sample(time.monotonic() - started))
            last = samples[-1]
            print(
                f"t={last.t:6.1f}s rss={last.rss_bytes / 2**20:7.1f} MiB fds={last.fds:5d} "
                f"tasks={last.tasks:5d}",
                file=sys.stderr,
            )
        await monitor.stop(grace=args.timeout + 1)
        run = monitor.runs
        statuses = {s.name: s.status.value for s in monitor.status().services}
    finally:
        parent.send("stop")
        child.join(10)
        if child.is_alive():
            child.terminate()
    expected = expected_runs(list(monitor.checks()), args.duration)
    warm = [s for s in samples if s.t >= args.warmup]
    per_min = 60.0
    return {
        "services": args.services,
        "hostile": len(info["hostile"]),
        "interval_s": args.interval,
        "timeout_s": args.timeout,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "samples": len(samples),
        "rss_mib": [round(s.rss_bytes / 2**20, 1) for s in samples],
        "fds": [s.fds for s in samples],
        "tasks": [s.tasks for s in samples],
        "slope_rss_mib_per_min": round(
            slope([(s.t, s.rss_bytes / 2**20) for s in warm]) * per_min, 3
        ),
        "slope_fds_per_min": round(slope([(s.t, s.fds) for s in warm]) * per_min, 3),
        "slope_tasks_per_min": round(slope([(s.t, s.tasks) for s in warm]) * per_min, 3),
        "checks_run": run,
        "checks_expected": expected,
        "checks_ratio": round(run / expected, 4) if expected else None,
        "healthy_services_healthy": sum(
            1 for name, st in statuses.items() if name.startswith("svc-") and st == "healthy"
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between checks")
    parser.add_argument("--timeout", type=float, default=2.0, help="per-check deadline")
    parser.add_argument("--sample-every", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=None, help="default: min(60, 25 %%)")
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = min(60.0, args.duration / 4)
    configure_logging("warning")  # status changes to stderr; stdout is the JSON result
    result = asyncio.run(soak(args))
    print(json.dumps(result, indent=2))
    ok = result["checks_ratio"] is not None and abs(result["checks_ratio"] - 1) <= 0.01
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
