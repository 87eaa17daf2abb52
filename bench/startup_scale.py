"""Start-up and reload of `monitor run` at fleet scale (issue 18), in CPU seconds as well as
wall (CPU holds under a loaded machine's contention better): for N services written as
bench/outputs_scale.py writes them (JSON, and `--yaml` block style), against one loopback
server, a 60 s interval. Start-up is process start to `/healthz` answering; reload is
`POST /-/reload` of the file with every interval changed (every check reschedules), after
`--settle` seconds of checks running. Also the config parse alone (both formats) and its RSS
per endpoint, in a fresh interpreter. Every wait is bounded.

    .venv/bin/python bench/startup_scale.py 100000 [--yaml] [--settle 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.outputs_scale import (
    ADMIN_TOKEN,
    config,
    fleet_server,
    free_port,
    parse_alone,
    rss_mb,
    start_daemon,
    wait_listening,
)
from tests.processes import cpu_seconds, stop


def written(n: int, target: int, listen: int, interval: int, as_yaml: bool) -> str:
    text = config(n, target, listen, ADMIN_TOKEN, interval=interval)
    return yaml.dump(json.loads(text), Dumper=yaml.CSafeDumper) if as_yaml else text


async def measure(n: int, as_yaml: bool, settle: float) -> dict[str, float]:
    runner, target = await fleet_server()
    listen = free_port()
    base = f"http://127.0.0.1:{listen}"
    out: dict[str, float] = {"services": n}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "monitor.yaml"
        for form, yes in (("json", False), ("yaml", True)):
            path.write_text(written(n, target, listen, 60, yes))
            alone = parse_alone(path)
            out[f"parse_{form}_cpu_s"] = alone["cpu_s"]
            out[f"config_{form}_rss_bytes_per_endpoint"] = alone["rss_bytes_per_endpoint"]
        path.write_text(written(n, target, listen, 60, as_yaml))
        started = time.perf_counter()
        daemon = start_daemon(path, Path(directory))
        try:
            timeout = aiohttp.ClientTimeout(total=600)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                await wait_listening(session, base)
                out["startup_s"] = time.perf_counter() - started
                out["startup_cpu_s"] = cpu_seconds(daemon.pid)
                out["rss_mb_listening"] = rss_mb(daemon.pid)
                await asyncio.sleep(settle)  # checks running, as a reload meets them
                path.write_text(written(n, target, listen, 61, as_yaml))
                cpu, started = cpu_seconds(daemon.pid), time.perf_counter()
                async with session.post(
                    base + "/-/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
                ) as response:
                    assert response.status == 200, await response.text()
                out["reload_s"] = time.perf_counter() - started
                out["reload_cpu_s"] = cpu_seconds(daemon.pid) - cpu  # the probing's share too
        finally:
            stop(daemon, grace=60.0)
            await runner.cleanup()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000])
    parser.add_argument("--yaml", action="store_true", help="run the daemon on block YAML")
    parser.add_argument("--settle", type=float, default=20.0)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    for n in args.sizes:
        row = asyncio.run(measure(n, args.yaml, args.settle))
        print(json.dumps({k: round(v, 3) for k, v in row.items()}), flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
