"""Prometheus metrics. One object per daemon, built on an injected registry (never the global
one), so tests and several monitors in one process do not collide.

Labels come only from config names (service, check, kind) and closed enums (status, reason):
cardinality is bounded by the config, never by what a service sends. Latency is in seconds,
in histograms with bucket bounds exactly at the fleet's 5 ms and 50 ms targets, so the share
of requests under target is exact even where an interpolated quantile is not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, NamedTuple

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)

from monitor.config import Check
from monitor.model import Reason, Status
from monitor.state import CheckState

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.025,
    0.035,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

CHECK_LABELS = ("service", "check", "kind")


class _CheckSeries(NamedTuple):
    """A check's series that move on every run, looked up once: `labels()` costs a few
    microseconds a call, and a check made six of them per run."""

    duration: Any
    latency: Any
    last_check: Any
    since: Any
    totals: dict[Status, Any]


class MonitorMetrics:
    """Every series the daemon exports. Names are the contract dashboards and rules use."""

    def __init__(self, registry: CollectorRegistry, version: str) -> None:
        self.registry = registry
        # process_resident_memory_bytes, process_open_fds, ... and python_info: the monitor's
        # own footprint (the self-health dashboard), on this registry, not the global one.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        self._series: dict[tuple[str, str, str], _CheckSeries] = {}
        self.build_info = Info("monitor_build", "Version of the monitor.", registry=registry)
        self.build_info.info({"version": version})
        self.check_status = Gauge(
            "monitor_check_status",
            "1 for the check's current status, 0 for the other statuses.",
            [*CHECK_LABELS, "status"],
            registry=registry,
        )
        self.check_reason = Gauge(
            "monitor_check_reason",
            "1 for the reason code of the check's current status (only the current one exists).",
            [*CHECK_LABELS, "reason"],
            registry=registry,
        )
        self.service_status = Gauge(
            "monitor_service_status",
            "1 for the service's current status, 0 for the other statuses.",
            ["service", "status"],
            registry=registry,
        )
        self.check_duration = Histogram(
            "monitor_check_duration_seconds",
            "Round trip of a check as the monitor measured it (request start to body read).",
            CHECK_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.check_latency = Histogram(
            "monitor_check_latency_seconds",
            "The latency judged against the target: the service's own Server-Timing report "
            "for rpc checks when it gives one, else the round trip.",
            CHECK_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.latency_p95 = Gauge(
            "monitor_check_latency_p95_seconds",
            "Rolling p95 of the judged latency (DDSketch-mapped, 1 % relative error).",
            [*CHECK_LABELS, "window"],
            registry=registry,
        )
        self.latency_target = Gauge(
            "monitor_check_latency_target_seconds",
            "The check's p95 latency target.",
            CHECK_LABELS,
            registry=registry,
        )
        self.within_target = Gauge(
            "monitor_check_within_target",
            "1 if the 5m p95 is within target, 0 if over (absent before enough samples).",
            CHECK_LABELS,
            registry=registry,
        )
        self.over_target_ratio = Gauge(
            "monitor_check_over_target_ratio",
            "Share of samples in the window slower than the target (exact count, not sketch).",
            [*CHECK_LABELS, "window"],
            registry=registry,
        )
        self.burn_rate = Gauge(
            "monitor_check_error_budget_burn_rate",
            "Over-target share / (1 - 0.95): 1 spends the p95 budget exactly, 14.4 pages.",
            [*CHECK_LABELS, "window"],
            registry=registry,
        )
        self.checks_total = Counter(
            "monitor_checks",
            "Checks run, by the status they found.",
            [*CHECK_LABELS, "status"],
            registry=registry,
        )
        self.status_changes_total = Counter(
            "monitor_check_status_changes",
            "Times a check's status changed.",
            CHECK_LABELS,
            registry=registry,
        )
        self.last_check = Gauge(
            "monitor_check_last_run_timestamp_seconds",
            "Unix time of the check's last completed run.",
            CHECK_LABELS,
            registry=registry,
        )
        self.status_since = Gauge(
            "monitor_check_status_since_timestamp_seconds",
            "Unix time at which the check's current status began.",
            CHECK_LABELS,
            registry=registry,
        )
        self.schedule_lag = Histogram(
            "monitor_schedule_lag_seconds",
            "How late a check started against its schedule.",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.checks_skipped_total = Counter(
            "monitor_checks_skipped",
            "Runs skipped because the previous run of the same check was still going.",
            registry=registry,
        )
        self.loop_lag = Gauge(
            "monitor_event_loop_lag_seconds",
            "Latest delay of the event loop in waking a timer; skews every measured latency.",
            registry=registry,
        )
        self.loop_lag_observed = Histogram(
            "monitor_event_loop_delay_seconds",
            "Distribution of event loop delays in waking a timer.",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.checks_configured = Gauge(
            "monitor_checks_configured", "Checks in the running config.", registry=registry
        )
        self.checks_in_flight = Gauge(
            "monitor_checks_in_flight", "Checks running right now.", registry=registry
        )
        self.alert_notifications_total = Counter(
            "monitor_alert_notifications",
            "Alert notifications by receiver and outcome (sent, retried, dead).",
            ["receiver", "outcome"],
            registry=registry,
        )
        self.alerts_firing = Gauge(
            "monitor_alerts_firing",
            "Alerts firing, per rule.",
            ["alertname"],
            registry=registry,
        )
        self.alert_outbox_depth = Gauge(
            "monitor_alert_outbox_depth",
            "Notifications waiting in the durable outbox.",
            registry=registry,
        )
        self.config_last_reload_successful = Gauge(
            "monitor_config_last_reload_successful",
            "1 if the last config load or reload succeeded.",
            registry=registry,
        )
        self.config_last_reload_success_timestamp = Gauge(
            "monitor_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful config load.",
            registry=registry,
        )

    def declare(self, checks: Iterable[Check], services: Iterable[str]) -> None:
        """Export every known series at 0 from the start, so absent never means zero."""
        count = 0
        for check in checks:
            count += 1
            labels = (check.service, check.name, check.kind.value)
            for status in Status:
                self.check_status.labels(*labels, status.value).set(
                    1 if status is Status.UNKNOWN else 0
                )
                self.checks_total.labels(*labels, status.value)
            self.check_reason.labels(*labels, Reason.NOT_CHECKED.value).set(1)
            self.check_duration.labels(*labels)
            self.check_latency.labels(*labels)
            self.latency_target.labels(*labels).set(check.target)
            self.status_changes_total.labels(*labels)
        for service in services:
            for status in Status:
                self.service_status.labels(service, status.value).set(
                    1 if status is Status.UNKNOWN else 0
                )
        self.checks_configured.set(count)

    def _check_series(self, labels: tuple[str, str, str]) -> _CheckSeries:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = _CheckSeries(
                self.check_duration.labels(*labels),
                self.check_latency.labels(*labels),
                self.last_check.labels(*labels),
                self.status_since.labels(*labels),
                {s: self.checks_total.labels(*labels, s.value) for s in Status},
            )
        return series

    def observe_latency(self, check: Check, sample_s: float) -> None:
        """The judged latency (Server-Timing for rpc checks that report it, else round trip)."""
        self._check_series((check.service, check.name, check.kind.value)).latency.observe(sample_s)

    def forget(self, check: Check) -> None:
        """Drop a removed check's series (after a reload)."""
        labels = (check.service, check.name, check.kind.value)
        self._series.pop(labels, None)
        for metric in (
            self.check_duration,
            self.check_latency,
            self.latency_target,
            self.within_target,
            self.status_changes_total,
            self.last_check,
            self.status_since,
        ):
            with contextlib.suppress(KeyError):
                metric.remove(*labels)
        for status in Status:
            for metric in (self.check_status, self.checks_total):
                with contextlib.suppress(KeyError):
                    metric.remove(*labels, status.value)
        for reason in Reason:
            with contextlib.suppress(KeyError):
                self.check_reason.remove(*labels, reason.value)

    def observe_latency_windows(
        self,
        check: Check,
        summaries: Iterable[tuple[str, float | None, float | None]],
        within: bool | None,
    ) -> None:
        """Per window label: p95 seconds and over-target share (None: no samples yet)."""
        labels = (check.service, check.name, check.kind.value)
        for window, p95, ratio in summaries:
            if p95 is not None:
                self.latency_p95.labels(*labels, window).set(p95)
            if ratio is not None:
                self.over_target_ratio.labels(*labels, window).set(ratio)
                self.burn_rate.labels(*labels, window).set(ratio / 0.05)
        if within is not None:
            self.within_target.labels(*labels).set(1 if within else 0)

    def forget_windows(self, check: Check, windows: Iterable[str]) -> None:
        labels = (check.service, check.name, check.kind.value)
        for window in windows:
            for metric in (self.latency_p95, self.over_target_ratio, self.burn_rate):
                with contextlib.suppress(KeyError):
                    metric.remove(*labels, window)

    def forget_service(self, service: str) -> None:
        for status in Status:
            with contextlib.suppress(KeyError):
                self.service_status.remove(service, status.value)

    def observe_restored(self, check: Check, state: CheckState) -> None:
        """Set the gauges of a state brought back from the store (no counters move)."""
        labels = (check.service, check.name, check.kind.value)
        for s in Status:
            self.check_status.labels(*labels, s.value).set(1 if s is state.verdict.status else 0)
        with contextlib.suppress(KeyError):
            self.check_reason.remove(*labels, Reason.NOT_CHECKED.value)
        self.check_reason.labels(*labels, state.verdict.reason.value).set(1)
        self.last_check.labels(*labels).set(state.checked_at.timestamp())
        self.status_since.labels(*labels).set(state.since.timestamp())

    def observe(self, check: Check, state: CheckState, previous: CheckState | None) -> None:
        labels = (check.service, check.name, check.kind.value)
        status = state.verdict.status
        series = self._check_series(labels)
        series.duration.observe(state.duration_s)
        series.totals[status].inc()
        series.last_check.set(state.checked_at.timestamp())
        series.since.set(state.since.timestamp())
        old_reason = previous.verdict.reason if previous is not None else Reason.NOT_CHECKED
        if old_reason is not state.verdict.reason or previous is None:
            with contextlib.suppress(KeyError):
                self.check_reason.remove(*labels, old_reason.value)
            self.check_reason.labels(*labels, state.verdict.reason.value).set(1)
        if state.changed:
            if previous is not None:
                self.status_changes_total.labels(*labels).inc()
            for s in Status:
                self.check_status.labels(*labels, s.value).set(1 if s is status else 0)

    def observe_service(self, service: str, status: Status) -> None:
        for s in Status:
            self.service_status.labels(service, s.value).set(1 if s is status else 0)
