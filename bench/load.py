"""`monitor load`, wrk and hey side by side against the same loopback server, with the truth.

    python bench/load.py --duration 30            # the table in docs/benchmarks.md
    python bench/load.py --max-rate --duration 10 # the highest rate, against nginx

The server is tests/load_server.py in its own process (with BENCH_PIN=1 on CPU 1, the tools
on CPU 0; unpinned by default: on a shared machine pinning queues them behind others' work):
it holds each request for a lognormal delay (median 2 ms) and, in the stall case, stops for
200 ms once a second. Its record of every request (kernel receive time, start of work,
answer written) gives the truth: what a perfect open-loop client sending at the requested
rate would see, i.e. for request slot k due at t_k = start + k / rate, the wait until the stall
ended if t_k fell in one, plus a hold the server recorded (the held time of its requests,
stall waits taken out, in order). Quantiles are nearest-rank on exact samples.

Tools: `monitor load --rate R` (open loop, latency from the intended send time); hey with
`-c 10 -q R/10` (closed loop, a worker waits for each answer, then for its ticker); wrk with
`-t1 -c10` and a Lua `delay()` of 10 ms minus the median hold (closed loop: wrk 4 has no rate;
its report back-fills samples for what it thinks it missed, `stats_correct`).

`--max-rate` raises `monitor load`'s rate against nginx (Debian's nginx-light, one worker:
a Python server saturates first) until the rate is no longer sent, printing the send lag and
the CPU it used at each, then runs wrk unthrottled (`-t1 -c10`) against the same nginx.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import io
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WRK_DONE = """
local d = tonumber(os.getenv("WRK_DELAY_MS") or "0")
function delay() return d end
function done(summary, latency, requests)
  io.write(string.format("requests %d\\n", summary.requests))
  io.write(string.format("duration_us %d\\n", summary.duration))
  for _, p in ipairs({50, 95, 99}) do
    io.write(string.format("p%d %d\\n", p, latency:percentile(p)))
  end
end
"""


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(command: list[str], **kwargs: Any) -> tuple[str, float]:
    """stdout and the CPU seconds the command used (its own and its children's)."""
    before = children_cpu_s()
    out = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs).stdout
    return out, children_cpu_s() - before


def nearest_rank(ordered: list[float], q: float) -> float:
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def pinned(cpu: int, command: list[str]) -> list[str]:
    return (
        ["taskset", "-c", str(cpu), *command] if os.cpu_count() and os.cpu_count() > 1 else command
    )


class Server:
    def __init__(self, tmp: Path, stall: float, median: float) -> None:
        self.record = tmp / f"record-{time.monotonic_ns()}.json"
        command = [sys.executable, "-m", "tests.load_server", str(self.record)]
        command += ["--stall", str(stall), "--median", str(median)]
        self.process = subprocess.Popen(
            pinned(1, command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{self.process.stdout.readline().strip()}/"

    def stop(self) -> dict[str, list[list[float]]]:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        data: dict[str, list[list[float]]] = json.loads(self.record.read_text())
        return data


def truth(record: dict[str, list[list[float]]], rate: float, skip_s: float) -> list[float]:
    """The latencies a perfect open-loop client would have seen over the recorded run."""
    requests = sorted(record["requests"])
    first = requests[0][0] + skip_s
    requests = [r for r in requests if r[0] >= first]
    stalls = sorted(record["stalls"])
    starts = [s for s, _ in stalls]

    def stall_wait(t: float) -> float:
        i = bisect.bisect_right(starts, t) - 1
        return max(0.0, stalls[i][1] - t) if i >= 0 else 0.0

    holds = [written - (arrival + stall_wait(arrival)) for arrival, _, written in requests]
    end = requests[-1][0]
    slots = int((end - first) * rate)
    return sorted(stall_wait(first + k / rate) + holds[k % len(holds)] for k in range(slots))


def run_monitor(url: str, rate: float, duration: float) -> dict[str, float]:
    command = [sys.executable, "-m", "monitor", "load", url, "--rate", f"{rate:g}/s"]
    command += ["--duration", f"{duration:g}s", "--warmup", "5s", "--json", "--exceed-caps"]
    out, cpu = measured(pinned(0, command), cwd=ROOT)
    data = json.loads(out)
    lag = next(t for t in data["thresholds"] if t["name"] == "send_lag_p99_ms")
    return {
        "achieved": data["achieved_rate"],
        "p50": data["latency_ms"]["p50"],
        "p95": data["latency_ms"]["p95"],
        "p99": data["latency_ms"]["p99"],
        "lag_p99": lag["value"],
        "schedule_held": lag["ok"],
        "cpu": cpu / (duration + 5.0),
        "service": [data["service_time_ms"][q] for q in ("p50", "p95", "p99")],
    }


def run_hey(url: str, rate: float, duration: float) -> dict[str, float]:
    workers = 10
    command = ["hey", "-z", f"{duration:g}s", "-c", str(workers), "-q", f"{rate / workers:g}"]
    command += ["-o", "csv", url]
    env = {**os.environ, "GOMAXPROCS": "1"}
    out, cpu = measured(pinned(0, command), env=env)
    rows = list(csv.DictReader(io.StringIO(out)))
    times = sorted(float(r["response-time"]) * 1000 for r in rows if r["status-code"] == "200")
    return {
        "achieved": len(rows) / duration,
        "cpu": cpu / duration,
        **{f"p{q}": nearest_rank(times, q / 100) for q in (50, 95, 99)},
    }


def run_wrk(url: str, rate: float, duration: float, delay_ms: int) -> dict[str, float]:
    connections = 10
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_DONE)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "-s", script.name, url]
    env = {**os.environ, "WRK_DELAY_MS": str(delay_ms)}
    out, cpu = measured(pinned(0, command), env=env)
    Path(script.name).unlink()
    values = dict(line.split() for line in out.splitlines() if line[:1] in "prd" and " " in line)
    seconds = int(values["duration_us"]) / 1e6
    return {
        "achieved": int(values["requests"]) / seconds,
        "cpu": cpu / seconds,
        **{f"p{q}": int(values[f"p{q}"]) / 1000 for q in (50, 95, 99)},
    }


