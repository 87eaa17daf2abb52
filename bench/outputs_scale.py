"""The daemon's outputs at fleet scale (issue 18): for N services (a health check each, one in
ten with an rpc smoke path, like the seed) against one loopback server, a 60 s interval:
series and bytes of /metrics per check, /metrics time, /status unfiltered and filtered time
and size, `/` time and size, startup to listening, reload (`POST /-/reload` of the file with
one service changed), daemon RSS after serving them; and, in a child process of its own, the
config parse alone (CPU seconds, so the machine's load does not count) of the same file as
written (JSON, which is YAML) and as block-style YAML, with the RSS it adds per endpoint.

The daemon runs as `monitor run` in a child process (its own interpreter, as deployed); every
wait is bounded. One in fifty services answers 500 (unhealthy), so the filtered /status has
something to return. Each filter of FILTERS is timed three ways and printed on a line of its
own: right after the first round (its burst), in the steady state with 110,000 checks a
minute running, and with the loop idle (in this process, checks not scheduled).

    .venv/bin/python bench/outputs_scale.py 1000 10000 [100000] [--page-max 10000]
    .venv/bin/python bench/outputs_scale.py 100000 --startup-only

`--page-max N`: skip `/` above N services (today's page at 100,000 would be ~1 GB).
`--startup-only`: the parse, start-up and reload figures only (the reload after 20 s of
checks running, not after the first round): CPU seconds beside wall, for issue 18's 3 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.http.app import bound_port
from monitor.http.status_query import encode_cursor
from tests.big_fleet import fleet_services
from tests.loopback import start_site
from tests.processes import cpu_seconds, stop

FIRST_ROUND_TIMEOUT = 300.0
STARTUP_TIMEOUT = 300.0


async def fleet_server() -> tuple[web.AppRunner, int]:
    """One loopback server for every service: /sNNNNN/... answers healthy JSON, 500 for every
    fiftieth service."""

    async def answer(request: web.Request) -> web.Response:
        service = request.match_info["service"]
        if int(service[1:]) % 50 == 7:
            return web.json_response({"status": "down"}, status=500)
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/{service}/{tail:.*}", answer)
    runner, site = await start_site(app)
    return runner, bound_port(site)


ADMIN_TOKEN = "bench-admin-token-0123456789"

PARSE_ALONE = """
import json, resource, sys, time
from pathlib import Path
from monitor.config import load_config
from monitor.runtime.gc_policy import pause_collector

pause_collector()  # as `monitor run` does until it listens

def rss_kb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

