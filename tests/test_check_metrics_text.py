"""The text written straight from the arrays must be, line for line, what `generate_latest`
makes of the same registry (the family blocks may come in another order: Prometheus and
promtool only need each family's lines together, which tests/test_prometheus.py checks)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from monitor.metrics.check_series import CheckSeries
from monitor.metrics.daemon_metrics import LATENCY_BUCKETS, MonitorMetrics
from monitor.metrics.exposition import text_chunks
from monitor.model import Reason, Status
from tests.test_check_metrics import SCENARIOS, Reference, Step

ODD = ('sv"c', "back\\slash", "new\nline")


def lines(text: bytes) -> list[str]:
    return sorted(text.decode().splitlines())


@pytest.mark.parametrize("steps", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_text_is_generate_latest_line_for_line(steps: list[Step]) -> None:
    registry = CollectorRegistry()
    flat = CheckSeries(LATENCY_BUCKETS)
    registry.register(flat)
    ref = Reference(CollectorRegistry())
    for step in steps:
        step(flat, ref)
    assert lines(b"".join(text_chunks(flat))) == lines(generate_latest(registry))


def test_label_values_are_escaped_as_generate_latest_does() -> None:
    registry = CollectorRegistry()
    flat = CheckSeries(LATENCY_BUCKETS)
    registry.register(flat)
    flat.declare(ODD, 0.005, detailed=True)
    flat.observe(ODD, Status.HEALTHY, Reason.OK, 0.001, 1.7e9, 1.7e9, True, True)
    flat.observe_windows(ODD, [('5"m', 0.001, 0.5)], True)
    flat.observe_service(ODD[0], Status.DEGRADED)
    text = b"".join(text_chunks(flat))
    assert b'service="sv\\"c"' in text and b'check="back\\\\slash"' in text
    assert lines(text) == lines(generate_latest(registry))


def test_render_holds_every_family_of_the_registry_once() -> None:
    registry = CollectorRegistry()
    metrics = MonitorMetrics(registry, "test")
    metrics.checks.declare(("a", "b", "rpc"), 0.005)
    metrics.checks.declare(("a", "c", "rpc"), 0.005, detailed=True)
    metrics.checks.observe_service("a", Status.HEALTHY)
    rendered = b"".join(metrics.render())

    def steady(text: bytes) -> list[str]:  # process_cpu_seconds_total etc. move between calls
        return [line for line in lines(text) if not line.startswith("process_")]

    assert steady(rendered) == steady(generate_latest(registry))
    assert b"monitor_check_status{" in rendered and b"process_open_fds" in rendered
    types = [line for line in rendered.decode().splitlines() if line.startswith("# TYPE ")]
    assert len(types) == len(set(types)), "a family appears twice"
