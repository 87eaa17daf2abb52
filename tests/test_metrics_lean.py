"""The lean series set, the default (issue 18): at most 16 series and 1.5 KB of text a check
for the seed, one histogram whose bounds hold the check's own target, and `metrics: detailed`
(globally or per service) bringing back the full set."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from monitor.config import parse_config
from monitor.errors import ConfigError
from monitor.metrics.check_series import CheckSeries
from monitor.metrics.daemon_metrics import LATENCY_BUCKETS, MonitorMetrics
from monitor.metrics.exposition import text_chunks
from monitor.metrics.histograms import lean_bounds
from monitor.model import Reason, Status

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "examples" / "monitor.yaml").read_text()
NOW = 1_764_489_600.123  # 2025-11-30: a timestamp as long as a real one


def rendered(config_text: str) -> tuple[int, bytes]:
    """(checks, per-check and per-service text) after one run of every check."""
    config = parse_config(config_text)
    metrics = MonitorMetrics(CollectorRegistry(), "test")
    checks = config.checks()
    metrics.declare(checks, [s.name for s in config.services])
    for check in checks:
        labels = (check.service, check.name, check.kind.value)
        metrics.checks.observe(labels, Status.HEALTHY, Reason.OK, 0.0031, NOW, NOW, True, True)
        metrics.observe_latency(check, 0.0031)
        metrics.observe_service(check.service, Status.HEALTHY)
    return len(checks), b"".join(text_chunks(metrics.checks))


def series(text: bytes) -> list[str]:
    return [line for line in text.decode().splitlines() if not line.startswith("#")]


def test_the_seed_exports_at_most_16_series_and_1_5_kb_a_check() -> None:
    checks, text = rendered(SEED)
    assert checks == 14  # the demo fleet: health, rpc, http, mcp and tcp checks
    assert len(series(text)) / checks <= 16  # 206 series: 14.7 a check
    assert len(text) / checks <= 1536  # HELP/TYPE lines included


def test_detailed_brings_back_the_full_set() -> None:
    checks, text = rendered("metrics: detailed\n" + SEED.split("\n", 1)[1])
    assert len(series(text)) / checks > 60
    assert b"monitor_check_duration_seconds_bucket" in text
    assert b"monitor_checks_created" in text


def test_detailed_per_service_only_widens_that_service() -> None:
    text = SEED.replace("    team: data\n", "    team: data\n    metrics: detailed\n")
    _, out = rendered(text)
    durations = [s for s in series(out) if s.startswith("monitor_check_duration_seconds_count")]
    assert len(durations) == 1 and 'service="do-db"' in durations[0]
    statuses = [s for s in series(out) if s.startswith("monitor_service_status{")]
    assert len([s for s in statuses if 'service="do-db"' in s]) == len(Status)
    assert len([s for s in statuses if 'service="auth"' in s]) == 1


@pytest.mark.parametrize("target", [0.005, 0.05, 0.25, 0.0012])
def test_lean_bounds_hold_the_target_exactly(target: float) -> None:
    bounds = lean_bounds(target)
    assert target in bounds and len(bounds) == 6
    assert bounds == tuple(sorted(bounds)) and bounds[0] < target < bounds[-1]


def test_a_lean_check_has_one_histogram_and_status_with_reason() -> None:
    flat = CheckSeries(LATENCY_BUCKETS)
    labels = ("queue", "db", "rpc")
    flat.declare(labels, 0.005)
    flat.observe(labels, Status.UNHEALTHY, Reason.TIMEOUT, 0.2, NOW, NOW, True, True)
    flat.observe_latency(labels, 0.006)
    lines = series(b"".join(text_chunks(flat)))
    les = [line.split('le="')[1].split('"')[0] for line in lines if "_bucket{" in line]
    assert les == ["0.0025", "0.00375", "0.005", "0.0075", "0.0125", "0.025", "+Inf"]
    assert (
        'monitor_check_status{check="db",kind="rpc",reason="timeout",service="queue",'
        'status="unhealthy"} 1.0'
    ) in lines
    assert 'monitor_check_latency_target_seconds{bucket="0.005",check="db",kind="rpc",' in "".join(
        lines
    )
    assert 'monitor_checks_failed_total{check="db",kind="rpc",service="queue"} 1.0' in lines
    assert not any("duration" in line or "_created" in line for line in lines)


def test_lean_and_mixed_text_is_generate_latest_line_for_line() -> None:
    registry = CollectorRegistry()
    flat = CheckSeries(LATENCY_BUCKETS)
    registry.register(flat)
    for labels, detailed in ((("a", "x", "rpc"), False), (("b", "y", "http"), True)):
        flat.declare(labels, 0.005, detailed)
        flat.observe(labels, Status.DEGRADED, Reason.OK, 0.01, NOW, NOW, True, True)
        flat.observe_latency(labels, 0.004)
        flat.observe_windows(labels, [("5m", 0.004, 0.1)], False)
    flat.declare_service("a")
    flat.declare_service("b", detailed=True)
    text = b"".join(text_chunks(flat))
    assert sorted(text.decode().splitlines()) == sorted(
        generate_latest(registry).decode().splitlines()
    )


def test_a_new_target_moves_the_lean_bounds_and_keeps_the_status() -> None:
    flat = CheckSeries(LATENCY_BUCKETS)
    labels = ("queue", "db", "rpc")
    flat.declare(labels, 0.005)
    flat.observe(labels, Status.HEALTHY, Reason.OK, 0.001, NOW, NOW, True, True)
    flat.configure(labels, 0.05, detailed=False)
    text = b"".join(text_chunks(flat)).decode()
    assert 'le="0.05"' in text and 'le="0.00375"' not in text
    assert 'status="healthy"' in text


def test_an_unknown_metrics_mode_names_file_line_and_field() -> None:
    text = "services:\n  - name: a\n    url: http://127.0.0.1:1\n    metrics: verbose\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "monitor.yaml")
    problem = caught.value.problems[0]
    assert problem.location == "services[0].metrics" and problem.line == 4
    assert "lean" in problem.message and "detailed" in problem.message
