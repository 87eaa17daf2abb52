"""Prometheus metrics. One object per daemon, built on an injected registry (never the global
one), so tests and several monitors in one process do not collide.

Labels come only from config names (service, check, kind) and closed enums (status, reason):
cardinality is bounded by the config, never by what a service sends. Latency is in seconds,
in histograms with a bucket bound exactly at each check's target (lean: bounds around it;
`metrics: detailed`: LATENCY_BUCKETS, which hold the fleet's 5 ms and 50 ms), so the share of
requests under target is exact even where an interpolated quantile is not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from monitor.config import Check
from monitor.metrics.check_series import CHECK_LABELS, CheckSeries, Labels
from monitor.metrics.exposition import text_chunks
from monitor.model import CheckKind, Status
from monitor.normalize import PARSERS
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

__all__ = ["CHECK_LABELS", "DAEMON_HELP", "LAG_BUCKETS", "LATENCY_BUCKETS", "MonitorMetrics"]

DAEMON_HELP = {  # the daemon's own series (the per-check ones: families.py), by name
    "monitor_schedule_lag_seconds": "How late a check started against its schedule.",
    "monitor_checks_skipped": "Runs skipped because the previous run of the same check was "
    "still going.",
    "monitor_normalizer_parser_errors": "Answers on which a normalizer parser raised (a bug in "
    "the parser; the answer went on to the next one), by parser.",
    "monitor_event_loop_lag_seconds": "Latest delay of the event loop in waking a timer; skews "
    "every measured latency.",
    "monitor_event_loop_delay_seconds": "Distribution of event loop delays in waking a timer.",
    "monitor_checks_configured": "Checks in the running config.",
    "monitor_checks_in_flight": "Checks running right now.",
    "monitor_alert_notifications": "Alert notifications by receiver and outcome (sent, "
    "retried, dead).",
    "monitor_alerts_firing": "Alerts firing, per rule.",
    "monitor_deploy_timestamp_seconds": "Unix time a deploy was announced (POST /api/deploys), "
    "for Grafana annotations.",
    "monitor_alert_outbox_depth": "Notifications waiting in the durable outbox.",
    "monitor_http_bad_requests": "Requests to the monitor's own HTTP server refused because "
    "they did not parse.",
    "monitor_last_check_timestamp_seconds": "Unix time at which the last check of any service "
    "completed (stalled checks).",
    "monitor_config_last_reload_successful": "1 if the last config load or reload succeeded.",
    "monitor_tls_not_after_timestamp_seconds": "When the certificate a check was shown expires: "
    "the leaf's, and the earliest in the presented chain.",
    "monitor_config_last_reload_success_timestamp_seconds": "Unix time of the last successful "
    "config load.",
}

F = TypeVar("F", Gauge, Counter)


def _family(kind: type[F], registry: CollectorRegistry) -> Callable[..., F]:
    """A builder of `kind` families on `registry`, HELP from DAEMON_HELP: `(name, *labels)`."""

    def build(name: str, *labels: str) -> F:
        return kind(name, DAEMON_HELP[name], labels, registry=registry)

    return build


def _histogram(name: str, registry: CollectorRegistry) -> Histogram:
    """A lag histogram (both of the daemon's histograms measure lateness)."""
    return Histogram(name, DAEMON_HELP[name], buckets=LAG_BUCKETS, registry=registry)


class MonitorMetrics:
    """Every series the daemon exports. Names are the contract dashboards and rules use."""

    def __init__(self, registry: CollectorRegistry, version: str) -> None:
        self.registry = registry
        # process_resident_memory_bytes, process_open_fds, ... and python_info: the monitor's
        # own footprint (the self-health dashboard), on this registry, not the global one.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        self.build_info = Info("monitor_build", "Version of the monitor.", registry=registry)
        self.build_info.info({"version": version})
        # every per-check and per-service series: flat arrays, one collector (check_series.py)
        self.checks = CheckSeries(LATENCY_BUCKETS)
        registry.register(self.checks)
        gauge, counter = _family(Gauge, registry), _family(Counter, registry)
        self.schedule_lag = _histogram("monitor_schedule_lag_seconds", registry)
        self.checks_skipped_total = counter("monitor_checks_skipped")
        self.normalizer_parser_errors_total = counter("monitor_normalizer_parser_errors", "parser")
        for parser, _ in PARSERS:
            self.normalizer_parser_errors_total.labels(parser=parser)
        self.loop_lag = gauge("monitor_event_loop_lag_seconds")
        self.loop_lag_observed = _histogram("monitor_event_loop_delay_seconds", registry)
        self.checks_configured = gauge("monitor_checks_configured")
        self.checks_in_flight = gauge("monitor_checks_in_flight")
        self.alert_notifications_total = counter(
            "monitor_alert_notifications", "receiver", "outcome"
        )
        self.alerts_firing = gauge("monitor_alerts_firing", "alertname")
        self.deploy_timestamp = gauge("monitor_deploy_timestamp_seconds", "service", "version")
        self.alert_outbox_depth = gauge("monitor_alert_outbox_depth")
        self.http_bad_requests_total = counter("monitor_http_bad_requests")
        self.last_check_timestamp = gauge("monitor_last_check_timestamp_seconds")
        self.config_last_reload_successful = gauge("monitor_config_last_reload_successful")
        self.tls_not_after = gauge(
            "monitor_tls_not_after_timestamp_seconds", "service", "check", "cert"
        )
        self.config_last_reload_success_timestamp = gauge(
            "monitor_config_last_reload_success_timestamp_seconds"
        )

    def count_parser_error(self, parser: str) -> None:
        """The `on_parser_error` hook of `normalize_response`."""
        self.normalizer_parser_errors_total.labels(parser=parser).inc()

    def declare(self, checks: Iterable[Check], services: Iterable[str]) -> None:
        """Export every known series at 0 from the start, so absent never means zero."""
        checks = list(checks)
        kinds = _KIND_VALUES
        self.checks.declare_many(  # _labels inlined: 100,000 calls at start-up
            [(c.service, c.name, kinds[c.kind]) for c in checks],
            [c.target for c in checks],
            [c.detailed_metrics for c in checks],
        )
        detailed = {check.service for check in checks if check.detailed_metrics}
        self.checks.declare_services(services, detailed)
        self.checks_configured.set(len(checks))

    def configure(self, checks: Iterable[Check], services: Iterable[str]) -> None:
        """After a reload: changed checks take their new target and `metrics:` mode, and
        each of `services` the mode of its checks (state and counters stay)."""
        detailed: set[str] = set()
        for check in checks:
            self.checks.configure(_labels(check), check.target, check.detailed_metrics)
            if check.detailed_metrics:
                detailed.add(check.service)
        for service in services:
            self.checks.configure_service(service, service in detailed)

    def observe_latency(self, check: Check, sample_s: float) -> None:
        """The judged latency (Server-Timing for rpc checks that report it, else round trip)."""
        self.checks.observe_latency(_labels(check), sample_s)

    def forget(self, check: Check) -> None:
        """Drop a removed check's series (after a reload)."""
        self.checks.forget(_labels(check))
        for cert in ("leaf", "chain"):
            with contextlib.suppress(KeyError):
                self.tls_not_after.remove(check.service, check.name, cert)

    def observe_latency_windows(
        self,
        check: Check,
        summaries: Iterable[tuple[str, float | None, float | None]],
        within: bool | None,
    ) -> None:
        """Per window label: p95 seconds and over-target share (None: no samples yet)."""
        self.checks.observe_windows(_labels(check), summaries, within)

    def forget_windows(self, check: Check, windows: Iterable[str]) -> None:
        self.checks.forget_windows(_labels(check), windows)

    def forget_service(self, service: str) -> None:
        self.checks.forget_service(service)

    def observe_restored(self, check: Check, state: CheckState) -> None:
        """Set the gauges of a state brought back from the store (no counters move)."""
        self.checks.restore(
            _labels(check),
            state.verdict.status,
            state.verdict.reason,
            state.checked_at.timestamp(),
            state.since.timestamp(),
        )

    def observe(self, check: Check, state: CheckState, previous: CheckState | None) -> None:
        self.last_check_timestamp.set(state.checked_at.timestamp())
        if (tls := state.verdict.tls) is not None:
            self.tls_not_after.labels(check.service, check.name, "leaf").set(
                tls.not_after.timestamp()
            )
            self.tls_not_after.labels(check.service, check.name, "chain").set(
                tls.chain_not_after.timestamp()
            )
        self.checks.observe(
            _labels(check),
            state.verdict.status,
            state.verdict.reason,
            state.duration_s,
            state.checked_at.timestamp(),
            state.since.timestamp(),
            changed=state.changed,
            first=previous is None,
        )

    def observe_service(self, service: str, status: Status) -> None:
        self.checks.observe_service(service, status)

    def render(self) -> list[bytes]:
        """The registry's /metrics text, the per-check series written straight from their
        arrays: the same lines as `generate_latest(registry)`, in a fraction of the time and
        memory. Safe in a worker thread."""
        with self.checks.quiet():
            rest = generate_latest(self.registry)
        return [rest, *text_chunks(self.checks)]


_KIND_VALUES = {kind: kind.value for kind in CheckKind}
"""A dict lookup, not the enum's `value` property (several times slower), on every result."""


def _labels(check: Check) -> Labels:
    return (check.service, check.name, _KIND_VALUES[check.kind])
