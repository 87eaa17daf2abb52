"""The daemon's outputs at fleet scale (issue 18): for N services (a health check each, one in
ten with an rpc smoke path, like the seed) against one loopback server, a 60 s interval:
series and bytes of /metrics per check, /metrics time, /status unfiltered and filtered time
and size, `/` time and size, startup to listening, daemon RSS after serving them.

The daemon runs as `monitor run` in a child process (its own interpreter, as deployed); every
wait is bounded. One in fifty services answers 500 (unhealthy), so the filtered /status has
something to return.

    .venv/bin/python bench/outputs_scale.py 1000 10000 [100000]
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
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.http.app import bound_port
from tests.big_fleet import fleet_services
from tests.processes import stop

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
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, bound_port(site)


def config(n: int, target_port: int, listen_port: int) -> str:
    services = fleet_services(n, f"http://127.0.0.1:{target_port}")
    return json.dumps(
        {
            "listen": f"127.0.0.1:{listen_port}",
            "defaults": {"interval": "60s", "timeout": "5s"},
            "services": services,
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


async def until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
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

    await until(listening, timeout, "daemon listening")


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


async def measure(n: int) -> dict[str, float]:
    runner, target_port = await fleet_server()
    listen = free_port()
    base = f"http://127.0.0.1:{listen}"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "monitor.yaml"
        path.write_text(config(n, target_port, listen))
        started = time.perf_counter()
        daemon = start_daemon(path, Path(directory))
        out: dict[str, float] = {"services": n}
        try:
            timeout = aiohttp.ClientTimeout(total=600)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                await wait_listening(session, base)
                out["startup_s"] = time.perf_counter() - started
                await wait_first_round(session, base)
                out["first_round_s"] = time.perf_counter() - started
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
                for key, query in (
                    ("status_all", ""),
                    ("status_unhealthy", "?status=unhealthy,degraded"),
                    ("status_page100", "?limit=100"),
                    ("status_one", f"?service=s{n // 2:06d}"),
                ):
                    seconds, body = await timed_get(session, base + "/status" + query, **identity)
                    out[f"{key}_s"], out[f"{key}_mb"] = seconds, len(body) / 1e6
                seconds, body = await timed_get(
                    session, base + "/status", **{"Accept-Encoding": "gzip"}
                )
                out["status_all_gzip_s"] = seconds
                seconds, body = await timed_get(session, base + "/", **identity)
                out["page_s"], out["page_mb"] = seconds, len(body) / 1e6
                out["rss_mb"] = rss_mb(daemon.pid)
        finally:
            stop(daemon, grace=60.0)
            await runner.cleanup()
    return out


def main(sizes: list[int]) -> None:
    print(f"load average before: {os.getloadavg()}")
    for n in sizes:
        row = asyncio.run(measure(n))
        print(json.dumps({k: round(v, 4) for k, v in row.items()}), flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
