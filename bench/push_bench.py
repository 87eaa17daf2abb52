"""Push checks at scale (issue 15): with N push checks configured (100,000 by default),

1. ping throughput: a real `python -m monitor run` pinned to one core (`taskset -c 0`) takes
   pings over HTTP from a load generator on the other core (keep-alive connections, tokens
   drawn at random), for a bounded window; pings/s counted from the daemon's own
   `monitor_push_pings_total`, so a refused ping is not counted;
2. lateness detection delay: a Monitor in this process with N push checks armed, `--late` of
   which (1,000 by default; 0: all N, a mass outage) go overdue within a `--spread` window; for
   each, how long after its deadline the daemon applied `late` (p50/p99/max);
3. memory per push check: RSS of a fresh process that loaded a config with N push checks and
   started its Monitor (every check judged, every deadline armed), minus one with none, over N.

    python bench/push_bench.py                      # 100,000 push checks
    python bench/push_bench.py --checks 10 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.config import parse_config
from monitor.model import Reason
from monitor.probes.push.schedule import PushRecord, Signal
from tests.processes import cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
PER_SERVICE = 10
"""A service's status is recomputed from all its checks when one changes: a service with
thousands of push checks would make that, not the pings, the cost measured."""


def token(i: int) -> str:
    return f"bench-push-token-{i:08d}"


def config_text(checks: int, every: str = "1h", grace: str = "1h") -> str:
    """Push-only services of PER_SERVICE push checks each (JSON is valid YAML)."""
    services = []
    for s in range(0, checks, PER_SERVICE):
        push = [
            {"name": f"job{i}", "every": every, "grace": grace, "token": token(i)}
            for i in range(s, min(checks, s + PER_SERVICE))
        ]
        services.append({"name": f"svc{s // PER_SERVICE}", "push": push})
    return json.dumps({"services": services})


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- 1. throughput -----------------------------------------------------------------------


async def _load(port: int, checks: int, duration: float, connections: int) -> int:
    import aiohttp

    sent = 0
    stop = time.monotonic() + duration
    limits = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=limits) as session:

        async def worker() -> None:
            nonlocal sent
            rng = random.Random()
            while time.monotonic() < stop:
                url = f"http://127.0.0.1:{port}/push/{token(rng.randrange(checks))}"
                async with session.post(url) as answer:
                    await answer.read()
                sent += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    return sent


def _pings_counted(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=120) as answer:
        text = answer.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("monitor_push_pings_total{") and 'outcome="success"' in line
    )


def _settle(port: int, checks: int, limit: float = 600.0) -> None:
    """Wait out the start-up's after-work (the first store flush of every check's state, the
    first scrape): until 20 pings in a row are answered within 50 ms, bounded in time."""
    fast, stop = 0, time.monotonic() + limit
    while fast < 20 and time.monotonic() < stop:
        t0 = time.monotonic()
        url = f"http://127.0.0.1:{port}/push/{token(random.randrange(checks))}"
        urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=60).read()
        fast = fast + 1 if time.monotonic() - t0 < 0.05 else 0


def throughput(
    checks: int, duration: float, connections: int, start_limit: float = 600.0
) -> dict[str, float]:
    from tests.conftest import free_port

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "monitor.yaml"
        path.write_text(config_text(checks))
        daemon = subprocess.Popen(
            [
                "taskset",
                "-c",
                "0",
                sys.executable,
                "-m",
                "monitor",
                "--log-level",
                "warning",
                "run",
                "--config",
                str(path),
                "--listen",
                f"127.0.0.1:{port}",
                "--data-dir",
                tmp,
            ],
            cwd=ROOT,
        )
        try:
            started = time.monotonic()
            while True:  # bounded by `start_limit` (a loaded machine needs a long one)
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
                    break
                except OSError:
                    if time.monotonic() - started > start_limit or daemon.poll() is not None:
                        raise SystemExit("the daemon did not start") from None
                    time.sleep(0.5)
            ready_s = time.monotonic() - started
            ready_cpu_s = cpu_seconds(daemon.pid)
            os.sched_setaffinity(0, {1})
            _settle(port, checks)
            before = _pings_counted(port)
            t0 = time.monotonic()
            sent = asyncio.run(_load(port, checks, duration, connections))
            elapsed = time.monotonic() - t0
            counted = _pings_counted(port) - before
        finally:
            daemon.terminate()
            daemon.wait(30)
    return {
        "startup_s": round(ready_s, 1),
        "startup_cpu_s": round(ready_cpu_s, 1),
        "pings_sent": sent,
        "pings_counted": counted,
        "pings_per_s": round(counted / elapsed),
    }


# -- 2. lateness detection delay ---------------------------------------------------------


async def _lateness(checks: int, spread: float, lead: float, late: int) -> dict[str, float]:
    """Start the monitor, then arm every check's deadline through the watcher's own
    re-judging: `late` of them (all with 0) `lead` s ahead plus up to `spread`, the others an
    hour away. Count only the deadlines that fall after the arming finished (on a slow machine,
    arming 100,000 checks takes a while)."""
    from monitor.runtime.daemon import Monitor

    config = parse_config(config_text(checks, every="10s", grace="1s"))
    monitor = Monitor(config)
    await monitor.start(schedule=False)
    now = datetime.now(UTC)
    deadlines: dict[str, float] = {}
    chosen = set(random.sample(range(checks), late or checks))
    for n, check in enumerate(config.checks()):
        # the last ping such that the deadline (ping + 10 s + 1 s) falls in the window
        later = 0.0 if n in chosen else 3600.0
        due = now + timedelta(seconds=later + lead + random.random() * spread)
        deadlines[check.id] = due.timestamp()
        ping = due - timedelta(seconds=11)
        monitor.push.records[check.id] = PushRecord(
            last_ping_at=ping, last_signal=Signal.SUCCESS, finished_at=ping
        )
    delays: dict[str, float] = {}
    apply = monitor.push._apply

    def timed(check: Any, verdict: Any, at: datetime) -> object:
        if verdict.reason is Reason.LATE:
            delays.setdefault(check.id, time.time() - deadlines[check.id])
        return apply(check, verdict, at)

    monitor.push._apply = timed
    monitor.push.rejudge(list(monitor.push.checks.values()))
    armed = time.time()
    counted = [cid for cid, at in deadlines.items() if armed < at < armed + lead + spread]
    until = time.monotonic() + lead + spread + 60
    while len(delays) < len(counted) and time.monotonic() < until:
        await asyncio.sleep(0.2)
    await monitor.stop()
    late = sorted(delays[cid] for cid in counted if cid in delays)  # armed in time
    n = len(late)
    return {
        "armed_in_s": round(armed - now.timestamp(), 1),
        "deadlines_after_arming": len(counted),
        "late_seen": n,
        "delay_p50_ms": round(1000 * late[n // 2], 1),
        "delay_p99_ms": round(1000 * late[min(n - 1, int(n * 0.99))], 1),
        "delay_max_ms": round(1000 * late[-1], 1),
    }


# -- 3. memory ---------------------------------------------------------------------------


async def _resident(checks: int) -> float:
    from monitor.runtime.daemon import Monitor

    monitor = Monitor(parse_config(config_text(checks)))
    now = datetime.now(UTC)
    monitor.push.restore(
        {
            c.id: PushRecord(last_ping_at=now, last_signal=Signal.SUCCESS, finished_at=now)
            for c in monitor.config.checks()
        }
    )
    await monitor.start(schedule=False)
    gc.collect()
    rss = rss_mib()
    await monitor.stop()
    return rss


def memory(checks: int) -> dict[str, float]:
    def measure(n: int) -> float:
        out = subprocess.run(
            [sys.executable, __file__, "--rss-of", str(n)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
        return float(out.strip().splitlines()[-1])

    empty, full = measure(0), measure(checks)
    return {
        "rss_empty_mib": round(empty, 1),
        "rss_full_mib": round(full, 1),
        "bytes_per_push_check": round((full - empty) * 2**20 / checks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=20.0, help="throughput window, s")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--start-limit", type=float, default=600.0, help="s the daemon may take to start"
    )
    parser.add_argument("--spread", type=float, default=20.0, help="deadlines spread over, s")
    parser.add_argument("--lead", type=float, default=60.0, help="first deadline after, s")
    parser.add_argument(
        "--late", type=int, default=1000, help="checks going late in the window (0: all)"
    )
    parser.add_argument("--only", choices=["throughput", "lateness", "memory"])
    parser.add_argument("--rss-of", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_of is not None:
        print(asyncio.run(_resident(args.rss_of)))
        return
    print(f"{args.checks} push checks; load average {os.getloadavg()}", flush=True)
    if args.only in (None, "memory"):
        print("memory:", memory(args.checks), flush=True)
    if args.only in (None, "lateness"):
        lateness = asyncio.run(_lateness(args.checks, args.spread, args.lead, args.late))
        print("lateness:", lateness, flush=True)
    if args.only in (None, "throughput"):
        figures = throughput(args.checks, args.duration, args.connections, args.start_limit)
        print("throughput:", figures, flush=True)
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
