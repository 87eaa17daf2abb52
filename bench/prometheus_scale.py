"""A real Prometheus scraping the daemon at fleet scale (issue 18, "Prometheus at scale,
measured"): for N services on bench/outputs_scale.py's loopback fleet and config (a health
check each, one in ten with an rpc smoke path: 1.1 checks a service), the lean default or
`metrics: detailed`, Prometheus 2.42 (/usr/bin/prometheus) scrapes `monitor run` every 15 s for
a few minutes. Printed, one JSON line per run:

- scrape duration and samples per scrape, as Prometheus itself records them
  (`scrape_duration_seconds`, `scrape_samples_scraped`; median and max over the run);
- exposition size: one GET of /metrics by this script, plain and as Prometheus asks (gzip);
- Prometheus RSS at the end of the run (VmRSS of its process) and its TSDB head series;
- daemon CPU per scrape: the daemon's CPU time (utime + stime, all threads) in the scraped
  window, less its rate in the minute before Prometheus started (the probing and
  the first round's leftovers), over the scrapes in the window; and the daemon's CPU time
  during five GETs of /metrics in a row with Prometheus' headers (less the baseline), each one
  scrape measured alone.

Every wait is bounded; startup at 100,000 services takes minutes today, hence the timeouts.

    .venv/bin/python bench/prometheus_scale.py --minutes 3 10000:lean 10000:detailed [100000:lean]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.outputs_scale import (
    config,
    fleet_server,
    free_port,
    rss_mb,
    start_daemon,
    wait_first_round,
    wait_listening,
)
from tests.processes import stop
from tests.prometheus_server import start_prometheus

STARTUP_TIMEOUT = 900.0  # 100,000 services: minutes today
FIRST_ROUND_TIMEOUT = 600.0
SCRAPE_INTERVAL_S = 15
GETS = 5
TICK = os.sysconf("SC_CLK_TCK")
PROMETHEUS_HEADERS = {  # what Prometheus 2.42 sends when it scrapes
    "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
}


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, every thread included (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def query(session: aiohttp.ClientSession, base: str, expr: str) -> list[float]:
    async with session.get(f"{base}/api/v1/query", params={"query": expr}) as response:
        body: dict[str, Any] = await response.json()
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body.get('error')}")
    return [float(row["value"][1]) for row in body["data"]["result"]]


async def measure(n: int, mode: str, minutes: float, first_round: bool) -> dict[str, Any]:
    runner, target_port = await fleet_server()
    listen = free_port()
    base = f"http://127.0.0.1:{listen}"
    out: dict[str, Any] = {"services": n, "checks": n + n // 10, "metrics": mode}
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        document = json.loads(config(n, target_port, listen))
        document["metrics"] = mode
        (directory / "monitor.yaml").write_text(json.dumps(document))
        started = time.perf_counter()
        daemon = start_daemon(directory / "monitor.yaml", directory)
        prometheus: subprocess.Popen[bytes] | None = None
        try:
            timeout = aiohttp.ClientTimeout(total=600)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                await wait_listening(session, base, STARTUP_TIMEOUT)
                out["startup_s"] = round(time.perf_counter() - started, 1)
                if first_round:
                    await wait_first_round(session, base, FIRST_ROUND_TIMEOUT)
                    out["first_round_s"] = round(time.perf_counter() - started, 1)

                window = minutes * 60
                cpu_before, t_before = cpu_seconds(daemon.pid), time.monotonic()
                await asyncio.sleep(min(window, 60.0))  # the baseline: probing alone
                baseline_rate = (cpu_seconds(daemon.pid) - cpu_before) / (
                    time.monotonic() - t_before
                )

                async with session.get(
                    base + "/metrics", headers={"Accept-Encoding": "identity"}
                ) as response:
                    body = await response.read()
                out["exposition_mb"] = round(len(body) / 1e6, 2)
                out["exposition_bytes_per_check"] = round(len(body) / out["checks"])
                cpu_0, t_0 = cpu_seconds(daemon.pid), time.monotonic()
                for _ in range(GETS):
                    async with session.get(
                        base + "/metrics", headers=PROMETHEUS_HEADERS, auto_decompress=False
                    ) as response:
                        body = await response.read()
                probing = baseline_rate * (time.monotonic() - t_0)
                out["one_scrape_cpu_s"] = round(
                    (cpu_seconds(daemon.pid) - cpu_0 - probing) / GETS, 3
                )
                out["exposition_sent_mb"] = round(len(body) / 1e6, 2)
                out["exposition_encoding"] = response.headers.get("Content-Encoding", "identity")

                interval = f"{SCRAPE_INTERVAL_S}s"
                prometheus, prom_url = start_prometheus(
                    directory, f"127.0.0.1:{listen}", interval, timeout=interval
                )
                cpu_start, t_start = cpu_seconds(daemon.pid), time.monotonic()
                await asyncio.sleep(window)
                cpu_used = cpu_seconds(daemon.pid) - cpu_start
                elapsed = time.monotonic() - t_start
                out["prometheus_rss_mb"] = round(rss_mb(prometheus.pid))
                out["daemon_rss_mb"] = round(rss_mb(daemon.pid))
                out["minutes"] = round(elapsed / 60, 2)

                span = f"[{round(elapsed)}s]"
                scrapes = await query(
                    session, prom_url, f'count_over_time(up{{job="monitor"}}{span})'
                )
                ups = await query(session, prom_url, f'sum_over_time(up{{job="monitor"}}{span})')
                async with session.get(
                    f"{prom_url}/api/v1/query",
                    params={"query": f'scrape_duration_seconds{{job="monitor"}}{span}'},
                ) as response:
                    raw = await response.json()
                seconds = [float(v) for _, v in raw["data"]["result"][0]["values"]]
                samples = await query(
                    session,
                    prom_url,
                    f'max_over_time(scrape_samples_scraped{{job="monitor"}}{span})',
                )
                async with session.get(f"{prom_url}/metrics") as response:
                    own = await response.text()
                head = [
                    float(line.split()[-1])
                    for line in own.splitlines()
                    if line.startswith("prometheus_tsdb_head_series ")
                ]
                count = scrapes[0] if scrapes else 0.0
                out |= {
                    "scrapes": int(count),
                    "scrapes_up": int(ups[0]) if ups else 0,
                    "scrape_duration_median_s": round(statistics.median(seconds), 3),
                    "scrape_duration_max_s": round(max(seconds), 3),
                    "samples_per_scrape": int(samples[0]) if samples else 0,
                    "head_series": int(head[0]) if head else 0,
                    "daemon_cpu_per_scrape_s": round(
                        (cpu_used - baseline_rate * elapsed) / count, 3
                    ) if count else None,
                    "daemon_cpu_baseline_cores": round(baseline_rate, 3),
                }  # fmt: skip
        finally:
            if prometheus is not None:
                stop(prometheus, grace=60.0)
            stop(daemon, grace=60.0)
            await runner.cleanup()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="scraped window per run")
    parser.add_argument(
        "--skip-first-round",
        action="store_true",
        help="scrape without waiting for every check to have run once (every series exists "
        "from the start; at 100,000 on a loaded machine the first round outlasts the run)",
    )
    parser.add_argument("runs", nargs="*", default=["10000:lean", "10000:detailed"])
    args = parser.parse_args()
    for run in args.runs:
        n, _, mode = run.partition(":")
        print(f"load average before: {Path('/proc/loadavg').read_text().strip()}", flush=True)
        row = asyncio.run(measure(int(n), mode or "lean", args.minutes, not args.skip_first_round))
        print(json.dumps(row), flush=True)
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}", flush=True)


if __name__ == "__main__":
    main()
