"""The paging storm, ours and a real Alertmanager's: 30 services fall within one second.

Ours: `tests/storm.py` on a simulated clock (default grouping: 30 s wait, 5 m interval), every
receiver a real loopback server. Alertmanager's: the binary with the same grouping as its own
defaults (`group_by: [alertname]`, 30 s, 5 m) and a webhook to a loopback recorder; the 30 alerts
are posted as they fall (one POST each, over one second) and resolved 60 s later, in real time,
so that half takes about six minutes.

    python bench/storm.py              # both
    python bench/storm.py --ours       # only ours (seconds)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web

from tests.alerting_fixtures import serve_posts
from tests.conftest import recording
from tests.storm import HTTP_RECEIVERS, SERVICES, simulate

AM_CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: {hook}
"""


async def ours() -> None:
    async with aiohttp.ClientSession() as session, contextlib.AsyncExitStack() as stack:
        recorders = {n: await stack.enter_async_context(recording()) for n in HTTP_RECEIVERS}
        storm = await simulate(Path(tempfile.mkdtemp()), session, recorders)
    print("ours (simulated clock; seconds after the first service fell):")
    for r in storm.received:
        line = f"{r.receiver:5} t={r.at:6.1f}s {r.status:8} {r.size:6} bytes"
        print(f"  {line} names {len(r.services)}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def alertmanager() -> None:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        raise SystemExit("prometheus-alertmanager is not installed")
    got: list[tuple[float, str, int, int]] = []
    arrived = asyncio.Event()
    start = time.monotonic()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        data: dict[str, Any] = json.loads(body)
        got.append((time.monotonic() - start, data["status"], len(body), len(data["alerts"])))
        arrived.set()
        return web.Response(text="ok")

    runner, base = await serve_posts(hook)
    hook_url = base + "/"
    workdir = Path(tempfile.mkdtemp())
    (workdir / "am.yml").write_text(AM_CONFIG.format(hook=hook_url))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={workdir / 'am.yml'}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # bounded: 10 s
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(url + "/-/ready") as answer:
                        if answer.status == 200:
                            break
                await asyncio.sleep(0.1)
            started = datetime.now(UTC)

            def alert(name: str, ends: datetime | None) -> dict[str, Any]:
                return {
                    "labels": {"alertname": "ServiceDown", "service": name},
                    "startsAt": started.isoformat(),
                    "endsAt": (ends or started + timedelta(hours=1)).isoformat(),
                }

            start = time.monotonic()
            for name in SERVICES:  # as they fall, over one second
                async with session.post(url + "/api/v2/alerts", json=[alert(name, None)]):
                    pass
                await asyncio.sleep(1 / len(SERVICES))
            await asyncio.sleep(60 - (time.monotonic() - start))
            for name in SERVICES:
                ends = datetime.now(UTC)
                async with session.post(url + "/api/v2/alerts", json=[alert(name, ends)]):
                    pass
                await asyncio.sleep(1 / len(SERVICES))
            deadline = time.monotonic() + 420
            while time.monotonic() < deadline and not any(s == "resolved" for _, s, _, _ in got):
                arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=10)
        await runner.cleanup()
    print("Alertmanager (real time; seconds after the first alert was posted):")
    for at, status, size, alerts in got:
        print(f"  hook  t={at:6.1f}s {status:8} {size:6} bytes alerts {alerts}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", action="store_true", help="only our storm")
    args = parser.parse_args()
    await ours()
    if not args.ours:
        await alertmanager()


if __name__ == "__main__":
    asyncio.run(main())
