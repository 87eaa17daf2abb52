"""Prometheus series for real traffic: base units, labels only from config names."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

from monitor.analytics.verdicts import FleetTraffic, WorkerTraffic
from monitor.config import MonitorConfig

OUTCOMES = ("ok", "partial", "rate_limited", "unavailable")
NO_TRAFFIC = WorkerTraffic()
"""What a service's Worker figures read when the answer has no row for it: all zero."""

WORKER_SERIES: Mapping[str, tuple[str, Callable[[WorkerTraffic], float]]] = {
    # one per-service gauge per figure: its name -> (HELP, the figure it shows)
    "monitor_worker_requests": (
        "Requests the service's Worker served in the last complete analytics interval.",
        lambda w: w.requests,
    ),
    "monitor_worker_errors": (
        "Requests that ended in an error in the last complete analytics interval.",
        lambda w: w.errors,
    ),
    "monitor_worker_error_ratio": (
        "Errors over requests (0-1) in the last complete analytics interval.",
        lambda w: w.error_ratio,
    ),
    "monitor_worker_cpu_p50_seconds": (
        "Median CPU time per invocation in the last complete interval, as Cloudflare "
        "reports it (a quantile Cloudflare computed: not aggregatable).",
        lambda w: w.cpu_p50_s,
    ),
    "monitor_worker_cpu_p99_seconds": (
        "99th percentile CPU time per invocation in the last complete interval.",
        lambda w: w.cpu_p99_s,
    ),
}


class AnalyticsSeries:
    """Per-service Worker figures over the last complete interval, and the API's own health."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.workers = {
            name: (Gauge(name, text, ["service"], registry=registry), figure)
            for name, (text, figure) in WORKER_SERIES.items()
        }
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
            for gauge, _ in self.workers.values():
                gauge.labels(service.name)
            for queue in service.queues:
                self.backlog.labels(service.name, queue.name)

    def observe(self, config: MonitorConfig, traffic: FleetTraffic) -> None:
        for service in config.services:
            if traffic.workers is not None:
                worker = traffic.workers.get(service.worker_name) or NO_TRAFFIC
                for gauge, figure in self.workers.values():
                    gauge.labels(service.name).set(figure(worker))
            if traffic.queues is not None:
                for queue in service.queues:
                    q = traffic.queues.get(queue.queue_id)
                    self.backlog.labels(service.name, queue.name).set(
                        q.backlog_messages if q else 0.0
                    )
