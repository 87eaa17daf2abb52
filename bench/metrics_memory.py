"""Memory per check and CPU per run of MonitorMetrics (monitor/metrics/), and /metrics render
time.

Each case runs in a fresh interpreter so that RSS belongs to that case alone:

    python bench/metrics_memory.py                     # 1,000 / 10,000 / 100,000 checks
    python bench/metrics_memory.py --checks 10000 --one

A case builds N checks (half rpc, half http, 10 per service) and their states *before* the
first RSS reading, so the figure is what the metrics alone add: declare all, one observe()
and observe_latency() per check, then observe_latency_windows() for the three default windows
(p95, over-target share and burn rate all present, as on a warmed-up daemon). Then it times
steady-state runs (observe + observe_latency, as the daemon calls them per answer), a full
refresh of the window gauges, and `generate_latest` of the whole registry.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry, generate_latest

from monitor.config import Check
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import CheckKind, Reason, Status, Verdict
from monitor.state import advance

WINDOWS = ("1m", "5m", "1h")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_case(n: int) -> dict[str, float]:
    kinds = (CheckKind.RPC, CheckKind.HTTP)
    checks = [
        Check(
            service=f"svc-{i // 10:05d}",
            name=f"check-{i % 10}",
            kind=kinds[i % 2],
            url=f"http://127.0.0.1:1/{i}",
            method="GET",
            interval=30.0,
            timeout=5.0,
            target=0.005 if i % 2 == 0 else 0.05,
            max_body_bytes=65536,
            max_redirects=0,
        )
        for i in range(n)
    ]
    services = sorted({c.service for c in checks})
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    ok = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="ok")
    states = [advance(None, ok, t0, 0.002) for _ in checks]
    nexts = [advance(s, ok, t0 + timedelta(seconds=30), 0.003) for s in states]
    gc.collect()
    base = _rss_bytes()

    started = time.perf_counter()
    metrics = MonitorMetrics(CollectorRegistry(), "bench")
    metrics.declare(checks, services)
    declare_s = time.perf_counter() - started
    for check, state in zip(checks, states, strict=True):
        metrics.observe_latency(check, 0.002)
        metrics.observe(check, state, None)
    for service in services:
        metrics.observe_service(service, Status.HEALTHY)
    rows = [(w, 0.004, 0.01) for w in WINDOWS]
    started = time.perf_counter()
    for check in checks:
        metrics.observe_latency_windows(check, rows, True)
    windows_s = time.perf_counter() - started
    gc.collect()
    after = _rss_bytes()

    started = time.perf_counter()
    for check, state, nxt in zip(checks, states, nexts, strict=True):
        metrics.observe_latency(check, 0.003)
        metrics.observe(check, nxt, state)
    observe_s = time.perf_counter() - started

    gc.collect()
    started = time.perf_counter()
    gc.collect()
    gc_s = time.perf_counter() - started

    rss_before_render = _peak_rss_bytes()
    render = getattr(metrics, "render", None)  # absent before the flat collector
    text_s, text_bytes = math.nan, 0
    if render is not None:
        started = time.perf_counter()
        text_bytes = sum(len(chunk) for chunk in render())
        text_s = time.perf_counter() - started
    peak_text = _peak_rss_bytes()
    started = time.perf_counter()
    body = generate_latest(metrics.registry)
    render_s = time.perf_counter() - started
    return {
        "checks": n,
        "rss_base_mb": base / 1e6,
        "rss_after_mb": after / 1e6,
        "peak_before_render_mb": rss_before_render / 1e6,
        "peak_text_render_mb": peak_text / 1e6,
        "peak_rss_mb": _peak_rss_bytes() / 1e6,
        "bytes_per_check": (after - base) / n,
        "declare_us_per_check": declare_s / n * 1e6,
        "observe_us": observe_s / n * 1e6,
        "windows_us_per_check": windows_s / n * 1e6,
        "full_gc_ms": gc_s * 1e3,
        "render_ms": render_s * 1e3,
        "render_mb": len(body) / 1e6,
        "text_ms": text_s * 1e3,
        "text_mb": text_bytes / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, nargs="*", default=[1000, 10_000, 100_000])
    parser.add_argument("--one", action="store_true", help="run in this process (internal)")
    parser.add_argument("--json", action="store_true", help="also print the raw rows")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_case(args.checks[0])))
        return
    rows = []
    for n in args.checks:
        out = subprocess.run(
            [sys.executable, __file__, "--one", "--checks", str(n)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append(json.loads(out))
    print(
        "| checks | bytes/check | RSS base → after | observe µs | windows µs | full GC | "
        "render() (peak RSS) | generate_latest (peak RSS) | text |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['checks']:,} | {r['bytes_per_check']:,.0f} | "
            f"{r['rss_base_mb']:.0f} → {r['rss_after_mb']:.0f} MB | {r['observe_us']:.1f} | "
            f"{r['windows_us_per_check']:.1f} | {r['full_gc_ms']:.0f} ms | "
            f"{r['text_ms']:.0f} ms ({r['peak_text_render_mb']:.0f} MB) | "
            f"{r['render_ms']:.0f} ms ({r['peak_rss_mb']:.0f} MB) | {r['render_mb']:.1f} MB |"
        )
    if "--json" in sys.argv:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
