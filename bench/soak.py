"""Soak: 1,000 services, the hostile corpus among them, watched by one Monitor for a while.

The simulated services run in a child process, so that what is sampled (RSS, open file
descriptors, asyncio tasks, every 10 s) is the monitor's alone. After a warm-up the slope of
each series is fitted by least squares and must be flat; the checks run are compared with the
checks the schedule called for (within 1 %).

The monitor runs as `monitor run` does: the daemon's timed connector, the collector tuned after
start-up and frozen after the first round (gc_policy.py), events logged at info. Every log line
is counted by event name (stdlib records by logger and level): a soak passes only if the lines
are status changes and the start/stop events.

    python bench/soak.py                    # 10 minutes
    python bench/soak.py --duration 60      # a quick run
    python bench/soak.py --hostile 500      # half the services on the hostile corpus
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import io
import json
import logging
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
from monitor.probes.timing import timed_connector
from monitor.runtime.daemon import Monitor
from monitor.runtime.gc_policy import freeze_after_first_round, tune_collector
from monitor.runtime.scheduler import SPREAD, first_offset
from monitor.simulator import Behavior, Latency, SimService, SimulatedFleet
from tests.hostile import HostileCorpus

EXPECTED_EVENTS = frozenset(
    {
        "check.status_changed",
        "service.status_changed",
        "monitor.started",
        "monitor.stopped",
        "check.cancelled_at_shutdown",  # the checks in flight at the end, once each
    }
)
LATENESS_EVENTS = frozenset(
    {"monitor.loop_lag_high", "monitor.schedule_behind", "check.skipped_overlap"}
)
"""The monitor's warnings about its own lateness, each at most once a minute (lag_watch.py):
about the machine, counted apart."""


# -- the services, in a child process -------------------------------------------------------


async def _serve(healthy: int, conn: Connection) -> None:
    ok = Behavior(body='{"status":"ok"}', latency=Latency(0.001, 0.003))
    async with HostileCorpus() as corpus:
        routes = {f"/s{i}/health": ok for i in range(healthy)}
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


def _child(healthy: int, conn: Connection) -> None:
    asyncio.run(_serve(healthy, conn))


# -- the monitor, here ----------------------------------------------------------------------


class CountingMonitor(Monitor):
    def __init__(self, *args: Any, ssl_context: ssl.SSLContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ssl_context = ssl_context
        self.end = float("inf")
        self.runs = 0  # a counter, not a list of start times: the harness must not grow

    def _new_session(self) -> aiohttp.ClientSession:
        # the daemon's connector, trusting the corpus's CA
        connector = timed_connector(
            limit=512, ttl_dns_cache=60, enable_cleanup_closed=True, ssl=self.ssl_context
        )
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    async def run_check(self, check: Check) -> Any:
        if time.monotonic() < self.end:
            self.runs += 1
        return await super().run_check(check)


class LogLines(io.TextIOBase):
    """Where structlog writes (JSON lines): counted by event name, passed on to stderr."""

    def __init__(self) -> None:
        self.events: collections.Counter[str] = collections.Counter()

    def write(self, text: str) -> int:
        for line in filter(None, text.splitlines()):  # print() writes the newline apart
            try:
                self.events[str(json.loads(line).get("event"))] += 1
            except (ValueError, AttributeError):
                self.events["(not json)"] += 1
        return sys.stderr.write(text)

    def isatty(self) -> bool:
        return False


class LogRecords(logging.Handler):
    """Every stdlib record (aiohttp, asyncio, APScheduler), counted by logger and level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.records[f"{record.name}:{record.levelname}"] += 1


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


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
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
    child = ctx.Process(target=_child, args=(args.services, child_end))  # enough paths
    child.start()
    try:
        info = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
        cases = info["hostile"]
        if args.hostile is None:
            args.hostile = len(cases)  # one service per case
        healthy = args.services - args.hostile
        services: list[dict[str, Any]] = [
            {"name": f"hostile-{i:04d}-{name}", "url": base, "health_path": path}
            for i in range(args.hostile)
            for name, base, path in [cases[i % len(cases)]]
        ]
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
        tune_collector()  # as `monitor run` does, see monitor/gc_policy.py
        freezer = asyncio.create_task(freeze_after_first_round(monitor))
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
        freezer.cancel()
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
        "hostile": args.hostile,
        "hostile_cases": len(info["hostile"]),
        "interval_s": args.interval,
        "timeout_s": args.timeout,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "samples": len(samples),
        "rss_mib": [round(s.rss_bytes / 2**20, 1) for s in samples],
        "peak_rss_mib": round(_peak_rss() / 2**20, 1),
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
    parser.add_argument(
        "--hostile",
        type=int,
        default=None,
        help="services watching the hostile corpus, cycling through its cases (default: one each)",
    )
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between checks")
    parser.add_argument("--timeout", type=float, default=2.0, help="per-check deadline")
    parser.add_argument("--sample-every", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=None, help="default: min(60, 25 %%)")
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = min(60.0, args.duration / 4)
    lines, records = LogLines(), LogRecords()
    configure_logging("info", stream=lines, json=True)  # stdout is the JSON result
    logging.getLogger().addHandler(records)
    result = asyncio.run(soak(args))
    result["log_events"] = dict(lines.events)
    result["stdlib_log_records"] = dict(records.records)
    result["lateness_warnings"] = sum(lines.events[event] for event in LATENESS_EVENTS)
    result["unexpected_log_lines"] = sum(
        n for event, n in lines.events.items() if event not in EXPECTED_EVENTS | LATENESS_EVENTS
    ) + sum(records.records.values())
    print(json.dumps(result, indent=2))
    ok = result["checks_ratio"] is not None and abs(result["checks_ratio"] - 1) <= 0.01
    return 0 if ok and not result["unexpected_log_lines"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
