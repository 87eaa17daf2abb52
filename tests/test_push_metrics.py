"""The push kind's series in flat arrays give the lines prometheus_client's own children gave:
a reference built from `Counter`/`Histogram`/`Gauge` with the same writes is the golden value."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from monitor.config import Check, parse_config
from monitor.model import CheckKind
from monitor.probes.push.metrics import OUTCOMES, RUN_BUCKETS, PushMetrics

CONFIG = """\
services:
  - name: queue
    push:
      - {name: consumer, every: 30s, grace: 15s, token: queue-consumer-token-456}
      - {name: hourly.job_2, every: 1h, grace: 1m, token: hourly-job-token-7890}
  - name: batch
    push:
      - {name: nightly, every: 1d, grace: 1h, token: nightly-token-12345}
"""
T0 = datetime(2026, 11, 30, 12, tzinfo=UTC)


class Reference:
    """PushMetrics as it was: one prometheus_client child per series."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.last_ping = Gauge(
            "monitor_push_last_ping_timestamp_seconds",
            "Unix time of the last accepted ping of a push check (a start included).",
            ["service", "check"], registry=registry,
        )  # fmt: skip
        self.run_time = Histogram(
            "monitor_push_run_duration_seconds",
            "Run time of a push check's job, from its /start to its finish.",
            ["service", "check"], buckets=RUN_BUCKETS, registry=registry,
        )  # fmt: skip
        self.pings = Counter(
            "monitor_push_pings",
            "Pings received per push check, by outcome (success, fail, start, rate_limited).",
            ["service", "check", "outcome"], registry=registry,
        )  # fmt: skip
        self.unknown = Counter(
            "monitor_push_unknown_pings",
            "Pings with an unknown token or suffix (answered 404).",
            registry=registry,
        )

    def declare(self, check: Check) -> None:
        for outcome in OUTCOMES:
            self.pings.labels(check.service, check.name, outcome)
        self.run_time.labels(check.service, check.name)

    def forget(self, check: Check) -> None:
        for metric, labels in (
            *((self.pings, (check.service, check.name, o)) for o in OUTCOMES),
            (self.last_ping, (check.service, check.name)),
            (self.run_time, (check.service, check.name)),
        ):
            with contextlib.suppress(KeyError):
                metric.remove(*labels)

    def restore(self, check: Check, at: datetime) -> None:
        self.last_ping.labels(check.service, check.name).set(at.timestamp())

    def ping(
        self, check: Check, outcome: str, at: datetime | None = None, run_s: float | None = None
    ) -> None:
        self.pings.labels(check.service, check.name, outcome).inc()
        if at is not None:
            self.last_ping.labels(check.service, check.name).set(at.timestamp())
        if run_s is not None:
            self.run_time.labels(check.service, check.name).observe(run_s)

    def unknown_token(self) -> None:
        self.unknown.inc()


def checks() -> list[Check]:
    return [c for c in parse_config(CONFIG).checks() if c.kind is CheckKind.PUSH]


def writes(metrics: PushMetrics | Reference, forget: bool) -> None:
    a, b, c = checks()
    for check in (a, b, c):
        metrics.declare(check)
    metrics.declare(a)  # declared again (a reload changed it): its counts stay
    metrics.ping(a, "start", T0)
    metrics.ping(a, "success", T0, 60.0)  # exactly on a bound: counted in that bucket
    metrics.ping(a, "fail", T0, 60.000001)
    metrics.ping(b, "rate_limited")
    metrics.ping(b, "success", T0, 12 * 3600.0 + 1)  # beyond the last bound: +Inf only
    metrics.restore(c, T0)
    metrics.unknown_token()
    if forget:
        metrics.forget(b)
        metrics.forget(c)
        metrics.declare(c)  # back after a reload: from 0, no last ping


def text(
    kind: type[PushMetrics] | type[Reference], forget: bool, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    monkeypatch.setattr("time.time", lambda: 1_790_000_000.5)  # the `_created` stamps
    registry = CollectorRegistry()
    writes(kind(registry), forget)
    return generate_latest(registry).decode().splitlines()


def test_the_lines_are_prometheus_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = text(Reference, False, monkeypatch)
    assert text(PushMetrics, False, monkeypatch) == expected
    assert (
        'monitor_push_pings_total{check="consumer",outcome="fail",service="queue"} 1.0' in expected
    )


def test_after_forget_and_declare_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """A freed slot is reused: the series are the same, their order within a family may not be."""
    expected = text(Reference, True, monkeypatch)
    got = text(PushMetrics, True, monkeypatch)
    assert sorted(got) == sorted(expected)
    assert [line for line in got if line.startswith("#")] == [
        line for line in expected if line.startswith("#")
    ]


def test_no_push_checks_still_describes_every_family(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.time", lambda: 1_790_000_000.5)
    registry = CollectorRegistry()
    PushMetrics(registry)
    reference = CollectorRegistry()
    Reference(reference)
    assert generate_latest(registry) == generate_latest(reference)


def test_a_registry_refuses_a_second_set() -> None:
    registry = CollectorRegistry()
    PushMetrics(registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        PushMetrics(registry)
