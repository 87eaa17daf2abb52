"""Memory per check and record() cost of monitor.latency.LatencyWindows.

Each case runs in a fresh interpreter so that peak RSS belongs to that case alone:

    python bench/latency_memory.py            # every case, a table at the end (a few minutes)
    python bench/latency_memory.py --case realistic --checks 10000 [--tracemalloc]

Profiles (each check gets two hours of samples ending at `now`: all three rings are full and
have rotated, so sub-buckets waiting for a sweep are counted too - the steady state):
  realistic  one sample every 30 s (120 an hour), lognormal: half the checks RPC-like
             (p95 3 ms), half HTTP-like (p95 40 ms)
  heavy      1,000 samples a minute (60,000 an hour), same mix
Budgets from issue 3: peak RSS <= 150 MB at 10,000 checks, <= 1.5 GB at 100,000.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.latency import LatencyWindows

Z95 = 1.6448536269514722
PROFILES = {"realistic": 30.0, "heavy": 0.06}  # seconds between samples
HOUR = 3600.0
FILL = 2 * HOUR
NOW = 100_000.0


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _pool(size: int = 1 << 16) -> tuple[array[float], array[float]]:
    """Pre-drawn samples, so that drawing does not weigh on the figures."""
    rng = random.Random(42)
    rpc = array("d", (rng.lognormvariate(math.log(0.003) - Z95 * 0.5, 0.5) for _ in range(size)))
    http = array("d", (rng.lognormvariate(math.log(0.040) - Z95 * 0.6, 0.6) for _ in range(size)))
    return rpc, http


def run_case(profile: str, checks: int, trace: bool) -> dict[str, float]:
    interval = PROFILES[profile]
    rpc, http = _pool()
    mask = len(rpc) - 1
    per_check = int(FILL / interval)
    if trace:
        tracemalloc.start()
    base_rss = _rss_bytes()
    base_traced = tracemalloc.get_traced_memory()[0] if trace else 0
    started = time.perf_counter()
    fleet = []
    j = 0
    for c in range(checks):
        pool, target = (rpc, 0.005) if c % 2 == 0 else (http, 0.050)
        lw = LatencyWindows(target)
        offset = (c * 7.919) % interval  # checks are not in phase
        for i in range(per_check):
            lw.record(pool[j & mask], NOW - FILL + offset + i * interval)
            j += 1
        fleet.append(lw)
    fill_s = time.perf_counter() - started
    traced = (tracemalloc.get_traced_memory()[0] - base_traced) if trace else 0
    if trace:
        tracemalloc.stop()
    rss = _rss_bytes() - base_rss
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sizeof = sum(lw.__sizeof__() for lw in fleet)

    # record() on warm checks: keep feeding the fleet, one sample each, round robin
    n = min(200_000, max(20_000, checks * 2))
    t = NOW + 1.0
    started = time.perf_counter()
    for k in range(n):
        fleet[k % checks].record(rpc[k & mask], t + k * (interval / max(1, checks)))
    record_us = (time.perf_counter() - started) / n * 1e6

    started = time.perf_counter()
    reads = min(checks, 20_000)
    for lw in fleet[:reads]:
        for window in lw.windows:
            lw.summary(window, NOW)
    summary_us = (time.perf_counter() - started) / (reads * 3) * 1e6
    return {
        "checks": checks,
        "samples_per_check": per_check,
        "fill_s": round(fill_s, 1),
        "sizeof_per_check": round(sizeof / checks),
        "traced_per_check": round(traced / checks) if trace else -1,
        "rss_per_check": round(rss / checks),
        "peak_rss_mb": round(peak_rss / 2**20, 1),
        "record_us": round(record_us, 2),
        "summary_us": round(summary_us, 1),
    }


CASES = [
    ("realistic", 10_000, True),
    ("realistic", 10_000, False),
    ("realistic", 100_000, False),
    ("heavy", 20, True),
    ("heavy", 100, False),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(PROFILES))
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    if args.case:
        result = run_case(args.case, args.checks, args.tracemalloc)
        print(json.dumps({"profile": args.case, **result}))
        return
    rows = []
    for profile, checks, trace in CASES:
        command = [sys.executable, __file__, "--case", profile, "--checks", str(checks)]
        out = subprocess.run(
            [*command, *(["--tracemalloc"] if trace else [])],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        row = json.loads(out)
        row["tracemalloc"] = trace
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    print(
        f"{'profile':<10} {'checks':>7} {'samples':>7} {'tm':>3} {'sizeof B':>9} "
        f"{'traced B':>9} {'RSS B':>7} {'peak MB':>8} {'rec us':>7} {'sum us':>7}"
    )
    for r in rows:
        print(
            f"{r['profile']:<10} {r['checks']:>7} {r['samples_per_check']:>7} "
            f"{'y' if r['tracemalloc'] else 'n':>3} {r['sizeof_per_check']:>9} "
            f"{r['traced_per_check'] if r['tracemalloc'] else '-':>9} {r['rss_per_check']:>7} "
            f"{r['peak_rss_mb']:>8} {r['record_us']:>7} {r['summary_us']:>7}"
        )


if __name__ == "__main__":
    main()
