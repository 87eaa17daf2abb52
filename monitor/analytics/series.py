"""Prometheus series for real traffic: base units, labels only from config names."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from monitor.analytics.verdicts import FleetTraffic
from monitor.config import MonitorConfig

OUTCOMES = ("ok", "partial", "rate_limited", "unavailable")


class AnalyticsSeries:
    """Per-service Worker figures over the last complete interval, and the API's own health."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Gauge(
            "monitor_worker_requests",
            "Requests the service's Worker served in the last complete analytics interval.",
            ["service"],
            registry=registry,
        )
        self.errors = Gauge(
            "monitor_worker_errors",
            "Requests that ended in an error in the last complete analytics interval.",
            ["service"],
            registry=registry,
        )
        self.error_ratio = Gauge(
            "monitor_worker_error_ratio",
            "Errors over requests (0-1) in the last complete analytics interval.",
            ["service"],
            registry=registry,
        )
        self.cpu_p50 = Gauge(
            "monitor_worker_cpu_p50_seconds",
            "Median CPU time per invocation in the last complete interval, as Cloudflare "
            "reports it (a quantile Cloudflare computed: not aggregatable).",
            ["service"],
            registry=registry,
        )
        self.cpu_p99 = Gauge(
            "monitor_worker_cpu_p99_seconds",
            "99th percentile CPU time per invocation in the last complete interval.",
            ["service"],
            registry=registry,
        )
        self.backlog = Gauge(
            "monitor_queue_backlog_messages",
            "Average messages waiting in a queue over the last complete analytics interval.",
            ["service", "queue"],
            registry=registry,
        )
        self.api_requests = Counter(
            "monitor_analytics_requests",
            "Requests to the analytics API by outcome.",
            ["outcome"],
            registry=registry,
        )
        for outcome in OUTCOMES:
            self.api_requests.labels(outcome)

    def declare(self, config: MonitorConfig) -> None:
        for service in config.services:
            for gauge in (self.requests, self.errors, self.error_ratio, self.cpu_p50, self.cpu_p99):
                gauge.labels(service.name)
            for queue in service.queues:
                self.backlog.labels(service.name, queue.name)

    def observe(self, config: MonitorConfig, traffic: FleetTraffic) -> None:
        for service in config.services:
            if traffic.workers is not None:
                w = traffic.workers.get(service.worker_name)
                requests = w.requests if w else 0
                self.requests.labels(service.name).set(requests)
                self.errors.labels(service.name).set(w.errors if w else 0)
                self.error_ratio.labels(service.name).set(w.error_ratio if w else 0.0)
                self.cpu_p50.labels(service.name).set(w.cpu_p50_s if w else 0.0)
                self.cpu_p99.labels(service.name).set(w.cpu_p99_s if w else 0.0)
            if traffic.queues is not None:
                for queue in service.queues:
                    q = traffic.queues.get(queue.queue_id)
                    self.backlog.labels(service.name, queue.name).set(
                        q.backlog_messages if q else 0.0
                    )
