"""What a filtered `/status` waits for right after the first round at N services (issue 18):
the real `monitor run` in a child process whose garbage collections over 2 ms are logged
(wall time, generation, duration), the daemon's CPU share, loop lag and schedule lag every
2 s from listening on, and bench/outputs_scale.py's FILTERS timed once the first round is
done and again 20 s later; printed as one timeline.

    .venv/bin/python bench/first_round_probe.py 100000
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.outputs_scale import (
    ADMIN_TOKEN,
    config,
    filter_urls,
    fleet_server,
    free_port,
    timed_get,
    wait_first_round,
    wait_listening,
)
from tests.processes import cpu_seconds, stop

GC_LOGGED = r"""
import gc, runpy, sys, time
log = open(sys.argv[1], "a", buffering=1)
began = {}
def logged(phase, info):
    if phase == "start":
        began["cpu"], began["wall"] = time.perf_counter(), time.time()
        return
    took = time.perf_counter() - began["cpu"]
    if took > 0.002:
        log.write(f"{began['wall']:.3f} gc gen{info['generation']} {took * 1000:.1f} ms\n")
gc.callbacks.append(logged)
sys.argv = ["monitor", *sys.argv[2:]]
runpy.run_module("monitor", run_name="__main__")
"""
SAMPLE_S = 2.0
STEADY_AFTER_S = 20.0
IDENTITY = {"Accept-Encoding": "identity"}


async def probe(n: int) -> list[tuple[float, str]]:
    runner, target_port = await fleet_server()
    listen = free_port()
    base = f"http://127.0.0.1:{listen}"
    marks: list[tuple[float, str]] = []
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "monitor.yaml"
        path.write_text(config(n, target_port, listen, ADMIN_TOKEN))
        gc_log = Path(directory) / "gc.log"
        daemon = subprocess.Popen(
            [sys.executable, "-c", GC_LOGGED, str(gc_log), "run", "--config", str(path),
             "--data-dir", directory],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        started = time.time()
        try:
            timeout = aiohttp.ClientTimeout(total=600)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                await wait_listening(session, base)
                marks.append((time.time(), "listening"))
                sampler = asyncio.create_task(sample(session, base, daemon.pid, marks))
                await wait_first_round(session, base)
                marks.append((time.time(), "first round done"))
                await filters(session, base, n, "right after", marks)
                await asyncio.sleep(STEADY_AFTER_S)  # a bench waiting for a state, not a test
                await filters(session, base, n, "20 s later", marks)
                sampler.cancel()
        finally:
            stop(daemon, grace=60.0)
            await runner.cleanup()
        for line in gc_log.read_text().splitlines():
            wall, what = line.split(" ", 1)
            marks.append((float(wall), what))
    return sorted((when - started, what) for when, what in marks)


async def sample(
    session: aiohttp.ClientSession, base: str, pid: int, marks: list[tuple[float, str]]
) -> None:
    cpu = cpu_seconds(pid)
    while True:
        await asyncio.sleep(SAMPLE_S)
        now_cpu = cpu_seconds(pid)
        async with session.get(base + "/healthz") as response:
            health = await response.json()
        lag = health["event_loop_lag_seconds"] * 1000
        schedule = (health["schedule_lag_p99_seconds"] or 0.0) * 1000
        share = (now_cpu - cpu) / SAMPLE_S * 100
        marks.append(
            (time.time(), f"daemon CPU {share:.0f}%, loop lag {lag:.0f} ms, "
             f"schedule lag p99 {schedule:.0f} ms")
        )  # fmt: skip
        cpu = now_cpu


async def filters(
    session: aiohttp.ClientSession, base: str, n: int, when: str, marks: list[tuple[float, str]]
) -> None:
    for key, url in filter_urls(base, n):
        at = time.time()
        seconds, _ = await timed_get(session, url, **IDENTITY)
        marks.append((at, f"{when}: {key} {seconds * 1000:.1f} ms"))


if __name__ == "__main__":
    for offset, what in asyncio.run(probe(int(sys.argv[1]) if sys.argv[1:] else 100_000)):
        print(f"{offset:8.3f} s  {what}")
