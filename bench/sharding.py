"""Sharding benchmark: N endpoints over S replicas (`monitor run --shard i/S`), each replica a
real `python -m monitor run` process; measures per replica the checks/s it completes, its CPU
and its RSS, and how late checks start (schedule lag), over a bounded window.

The endpoints are paths of one simulated service in a child process (its CPU is not counted).

    python bench/sharding.py --endpoints 10000                  # 3 replicas, 10 s interval
    python bench/sharding.py --endpoints 30000 --duration 45
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.simulator import Behavior, Latency, SimService, SimulatedFleet

TICKS = os.sysconf("SC_CLK_TCK")


async def _serve(total: int, conn: Connection) -> None:
    ok = Behavior(body='{"status":"ok"}', latency=Latency(0.001, 0.003))
    routes = {f"/t{i}/health": ok for i in range(total)}
    async with SimulatedFleet([SimService("bulk", routes)]) as fleet:
        conn.send(fleet.url("bulk"))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)


def _child(total: int, conn: Connection) -> None:
    try:
        import uvloop

        uvloop.run(_serve(total, conn))
    except ImportError:
        asyncio.run(_serve(total, conn))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _metrics(url: str) -> dict[str, float]:
    """Sums of the series the benchmark reads."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as answer:
        text = answer.read().decode()
    sums = {"checks": 0.0, "lag_sum": 0.0, "lag_count": 0.0}
    for line in text.splitlines():
        if line.startswith("monitor_checks_total{"):
            sums["checks"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith("monitor_schedule_lag_seconds_sum"):
            sums["lag_sum"] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("monitor_schedule_lag_seconds_count"):
            sums["lag_count"] = float(line.rsplit(" ", 1)[1])
    return sums


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wait_up(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"replica exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/status/schema", timeout=2):
                return
        except OSError:
            time.sleep(0.2)  # a child process starting, bounded by the deadline
    raise SystemExit(f"{url} not up in time")


def run(endpoints: int, shards: int, replicas: int, interval: float, duration: float) -> None:
    parent, child = mp.Pipe()
    server = mp.get_context("spawn").Process(target=_child, args=(endpoints, child), daemon=True)
    server.start()
    base = parent.recv()
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-sharding-") as tmp:
        work = Path(tmp)
        config = {
            "defaults": {"interval": f"{interval:g}s", "timeout": "5s"},
            "services": [
                {"name": f"t{i}", "url": base, "health_path": f"/t{i}/health"}
                for i in range(endpoints)
            ],
        }
        (work / "monitor.yaml").write_text(json.dumps(config))
        urls = []
        try:
            for i in range(shards):
                port = _free_port()
                urls.append(f"http://127.0.0.1:{port}")
                command = [
                    sys.executable, "-m", "monitor", "--log-level", "warning", "run",
                    "--config", str(work / "monitor.yaml"), "--listen", f"127.0.0.1:{port}",
                    "--data-dir", str(work / f"data-{i}"),
                    "--shard", f"{i}/{shards}", "--replicas", str(replicas),
                ]  # fmt: skip
                processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
            started = time.monotonic()
            for url, process in zip(urls, processes, strict=True):
                _wait_up(url, process, started + 120)
            boot = time.monotonic() - started
            time.sleep(interval + 3)  # warm-up: every check has run once (spread is 2 s)
            pairs = list(zip(urls, processes, strict=True))
            before = [(_metrics(u), _cpu_seconds(p.pid)) for u, p in pairs]
            t0 = time.monotonic()
            rss_peak = [0.0] * shards
            while time.monotonic() - t0 < duration:
                time.sleep(1.0)  # sampling RSS once a second over the window
                rss_peak = [max(r, _rss_mib(p.pid)) for r, p in zip(rss_peak, processes)]  # noqa: B905
            after = [(_metrics(u), _cpu_seconds(p.pid)) for u, p in pairs]
            window = time.monotonic() - t0
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=15)
            parent.send("stop")
            server.join(timeout=15)
    expected = endpoints * replicas / shards / interval
    print(
        f"\n{endpoints} endpoints, {shards} replicas, R={replicas}, interval {interval:g}s, "
        f"window {window:.0f}s, start-up {boot:.1f}s; due per replica ~{expected:.0f} checks/s"
    )
    print("| replica | checks/s | CPU % of a core | CPU ms/check | RSS MiB (peak) | mean lag ms |")
    print("|---|---|---|---|---|---|")
    for i, ((m0, c0), (m1, c1)) in enumerate(zip(before, after, strict=True)):
        done = m1["checks"] - m0["checks"]
        cpu = c1 - c0
        lags = m1["lag_count"] - m0["lag_count"]
        lag = (m1["lag_sum"] - m0["lag_sum"]) / lags * 1000 if lags else float("nan")
        print(
            f"| {i}/{shards} | {done / window:.0f} | {cpu / window * 100:.0f} | "
            f"{cpu / done * 1000 if done else float('nan'):.2f} | {rss_peak[i]:.0f} | {lag:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=10_000)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=45.0)
    args = parser.parse_args()
    run(args.endpoints, args.shards, args.replicas, args.interval, args.duration)


if __name__ == "__main__":
    main()
