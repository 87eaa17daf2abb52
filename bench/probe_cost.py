"""CPU per request of the HTTP client alone: aiohttp, our probe, and our probe's connector.

A zero-delay endpoint in its own process; 16 concurrent loops in this one for 5 s per mode;
CPU from os.times(). Modes: `raw` (session.get + read on the daemon's timed connector),
`probe` (monitor.probes.http.probe_http on the timed connector, as the daemon runs it),
`plain` (probe_http on aiohttp's own connector and uvloop's transport).

    python bench/probe_cost.py                  # all three
    python bench/probe_cost.py probe plain
    python bench/probe_cost.py --tls            # the same over https (a test CA of our own)
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SECONDS = 5.0
WORKERS = 16


def serve(queue: Any, tls_dir: str | None) -> None:
    import ssl

    import uvloop
    from aiohttp import web

    from tests.loopback import serving

    async def health(_: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    async def main() -> None:
        context = None
        if tls_dir is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(f"{tls_dir}/valid.crt", f"{tls_dir}/valid.key")
        app = web.Application()
        app.router.add_get("/health", health)
        async with serving(app, tls=context) as url:
            queue.put(url)
            await asyncio.sleep(3600)

    uvloop.run(main())


async def measure(url: str, mode: str, tls: Any) -> str:
    import aiohttp

    from monitor.model import CheckKind
    from monitor.probes.http import probe_http
    from monitor.probes.timing import timed_connector
    from tests.check_builders import check_config

    check = check_config(
        service="bench",
        name="health",
        kind=CheckKind.HEALTH,
        url=url + "/health",
        interval=1.0,
        timeout=2.0,
        target=0.05,
    )
    options: dict[str, Any] = {"limit": 64} if tls is None else {"limit": 64, "ssl": tls}
    connector = aiohttp.TCPConnector(**options) if mode == "plain" else timed_connector(**options)
    done = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        stop = time.perf_counter() + SECONDS

        async def loop() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                if mode == "raw":
                    async with session.get(check.url) as response:
                        await response.read()
                else:
                    await probe_http(session, check)
                done += 1

        cpu0, wall0 = os.times(), time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(WORKERS)))
        cpu1, wall = os.times(), time.perf_counter() - wall0
    cpu = cpu1.user - cpu0.user + cpu1.system - cpu0.system
    return (
        f"{mode:>5}: {done / wall:,.0f} requests/s, CPU {cpu / wall * 100:.0f} % of a core, "
        f"{cpu / done * 1e6:.0f} us CPU per request"
    )


def main() -> int:
    import tempfile

    import uvloop

    from tests.certs import CertificateAuthority

    tls = "--tls" in sys.argv
    modes = [a for a in sys.argv[1:] if a != "--tls"] or ["raw", "probe", "plain"]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        client = None
        if tls:
            ca = CertificateAuthority()
            ca.server_context("valid", Path(tmp))  # writes valid.crt / valid.key
            client = ca.client_context()
        server = ctx.Process(target=serve, args=(queue, tmp if tls else None), daemon=True)
        server.start()
        try:
            url = queue.get(timeout=30)
            for mode in modes:
                print(uvloop.run(measure(url, mode, client)), flush=True)
        finally:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
