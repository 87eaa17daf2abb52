"""Latency accuracy and throughput of the daemon, against the truth and blackbox_exporter.

One process serves every endpoint (uvloop, two ports: lognormal p95 = 3 ms and p95 = 40 ms,
one path per endpoint, plus `/floor` that answers at once); a second runs the real `Monitor`
(uvloop) and nothing else; a third pings `/floor` over a raw keep-alive socket 50 times a
second: the loopback floor, measured independently. The truth for a group is the server's
own record of how long it held each answer plus that floor (the two convolved by resampling).
Then the same server is probed through Debian's prometheus-blackbox-exporter at the same
rate, driven from a separate process.

    python bench/latency_bench.py                      # 10, 1k, 10k, 100k endpoints
    python bench/latency_bench.py --quick              # 10 and 1,000 endpoints, short runs
    python bench/latency_bench.py --sizes 1000 --duration 30 --out bench/results/x.txt
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FAST = (0.0015, 0.003)  # median, p95 (s)
SLOW = (0.020, 0.040)
INTERVALS = {10: 1.0, 1000: 1.0, 10000: 10.0, 100000: 30.0}
BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
BB_ENDPOINTS = 1000  # blackbox probes at most this many distinct endpoints (at the same rate)


def pct(values: list[float] | array[float], q: float) -> float:
    """Nearest-rank percentile (the definition monitor.latency uses)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, -(-int(q * 1000) * len(ordered) // 100000) - 1)]


def group_of(i: int) -> str:
    return "fast" if i % 2 == 0 else "slow"


# -- the server process ---------------------------------------------------------------------


def serve(size: int, conn: Connection) -> None:
    import uvloop

    from monitor.simulator import Behavior, Latency, SimService, SimulatedFleet

    async def main() -> None:
        body = '{"status":"ok"}'
        fast = Behavior(body=body, latency=Latency(*FAST))
        slow = Behavior(body=body, latency=Latency(*SLOW))
        routes_f = {f"/e{i}/health": fast for i in range(0, size, 2)}
        routes_f["/floor"] = Behavior(body=body)
        routes_s = {f"/e{i}/health": slow for i in range(1, size, 2)}
        sim = [SimService("fast", routes_f), SimService("slow", routes_s)]
        async with SimulatedFleet(sim, record_latency=True) as fleet:
            conn.send({"fast": fleet.url("fast"), "slow": fleet.url("slow")})
            loop = asyncio.get_running_loop()
            while True:
                command = await loop.run_in_executor(None, conn.recv)
                if command == "reset":
                    for name in ("fast", "slow"):
                        fleet.injected(name).clear()
                    conn.send("ok")
                elif command == "collect":
                    conn.send({n: list(fleet.injected(n)) for n in ("fast", "slow")})
                else:
                    return

    uvloop.run(main())


# -- the loopback floor: raw socket, keep-alive ---------------------------------------------


def ping_floor(url: str, conn: Connection) -> None:
    host, port = url.removeprefix("http://").split(":")
    request = f"GET /floor HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    samples: list[float] = []
    while True:
        if conn.poll():
            command = conn.recv()
            if command == "reset":
                samples = []
            elif command == "collect":
                conn.send(samples)
            else:
                return
        start = time.perf_counter()
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
        while len(rest) < length:
            rest += sock.recv(65536)
        samples.append(time.perf_counter() - start)
        time.sleep(0.02)


# -- the daemon process ---------------------------------------------------------------------


def run_daemon(size: int, urls: dict[str, str], interval: float, conn: Connection) -> None:
    import uvloop

    uvloop.run(_daemon(size, urls, interval, conn))


async def _daemon(size: int, urls: dict[str, str], interval: float, conn: Connection) -> None:
    from prometheus_client import CollectorRegistry

    from monitor import __version__
    from monitor.config import MonitorConfig
    from monitor.logs import configure_logging
    from monitor.metrics.daemon_metrics import MonitorMetrics
    from monitor.runtime.daemon import Monitor

    configure_logging("warning", json=True)
    config = MonitorConfig.model_validate(
        {
            "defaults": {"interval": interval, "timeout": 2.0},
            "services": [
                {"name": f"{group_of(i)[0]}{i}", "url": f"{urls[group_of(i)]}/e{i}"}
                for i in range(size)
            ],
        }
    )
    state: dict[str, Any] = {"on": False, "fast": array("d"), "slow": array("d"), "lag": []}
    state["lag_at"] = []
    state["errors"] = 0

    registry = CollectorRegistry()
    metrics = MonitorMetrics(registry, __version__)
    real_lag = metrics.schedule_lag

    class LagTap:
        def observe(self, value: float) -> None:
            real_lag.observe(value)
            if state["on"]:
                state["lag"].append(value)
                state["lag_at"].append(time.perf_counter())

    metrics.schedule_lag = LagTap()  # type: ignore[assignment]

    class BenchMonitor(Monitor):
        async def run_check(self, check: Any) -> Any:
            result = await super().run_check(check)
            if state["on"] and result is not None:
                if result.verdict.http_status == 200:
                    group = "fast" if check.service[0] == "f" else "slow"
                    state[group].append(result.duration_s)
                else:
                    state["errors"] += 1
            return result

    import gc

    gc_pause = {"max": 0.0, "t": 0.0, "n2": 0}

    def gc_timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_pause["t"] = time.perf_counter()
        elif state["on"]:
            gc_pause["max"] = max(gc_pause["max"], time.perf_counter() - gc_pause["t"])
            gc_pause["n2"] += info["generation"] == 2

    gc.callbacks.append(gc_timer)
    monitor = BenchMonitor(config, metrics=metrics)
    await monitor.start()
    from monitor.runtime.gc_policy import freeze_after_first_round, tune_collector

    if os.environ.get("BENCH_GC_DEFAULT") == "1":  # Python's thresholds, only the freeze
        gc.freeze()
    else:
        tune_collector()  # as `monitor run` does after start-up
    if os.environ.get("BENCH_FREEZE_AGAIN", "1") == "1":  # and after the first round; 0: not
        freezer = asyncio.create_task(freeze_after_first_round(monitor))
    loop = asyncio.get_running_loop()
    conn.send("started")
    await loop.run_in_executor(None, conn.recv)  # "measure"
    state["on"] = True
    profiler = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu0, wall0 = os.times(), time.perf_counter()
    max_lag = 0.0
    while not conn.poll():
        await asyncio.sleep(0.25)
        max_lag = max(max_lag, monitor.lag_watch.loop_lag)
    conn.recv()  # "stop"
    state["on"] = False
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(45)
    cpu1, wall = os.times(), time.perf_counter() - wall0
    if os.environ.get("BENCH_GC_CENSUS"):  # what the full collections have to walk
        from collections import Counter

        census = Counter(type(o).__name__ for o in gc.get_objects(2))
        print(f"gen2: {sum(census.values()):,} objects; frozen: {gc.get_freeze_count():,}")
        print("  " + ", ".join(f"{name} {n:,}" for name, n in census.most_common(25)))
    skipped = monitor.metrics.checks_skipped_total._value.get()
    if os.environ.get("BENCH_FREEZE_AGAIN", "1") == "1":
        freezer.cancel()
    await monitor.stop(grace=1.0)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send(
        {
            "wall": wall,
            "cpu": (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / wall,
            "rss_mb": rss_kb / 1024,
            "fast": list(state["fast"]),
            "slow": list(state["slow"]),
            "lag_p99": pct(state["lag"], 99) if state["lag"] else float("nan"),
            "lag_p99_by_10s": lag_by_slice(state["lag"], state["lag_at"], wall0, 10.0),
            "errors": state["errors"],
            "skipped": skipped,
            "loop_lag_max": max_lag,
            "gc_max": gc_pause["max"],
            "gc2": gc_pause["n2"],
        }
    )


def lag_by_slice(lags: list[float], at: list[float], start: float, width: float) -> list[float]:
    """p99 of the schedule lag in consecutive slices of the measurement: a backlog left by
    start-up shows in the first slices only, a steady-state problem in all of them."""
    slices: dict[int, list[float]] = {}
    for lag, when in zip(lags, at, strict=True):
        slices.setdefault(max(0, int((when - start) // width)), []).append(lag)
    return [pct(slices[k], 99) for k in sorted(slices)]


# -- blackbox_exporter, driven from its own process -----------------------------------------


_DURATION = re.compile(r"^probe_duration_seconds ([0-9.e+-]+)$", re.M)
_PHASE = re.compile(r'^probe_http_duration_seconds\{phase="(\w+)"\} ([0-9.e+-]+)$', re.M)
_SUCCESS = re.compile(r"^probe_success ([01])$", re.M)


def drive_blackbox(
    bb: str, targets: list[tuple[str, str]], rate: float, secs: float, conn: Connection
) -> None:
    import uvloop

    uvloop.run(_drive(bb, targets, rate, secs, conn))


async def _drive(
    bb: str, targets: list[tuple[str, str]], rate: float, secs: float, conn: Connection
) -> None:
    import aiohttp

    out: dict[str, Any] = {"fast": [], "slow": [], "fast_noconn": [], "slow_noconn": []}
    out["failed"] = 0
    limit = asyncio.Semaphore(256)

    async def one(session: aiohttp.ClientSession, group: str, target: str) -> None:
        try:
            async with session.get(
                f"{bb}/probe", params={"module": "http_2xx", "target": target}
            ) as response:
                text = await response.text()
        except aiohttp.ClientError:
            out["failed"] += 1
            return
        finally:
            limit.release()
        success = _SUCCESS.search(text)
        duration = _DURATION.search(text)
        if not (success and success.group(1) == "1" and duration):
            out["failed"] += 1
            return
        phases = {name: float(value) for name, value in _PHASE.findall(text)}
        out[group].append(float(duration.group(1)))
        out[f"{group}_noconn"].append(phases.get("processing", 0.0) + phases.get("transfer", 0.0))

    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks: set[asyncio.Task[None]] = set()
        start = time.perf_counter()
        launched = 0
        while (now := time.perf_counter() - start) < secs:
            while launched < rate * now:
                await limit.acquire()
                group, target = targets[launched % len(targets)]
                task = asyncio.create_task(one(session, group, target))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                launched += 1
            await asyncio.sleep(0.005)
        wall = time.perf_counter() - start
        if tasks:
            await asyncio.wait(tasks, timeout=10)
    out["probes_per_s"] = (len(out["fast"]) + len(out["slow"])) / wall
    conn.send(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- orchestration --------------------------------------------------------------------------


def truth_p95(injected: list[float], floor: list[float], rng: random.Random) -> float:
    """p95 of (held + floor): each held time gets a floor sample drawn at random."""
    return pct([h + rng.choice(floor) for h in injected], 95)


def ask(conn: Connection, command: str) -> Any:
    conn.send(command)
    return conn.recv()


def run_size(ctx: Any, size: int, secs: float, bb_secs: float, log: Any) -> dict[str, Any]:
    interval = INTERVALS.get(size, max(1.0, size / 1000))
    rate = size / interval
    srv, srv_child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(size, srv_child), daemon=True)
    server.start()
    urls = srv.recv()
    flo, flo_child = ctx.Pipe()
    floor = ctx.Process(target=ping_floor, args=(urls["fast"], flo_child), daemon=True)
    floor.start()
    dmn, dmn_child = ctx.Pipe()
    daemon = ctx.Process(target=run_daemon, args=(size, urls, interval, dmn_child), daemon=True)
    daemon.start()
    rng = random.Random(size)
    result: dict[str, Any] = {"size": size, "interval": interval, "rate": rate}
    try:
        assert dmn.recv() == "started"
        time.sleep(interval + 3.0)  # warm-up: every check has run once, connections pooled
        ask(srv, "reset")
        flo.send("reset")
        dmn.send("measure")
        time.sleep(secs)
        dmn.send("stop")
        injected = ask(srv, "collect")
        floor_samples = ask(flo, "collect")
        ours = dmn.recv()
        daemon.join(timeout=30)
        result.update(
            checks_per_s=(len(ours["fast"]) + len(ours["slow"]) + ours["errors"]) / ours["wall"],
            cpu=ours["cpu"],
            rss_mb=ours["rss_mb"],
            lag_p99=ours["lag_p99"],
            lag_p99_by_10s=ours["lag_p99_by_10s"],
            errors=ours["errors"],
            skipped=ours["skipped"],
            loop_lag_max=ours["loop_lag_max"],
            gc_max=ours["gc_max"],
            gc2=ours["gc2"],
            floor_p50=pct(floor_samples, 50),
            floor_p95=pct(floor_samples, 95),
            floor_n=len(floor_samples),
        )
        for group in ("fast", "slow"):
            truth = truth_p95(injected[group], floor_samples, rng)
            result[group] = {
                "truth": truth,
                "ours": pct(ours[group], 95),
                "n": len(ours[group]),
                "held_p95": pct(injected[group], 95),
            }
        log(f"  daemon done: {result['checks_per_s']:.0f} checks/s; blackbox next")
        result["bb"] = run_blackbox(ctx, size, urls, rate, bb_secs, srv, flo, rng)
    finally:
        for pipe in (srv, flo):
            with contextlib.suppress(BrokenPipeError, OSError):
                pipe.send("stop")
        for proc in (daemon, floor, server):
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    return result


def run_blackbox(
    ctx: Any,
    size: int,
    urls: dict[str, str],
    rate: float,
    secs: float,
    srv: Connection,
    flo: Connection,
    rng: random.Random,
) -> dict[str, Any] | None:
    if not Path(BLACKBOX).exists() or secs <= 0:
        return None
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp, "blackbox.yml")
        cfg.write_text(
            "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n"
            "    http:\n      preferred_ip_protocol: ip4\n"
        )
        proc = subprocess.Popen(
            [
                BLACKBOX,
                f"--config.file={cfg}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            n = min(size, BB_ENDPOINTS)
            targets = [(group_of(i), f"{urls[group_of(i)]}/e{i}/health") for i in range(n)]
            ask(srv, "reset")
            flo.send("reset")
            pipe, child = ctx.Pipe()
            driver = ctx.Process(
                target=drive_blackbox, args=(f"http://127.0.0.1:{port}", targets, rate, secs, child)
            )
            driver.start()
            bb = pipe.recv()
            driver.join(timeout=10)
            injected = ask(srv, "collect")
            floor_samples = ask(flo, "collect")
            ticks = os.sysconf("SC_CLK_TCK")
            with open(f"/proc/{proc.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            bb_cpu = (int(fields[11]) + int(fields[12])) / ticks
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    out: dict[str, Any] = {
        "endpoints": n,
        "probes_per_s": bb["probes_per_s"],
        "failed": bb["failed"],
        "cpu_s": bb_cpu,
    }
    for group in ("fast", "slow"):
        out[group] = {
            "truth": truth_p95(injected[group], floor_samples, rng),
            "ours": pct(bb[group], 95),
            "noconn": pct(bb[f"{group}_noconn"], 95),
            "n": len(bb[group]),
        }
    return out


def error_text(g: dict[str, Any]) -> str:
    """How far a measured p95 (`ours`) is from the truth, in milliseconds and percent."""
    err = (g["ours"] - g["truth"]) * 1000.0
    return f"error {err:+.3f} ms ({err / (g['truth'] * 1000.0) * 100:+.1f} %)"


def report(r: dict[str, Any]) -> list[str]:
    ms = 1000.0
    lines = [
        f"size {r['size']:,} endpoints, interval {r['interval']:g}s, "
        f"offered {r['rate']:,.0f} checks/s",
        f"  daemon: {r['checks_per_s']:,.0f} checks/s sustained, CPU {r['cpu'] * 100:.0f} % "
        f"of a core, peak RSS {r['rss_mb']:.0f} MB, schedule jitter p99 "
        f"{r['lag_p99'] * ms:.1f} ms, loop lag max {r['loop_lag_max'] * ms:.1f} ms, "
        f"errors {r['errors']}, skipped {r['skipped']:.0f}, longest GC pause "
        f"{r['gc_max'] * ms:.1f} ms ({r['gc2']} full collections)",
        "  schedule jitter p99 per 10 s of the measurement: "
        + " / ".join(f"{v * ms:.1f}" for v in r["lag_p99_by_10s"])
        + " ms",
        f"  loopback floor (raw socket): p50 {r['floor_p50'] * ms:.3f} ms, "
        f"p95 {r['floor_p95'] * ms:.3f} ms ({r['floor_n']} pings)",
    ]
    for group in ("fast", "slow"):
        g = r[group]
        lines.append(
            f"  {group} p95: true {g['truth'] * ms:.3f} ms (held {g['held_p95'] * ms:.3f}), "
            f"measured {g['ours'] * ms:.3f} ms, {error_text(g)}, n={g['n']}"
        )
    bb = r.get("bb")
    if bb:
        lines.append(
            f"  blackbox_exporter ({bb['endpoints']:,} endpoints): {bb['probes_per_s']:,.0f} "
            f"probes/s, failed {bb['failed']}, exporter CPU {bb['cpu_s']:.1f} s"
        )
        for group in ("fast", "slow"):
            g = bb[group]
            lines.append(
                f"    {group} p95: true {g['truth'] * ms:.3f} ms, probe_duration_seconds "
                f"{g['ours'] * ms:.3f} ms, {error_text(g)}; processing+transfer "
                f"{g['noconn'] * ms:.3f} ms ({(g['noconn'] - g['truth']) * ms:+.3f}), n={g['n']}"
            )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,10000,100000")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per size")
    parser.add_argument("--bb-duration", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="10 and 1,000 endpoints, 15 s each")
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes, args.duration, args.bb_duration = [10, 1000], 15.0, 10.0
    ctx = mp.get_context("spawn")
    lines = [
        f"# latency_bench: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average at start {os.getloadavg()[0]:.2f}, blackbox: "
        f"{'yes' if shutil.which(BLACKBOX) else 'not installed'}",
        f"# args: sizes={sizes} duration={args.duration:g}s bb_duration={args.bb_duration:g}s",
    ]
    print("\n".join(lines), flush=True)
    for size in sizes:
        result = run_size(
            ctx,
            size,
            args.duration,
            args.bb_duration,
            lambda text: print(text, file=sys.stderr, flush=True),
        )
        block = report(result)
        print("\n".join(block), flush=True)
        lines += block
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