def compare(tmp: Path, rate: float, duration: float, stall: float) -> list[str]:
    rows = []
    for tool in ("monitor load", "hey", "wrk"):  # one fresh server each: its record is the truth
        server = Server(tmp, stall, 0.002)
        try:
            if tool == "monitor load":
                got = run_monitor(server.url, rate, duration)
                skip = 5.0
            elif tool == "hey":
                got, skip = run_hey(server.url, rate, duration), 0.0
            else:
                got, skip = run_wrk(server.url, rate, duration, 10 - 2), 0.0
        finally:
            record = server.stop()
        true = truth(record, rate, skip)
        t50, t95, t99 = (nearest_rank(true, q) * 1000 for q in (0.50, 0.95, 0.99))
        cells = [
            f"{got[f'p{q}']:.2f} ({(got[f'p{q}'] - t) / t * 100:+.0f} %)"
            for q, t in ((50, t50), (95, t95), (99, t99))
        ]
        extra = ""
        if "lag_p99" in got:
            service = " / ".join(f"{v:.2f}" for v in got["service"])
            extra = (
                f"service time {service}; send lag p99 {got['lag_p99']:.2f} ms, "
                f"schedule held: {got['schedule_held']}"
            )
        rows.append(
            f"| {'stall' if stall else 'steady'} | {tool} | {rate:g} | {got['achieved']:.1f} "
            f"| {got['cpu'] * 100:.0f} % "
            f"| {' | '.join(cells)} | {t50:.2f} / {t95:.2f} / {t99:.2f} | {extra} |"
        )
        print(rows[-1], flush=True)
    return rows


NGINX_CONF = """
daemon off; master_process off; worker_processes 1; error_log stderr error; pid {tmp}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off; keepalive_requests 10000000; keepalive_timeout 300s;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{ listen 127.0.0.1:{port}; default_type application/json;
           location / {{ return 200 '{{"status":"ok"}}'; }} }}
}}
"""


class Nginx:
    """A server one worker process of which answers far faster than any Python client asks:
    the generator, not the server, is what saturates (Debian's nginx-light)."""

    def __init__(self, tmp: Path) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
        self.process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp)])
        self.url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)  # a bench waiting for a child server to listen, bounded
        raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def max_rate(tmp: Path, duration: float) -> None:
    """Raise the rate until `monitor load` saturates its one core (the rate is not sent, or
    its send lag runs away), printing the send lag at each; then wrk unthrottled on the same
    server for the raw request rate."""
    nginx = Nginx(tmp)
    try:
        for rate in (1000, 2000, 4000, 6000, 8000, 10000, 12000, 15000, 20000):
            got = run_monitor(nginx.url, rate, duration)
            print(
                f"| monitor load | {rate} | {got['achieved']:.1f} | {got['cpu'] * 100:.0f} % "
                f"| {got['lag_p99']:.2f} | {got['schedule_held']} | {got['p99']:.2f} |",
                flush=True,
            )
            if got["achieved"] < rate * 0.99:
                break  # saturated: the rate is no longer sent
        got = run_wrk(nginx.url, 0, duration, 0)
        print(
            f"| wrk -t1 -c10, no delay | - | {got['achieved']:.1f} | {got['cpu'] * 100:.0f} % "
            f"| - | - | {got['p99']:.2f} |"
        )
    finally:
        nginx.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--max-rate", action="store_true")
    args = parser.parse_args()
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if args.max_rate:
            max_rate(tmp, min(args.duration, 10.0))
        else:
            for stall in (0.0, 0.2):
                compare(tmp, args.rate, args.duration, stall)
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)


if __name__ == "__main__":
    main()
