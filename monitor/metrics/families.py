"""The per-check and per-service metric families: names, types, HELP texts, and which of them
only `metrics: detailed` checks have. One list, read by the collector (check_series.py) and
by the text writer (exposition.py), so the two cannot disagree on a name."""

from __future__ import annotations

from prometheus_client.core import Metric

from monitor.slo import P95_OBJECTIVE

FAMILY_HELP = {  # short: a lean fleet's HELP lines are a visible share of a small scrape
    "status": "1 for the check's current status (and reason); detailed: 0 for the others.",
    "reason": "1 for the reason code of the check's current status.",
    "service": "1 for the service's current status (detailed: 0 for the others).",
    "duration": "Round trip as the monitor measured it (request start to body read).",
    "latency": "Latency judged against the target (rpc: Server-Timing if given).",
    "p95": "Rolling p95 of the judged latency (DDSketch, 1 % relative error).",
    "target": "p95 latency target; bucket: the histogram `le` equal to it.",
    "within": "1 if the 5m p95 is within target, 0 if over.",
    "ratio": "Share of samples in the window slower than the target.",
    "burn": f"Over-target share / (1 - {P95_OBJECTIVE:g}); 14.4 pages.",
    "totals": "Checks run (detailed: by the status they found).",
    "failed": "Checks run that found the check not healthy.",
    "changes": "Times a check's status changed.",
    "last": "Unix time of the check's last completed run.",
    "since": "Unix time at which the check's current status began.",
}

FAMILIES = (
    ("status", "monitor_check_status", "gauge"),
    ("reason", "monitor_check_reason", "gauge"),
    ("service", "monitor_service_status", "gauge"),
    ("duration", "monitor_check_duration_seconds", "histogram"),
    ("latency", "monitor_check_latency_seconds", "histogram"),
    ("p95", "monitor_check_latency_p95_seconds", "gauge"),
    ("target", "monitor_check_latency_target_seconds", "gauge"),
    ("within", "monitor_check_within_target", "gauge"),
    ("ratio", "monitor_check_over_target_ratio", "gauge"),
    ("burn", "monitor_check_error_budget_burn_rate", "gauge"),
    ("totals", "monitor_checks", "counter"),
    ("failed", "monitor_checks_failed", "counter"),
    ("changes", "monitor_check_status_changes", "counter"),
    ("last", "monitor_check_last_run_timestamp_seconds", "gauge"),
    ("since", "monitor_check_status_since_timestamp_seconds", "gauge"),
)


DETAILED_ONLY = frozenset(
    ("reason", "duration", "p95", "within", "ratio", "burn", "changes", "last")
)
"""Families only `metrics: detailed` checks have."""


def fresh_families() -> dict[str, Metric]:
    """Fresh, empty families in a fixed order (a scrape fills its own)."""
    return {key: Metric(name, FAMILY_HELP[key], kind) for key, name, kind in FAMILIES}
