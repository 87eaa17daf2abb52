"""Which client can the open-loop generator afford? CPU per request and send lag of the raw
HTTP/1.1 client (monitor/gate/connection.py, what `monitor load` uses) against an aiohttp session on
the probes' timed connector (a task per request, launched on the same schedule), both at the
same rate against the same loopback server (bench/load_server.py, in its own process).

    python bench/load_client_cost.py --rate 1000 --duration 10

CPU is this process's user + system time over the run (resource.getrusage), divided by the
requests sent; send lag is actual send minus intended send time.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from monitor.gate.load import Histogram, LoadPlan
from monitor.gate.open_loop import WAKE_EARLY_S, OpenLoopGenerator
from monitor.probes.timing import timed_connector, wire_stamps

SERVER = Path(__file__).with_name("load_server.py")


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def raw(url: str, rate: float, duration: float) -> tuple[float, Histogram, int]:
    plan = LoadPlan(url=url, rate=rate, duration=duration, warmup=1.0, connections=512)
    generator = OpenLoopGenerator(plan)
    before = cpu_s()
    await generator.run()
    return cpu_s() - before, generator.recorder.send_lag, generator.recorder.sent


async def with_aiohttp(url: str, rate: float, duration: float) -> tuple[float, Histogram, int]:
    """The same schedule (wake early, sleep the rest), a task per request on aiohttp."""
    lag = Histogram()
    connector = timed_connector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(intended: float, record: bool) -> None:
            async with session.get(url) as response:
                wire = wire_stamps(response)
                await response.read()
            if record and wire is not None:
                lag.add(max(0.0, wire[0] - intended))

        warm = int(rate)
        total = warm + int(rate * duration)
        tasks = set()
        start = time.perf_counter() + 0.05
        before = cpu_s()
        for index in range(total):
            due = start + index / rate
            ahead = due - time.perf_counter()
            if ahead > WAKE_EARLY_S:
                await asyncio.sleep(ahead - WAKE_EARLY_S)
                ahead = due - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
            task = asyncio.create_task(one(due, index >= warm))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        return cpu_s() - before, lag, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [sys.executable, str(SERVER), f"{tmp}/record.json"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}/"
        try:
            load = Path("/proc/loadavg").read_text().split()[0]
            print(f"rate {args.rate:g}/s, {args.duration:g} s each; load average {load}")
            for name, client in (("raw http1", raw), ("aiohttp", with_aiohttp)):
                cpu, lag, sent = asyncio.run(client(url, args.rate, args.duration))
                p50, p95, p99 = (
                    v * 1e3 if v is not None else 0.0 for v in lag.quantiles([0.5, 0.95, 0.99])
                )
                print(
                    f"{name:10} CPU {cpu / sent * 1e6:6.1f} us/request   send lag ms "
                    f"p50 {p50:.3f} p95 {p95:.3f} p99 {p99:.3f}"
                )
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