before, cpu, wall = rss_kb(), time.process_time(), time.perf_counter()
config = load_config(sys.argv[1])
checks = config.checks()
out = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}
out["rss_bytes_per_endpoint"] = (rss_kb() - before) * 1024 / len(checks)
print(json.dumps(out))
"""


def parse_alone(path: Path) -> dict[str, float]:
    """`load_config` and `checks()` of `path` in a fresh interpreter (imports excluded)."""
    done = subprocess.run(
        [sys.executable, "-c", PARSE_ALONE, str(path)],
        capture_output=True, text=True, timeout=STARTUP_TIMEOUT, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout)
    return result


def config(
    n: int, target_port: int, listen_port: int, admin_token: str | None = None, interval: int = 60
) -> str:
    services = fleet_services(n, f"http://127.0.0.1:{target_port}")
    return json.dumps(
        {
            "listen": f"127.0.0.1:{listen_port}",
            "defaults": {"interval": f"{interval}s", "timeout": "5s"},
            "services": services,
            **({"auth": {"admin_token": admin_token}} if admin_token else {}),
        }
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def timed_get(
    session: aiohttp.ClientSession, url: str, **headers: str
) -> tuple[float, bytes]:
    started = time.perf_counter()
    async with session.get(url, headers=headers) as response:
        body = await response.read()
        assert response.status == 200, (url, response.status)
    return time.perf_counter() - started, body


async def until(predicate: object, timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(every)
    raise TimeoutError(what)


def start_daemon(config_file: Path, data_dir: Path) -> subprocess.Popen[bytes]:
    """`monitor run` in a child process: its own interpreter, as deployed."""
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config_file), "--data-dir",
         str(data_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def wait_listening(
    session: aiohttp.ClientSession, base: str, timeout: float = STARTUP_TIMEOUT
) -> None:
    async def listening() -> bool:
        try:
            async with session.get(base + "/healthz") as response:
                return response.status in (200, 503)
        except aiohttp.ClientError:
            return False

    await until(listening, timeout, "daemon listening", every=0.02)  # the figure's resolution


async def wait_first_round(
    session: aiohttp.ClientSession, base: str, timeout: float = FIRST_ROUND_TIMEOUT
) -> None:
    """Until no check is `unknown` any more: every check has run once."""

    async def first_round_done() -> bool:
        async with session.get(base + "/status?status=unknown&limit=1") as response:
            body = await response.json()
        if response.status == 200 and body.get("page") is not None:
            return bool(body["page"]["total"] == 0)
        async with session.get(base + "/status") as response:  # before issue 18
            body = await response.json()
        return all(s["status"] != "unknown" for s in body["services"])

    await until(first_round_done, timeout, "first round")


RELOAD_SETTLE = 20.0
"""Seconds of checks running before a `--startup-only` reload."""


async def measure(
    n: int, page_max: int | None = None, startup_only: bool = False
) -> dict[str, float]:
    runner, target_port = await fleet_server()
    listen = free_port()
    base = f"http://127.0.0.1:{listen}"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "monitor.yaml"
        path.write_text(config(n, target_port, listen, ADMIN_TOKEN))
        out: dict[str, float] = {"services": n}
        block = Path(directory) / "block.yaml"
        block.write_text(yaml.dump(json.loads(path.read_text()), Dumper=yaml.CSafeDumper))
        for form, file in (("json", path), ("yaml", block)):
            alone = parse_alone(file)
            out[f"parse_{form}_cpu_s"] = alone["cpu_s"]
            out[f"config_{form}_rss_bytes_per_endpoint"] = alone["rss_bytes_per_endpoint"]
        started = time.perf_counter()
        daemon = start_daemon(path, Path(directory))
        try:
            timeout = aiohttp.ClientTimeout(total=600)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                await wait_listening(session, base)
                out["startup_s"] = time.perf_counter() - started
                out["startup_cpu_s"] = cpu_seconds(daemon.pid)  # what the load does not inflate
                print(
                    f"{n}: listening after {out['startup_s']:.1f} s, "
                    f"{out['startup_cpu_s']:.1f} s of CPU",
                    file=sys.stderr, flush=True,
                )  # fmt: skip
                if startup_only:
                    await asyncio.sleep(RELOAD_SETTLE)  # checks running, as a reload meets them
                    out |= await reload(session, base, path, n, target_port, listen, daemon.pid)
                    return out
                try:  # on a loaded machine 110,000 checks may not all run in time
                    await wait_first_round(session, base)
                    out["first_round_s"] = time.perf_counter() - started
                except TimeoutError:
                    out["first_round_s"] = float("nan")  # measured all the same
                out |= await filtered_while_checking(session, base, n)
                seconds, body = await timed_get(session, base + "/metrics")
                lines = [
                    line for line in body.split(b"\n") if b'service="' in line
                ]  # per-check and per-service series
                checks = n + n // 10
                out |= {
                    "metrics_s": seconds, "metrics_mb": len(body) / 1e6,
                    "series_per_check": len(lines) / checks,
                    "bytes_per_check": sum(len(x) + 1 for x in lines) / checks,
                }  # fmt: skip
                identity = {"Accept-Encoding": "identity"}
                seconds, body = await timed_get(session, base + "/status", **identity)
                out["status_all_s"], out["status_all_mb"] = seconds, len(body) / 1e6
                seconds, body = await timed_get(
                    session, base + "/status", **{"Accept-Encoding": "gzip"}
                )
                out["status_all_gzip_s"] = seconds
                if page_max is None or n <= page_max:
                    seconds, body = await timed_get(session, base + "/", **identity)
                    out["page_s"], out["page_mb"] = seconds, len(body) / 1e6
                out |= await reload(session, base, path, n, target_port, listen, daemon.pid)
                out["rss_mb"] = rss_mb(daemon.pid)
        finally:
            stop(daemon, grace=60.0)
            await runner.cleanup()
    return out


async def reload(
    session: aiohttp.ClientSession,
    base: str,
    path: Path,
    n: int,
    target_port: int,
    listen: int,
    pid: int,
) -> dict[str, float]:
    """`POST /-/reload` of the file with every interval changed (every check reschedules):
    wall, and the daemon's CPU meanwhile (its probing's share included)."""
    path.write_text(config(n, target_port, listen, ADMIN_TOKEN, interval=61))
    cpu, started = cpu_seconds(pid), time.perf_counter()
    async with session.post(
        base + "/-/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as response:
        assert response.status == 200, await response.text()
    return {"reload_s": time.perf_counter() - started, "reload_cpu_s": cpu_seconds(pid) - cpu}


FILTERS = (
    ("one", "?service={mid}"),
    ("team_page100", "?team=team-3&limit=100"),
    ("label_page100", "?label=tier=edge&limit=100"),
    ("label_unhealthy_page100", "?label=tier=edge&status=unhealthy&limit=100"),
    ("unhealthy_page100", "?status=unhealthy,degraded&limit=100"),
    ("unknown_page100", "?status=unknown&limit=100"),
    ("healthy_cursor_page100", "?status=healthy&limit=100&cursor={cursor}"),
    ("page100", "?limit=100"),
    ("cursor_page100", "?limit=100&cursor={cursor}"),
    ("unhealthy_all", "?status=unhealthy,degraded"),
)
"""Each filtered `/status` the bench times: with checks running (right after the first round,
and in the steady state after it) and with the loop idle."""
STEADY_AFTER_S = 20.0
"""The steady state: this long after the first round completed, when its burst (every
service's first verdict: a status change logged, stored and exported) is over."""
SAMPLES, SAMPLE_GAP_S = 5, 0.5


def filter_urls(base: str, n: int) -> list[tuple[str, str]]:
    marks = {"mid": f"s{n // 2:06d}", "cursor": encode_cursor(f"s{n // 2:06d}")}
    return [(key, base + "/status" + query.format(**marks)) for key, query in FILTERS]


async def filtered_while_checking(
    session: aiohttp.ClientSession, base: str, n: int
) -> dict[str, float]:
    """Each filter once right after the first round (its burst), then SAMPLES times in the
    steady state (median and max), with the daemon's loop lag at that moment. Milliseconds."""
    out: dict[str, float] = {}
    identity = {"Accept-Encoding": "identity"}
    for key, url in filter_urls(base, n):
        out[f"{key}_burst_ms"] = (await timed_get(session, url, **identity))[0] * 1000
    await asyncio.sleep(STEADY_AFTER_S)  # a bench waiting for a state of the daemon, not a test
    async with session.get(base + "/healthz") as response:
        out["steady_loop_lag_ms"] = (await response.json())["event_loop_lag_seconds"] * 1000
    for key, url in filter_urls(base, n):
        times = []
        for _ in range(SAMPLES):
            times.append((await timed_get(session, url, **identity))[0] * 1000)
            await asyncio.sleep(SAMPLE_GAP_S)  # samples spread over the checks' steady run
        out[f"{key}_steady_ms"] = sorted(times)[SAMPLES // 2]
        out[f"{key}_steady_max_ms"] = max(times)
    return out


async def filtered_in_process(n: int) -> dict[str, float]:
    """/status filtered with nothing else running: the daemon's own loop (checks not
    scheduled, one verdict fed per check as tests/big_fleet.py does: the same statuses as the
    bench's fleet) in this process, so the time is the answer's, not a wait behind 110,000
    checks on a loaded machine. Median of SAMPLES, milliseconds."""
    from monitor.http.app import serve
    from monitor.runtime.daemon import Monitor
    from tests.big_fleet import QUIET, big_config, feed

    monitor = Monitor(big_config(n), logger=QUIET)
    await monitor.start(schedule=False)
    await feed(monitor, datetime.now(UTC))
    runner, port = await serve(monitor, "127.0.0.1", 0)
    out: dict[str, float] = {}
    try:
        async with aiohttp.ClientSession() as session:
            for key, url in filter_urls(f"http://127.0.0.1:{port}", n):
                times = [(await timed_get(session, url))[0] for _ in range(SAMPLES)]
                out[f"{key}_idle_ms"] = sorted(times)[SAMPLES // 2] * 1000
    finally:
        await runner.cleanup()
        await monitor.stop(grace=0)
    return out


def main(sizes: list[int], page_max: int | None = None, startup_only: bool = False) -> None:
    print(f"load average before: {os.getloadavg()}", flush=True)
    rows = {}
    for n in sizes:
        rows[n] = asyncio.run(measure(n, page_max, startup_only))
        print(json.dumps({k: round(v, 4) for k, v in rows[n].items()}), flush=True)
    print(f"load average after the daemons: {os.getloadavg()}", flush=True)
    for n in [] if startup_only else sizes:
        idle = asyncio.run(filtered_in_process(n))
        for key, query in FILTERS:  # a line per filter: checks running vs the loop idle
            row = {"services": n, "filter": key, "query": query}
            for when in ("burst_ms", "steady_ms", "steady_max_ms"):
                row[when] = round(rows[n].get(f"{key}_{when}", float("nan")), 1)
            row["idle_ms"] = round(idle[f"{key}_idle_ms"], 2)
            print(json.dumps(row), flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    args = sys.argv[1:]
    page_max = None
    if "--page-max" in args:
        at = args.index("--page-max")
        page_max = int(args[at + 1])
        del args[at : at + 2]
    startup_only = "--startup-only" in args
    args = [a for a in args if a != "--startup-only"]
    main([int(a) for a in args] or [1000, 10000], page_max, startup_only)
