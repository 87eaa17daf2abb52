"""Cost of one check of each kind on the client side: CPU µs and memory, and CEL's own cost.

Servers run in other processes (an aiohttp app on http and https with a test CA, a tcp banner
server, the official MCP SDK server from tests/), so this process's CPU is the probe and the
normalizer only. Each kind runs `--runs` checks one after another on the daemon's connector
(keep-alive as in the daemon), after a warm-up; CPU from time.process_time(), memory as
tracemalloc's peak above the baseline while one check runs (what a check in flight holds).

    python bench/kind_cost.py                 # 300 checks a kind (mcp 100)
    python bench/kind_cost.py --runs 1000
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EXPRESSION = 'json.id != "" && headers["content-type"].startsWith("application/json")'


def serve(queue: Any, tls_dir: str) -> None:
    import ssl

    from aiohttp import web

    from monitor.http.app import bound_port
    from tests.loopback import start_site

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "id": "a1", "rows": 3})

    async def banner(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 bench ready\r\n")
        await writer.drain()
        writer.close()

    async def main() -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(f"{tls_dir}/s.crt", f"{tls_dir}/s.key")
        ports = []
        for tls in (None, context):
            app = web.Application()
            app.router.add_get("/health", health)
            _, site = await start_site(app, tls=tls)
            ports.append(bound_port(site))
        tcp = await asyncio.start_server(banner, "127.0.0.1", 0)
        ports.append(tcp.sockets[0].getsockname()[1])
        queue.put(ports)
        await asyncio.sleep(3600)

    asyncio.run(main())


def config_text(http: int, https: int, tcp: int, mcp: int, legacy: int, ca: str) -> str:
    return f"""
defaults: {{tls: {{ca_file: {ca}}}}}
services:
  - name: plain
    url: http://127.0.0.1:{http}
    http:
      - {{name: cel, path: /health, expect: {{cel: '{EXPRESSION}'}}}}
    tcp:
      - {{name: connect, address: "127.0.0.1:{tcp}"}}
      - {{name: banner, address: "127.0.0.1:{tcp}", expect_banner: "^220 "}}
  - name: secure
    url: https://127.0.0.1:{https}
  - name: tools
    url: http://127.0.0.1:{mcp}
    mcp:
      - {{name: tools, path: /mcp, expect_tools: [search, fetch]}}
      - {{name: handshake, path: /mcp, expect_tools: [search, fetch], revision: "2025-11-25"}}
  - name: legacy
    url: http://127.0.0.1:{legacy}
    mcp: [{{name: fallback, path: /mcp, expect_tools: [search, fetch]}}]
"""


async def measure(text: str, runs: int) -> list[tuple[str, float, int, str]]:
    import aiohttp

    from monitor.config import parse_config
    from monitor.normalize import normalize_response
    from monitor.probes import probe_for
    from monitor.probes.timing import timed_connector

    rows = []
    checks = [
        c
        for c in parse_config(text).checks()
        if c.name != "health" or c.service not in ("tools", "legacy")
    ]
    async with aiohttp.ClientSession(connector=timed_connector(limit=64)) as session:
        for check in checks:
            n = runs // 3 if check.kind.value == "mcp" else runs
            for _ in range(5):  # warm-up: connections, contexts, compiled programs
                verdict = normalize_response(await probe_for(check)(session, check))
            started = time.process_time()
            for _ in range(n):
                verdict = normalize_response(await probe_for(check)(session, check))
            cpu = (time.process_time() - started) / n * 1e6
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            normalize_response(await probe_for(check)(session, check))
            peak = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
            label = f"{check.kind.value} {check.service}/{check.name}"
            rows.append((label, cpu, peak, f"{verdict.status.value}/{verdict.reason.value}"))
    return rows


def cel_cost(loops: int) -> list[tuple[str, float]]:
    from monitor.answer import Answer
    from monitor.expectations import Expectation
    from monitor.expectations.program import evaluate
    from monitor.normalize import normalize_response

    body = b'{"status":"ok","id":"a1","rows":3}'
    headers = {"content-type": "application/json"}
    plain = Answer(url="u", status_code=200, headers=headers, body=body)
    judged = Answer(
        url="u", status_code=200, headers=headers, body=body, expect=Expectation(cel=EXPRESSION)
    )
    variables = {"json": {"id": "a1"}, "headers": headers}
    big = b'{"items":[' + b",".join(b'{"n":%d}' % i for i in range(3000)) + b"]}"
    many = Answer(
        url="u",
        status_code=200,
        headers=headers,
        body=big,
        expect=Expectation(cel="json.items.all(i, i.n >= 0)"),
    )
    out = []
    for label, work in (
        ("evaluate() alone", lambda: evaluate(EXPRESSION, variables)),
        ("normalize, no expectation", lambda: normalize_response(plain)),
        ("normalize + expectation", lambda: normalize_response(judged)),
        ("normalize + all() over 3,000 items (37 KB)", lambda: normalize_response(many)),
    ):
        count = loops if "3,000" not in label else loops // 50
        started = time.process_time()
        for _ in range(count):
            work()
        out.append((label, (time.process_time() - started) / count * 1e6))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from tests.certs import CertificateAuthority

    with tempfile.TemporaryDirectory() as tls_dir:
        authority = CertificateAuthority(valid_days=400)
        cert, key = authority.leaf(valid_days=300)
        Path(tls_dir, "s.crt").write_bytes(cert)
        Path(tls_dir, "s.key").write_bytes(key)
        Path(tls_dir, "ca.pem").write_text(authority.cert_pem)
        queue: Any = mp.Queue()
        server = mp.Process(target=serve, args=(queue, tls_dir), daemon=True)
        server.start()
        http, https, tcp = queue.get(timeout=30)
        procs = [  # the SDK serving both eras, and as a server of the handshake era only
            subprocess.Popen(
                [sys.executable, "-m", "tests.mcp_server", "json", *modes],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            for modes in ((), ("legacy",))
        ]
        try:
            mcp, legacy = (int(p.stdout.readline()) for p in procs if p.stdout is not None)
            text = config_text(http, https, tcp, mcp, legacy, f"{tls_dir}/ca.pem")
            rows = asyncio.run(measure(text, args.runs))
        finally:
            for proc in procs:
                if proc.stdin is not None and proc.stdout is not None:
                    proc.stdin.close()
                    proc.wait(timeout=30)
                    proc.stdout.close()
            server.terminate()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'check':<32} {'CPU µs':>9} {'peak KiB':>9}  verdict")
    for label, cpu, peak, verdict in rows:
        print(f"{label:<32} {cpu:>9.0f} {peak / 1024:>9.1f}  {verdict}")
    print()
    for label, micros in cel_cost(20_000):
        print(f"{label:<44} {micros:>8.1f} µs")


if __name__ == "__main__":
    main()
