"""The push kind's own series. Its status, reason and since are the per-check series every
kind has (monitor_check_*); these add what only a ping has: when it came, how long the run
took, and how many pings of each outcome arrived."""

from __future__ import annotations

import contextlib
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from monitor.config import Check

RUN_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 12 * 3600.0)
"""Run times of cron jobs and batches: seconds to half a day."""
OUTCOMES = ("success", "fail", "start", "rate_limited")


class PushMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.last_ping = Gauge(
            "monitor_push_last_ping_timestamp_seconds",
            "Unix time of the last accepted ping of a push check (a start included).",
            ["service", "check"],
            registry=registry,
        )
        self.run_time = Histogram(
            "monitor_push_run_duration_seconds",
            "Run time of a push check's job, from its /start to its finish.",
            ["service", "check"],
            buckets=RUN_BUCKETS,
            registry=registry,
        )
        self.pings = Counter(
            "monitor_push_pings",
            "Pings received per push check, by outcome (success, fail, start, rate_limited).",
            ["service", "check", "outcome"],
            registry=registry,
        )
        self.unknown = Counter(
            "monitor_push_unknown_pings",
            "Pings with an unknown token or suffix (answered 404).",
            registry=registry,
        )

    def declare(self, check: Check) -> None:
        """Counters and the run-time histogram at 0 from the start: absent never means zero.
        The last-ping gauge appears with the first ping (0 would read as 1970)."""
        for outcome in OUTCOMES:
            self.pings.labels(check.service, check.name, outcome)
        self.run_time.labels(check.service, check.name)

    def forget(self, check: Check) -> None:
        for outcome in OUTCOMES:
            _remove(self.pings, check.service, check.name, outcome)
        _remove(self.last_ping, check.service, check.name)
        _remove(self.run_time, check.service, check.name)

    def restore(self, check: Check, last_ping_at: datetime) -> None:
        self.last_ping.labels(check.service, check.name).set(last_ping_at.timestamp())

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


def _remove(metric: Gauge | Counter | Histogram, *labels: str) -> None:
    with contextlib.suppress(KeyError):
        metric.remove(*labels)
