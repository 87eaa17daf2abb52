"""The status page's vocabulary: statuses, reasons and figures in the words a person reads.
Pure; one place for each wording, so the page, its JSON and the tests cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.model import Reason, Status

LABELS = {
    Status.HEALTHY: "Healthy",
    Status.DEGRADED: "Degraded",
    Status.UNHEALTHY: "Down",
    Status.UNKNOWN: "Unknown",
}
NODE_W, NODE_H, GAP_X, GAP_Y, BOW = 150, 38, 24, 34, 40
ICONS = {Status.HEALTHY: "✓", Status.DEGRADED: "!", Status.UNHEALTHY: "✕", Status.UNKNOWN: "?"}
PHRASES: dict[Reason, str] = {
    Reason.OK: "Working normally",
    Reason.NOT_CHECKED: "Not checked yet",
    Reason.REPORTED_DEGRADED: "Reports itself degraded",
    Reason.REPORTED_UNHEALTHY: "Reports itself failing",
    Reason.REPORTED_UNKNOWN: "Reports its own health as unknown",
    Reason.COMPONENT_DEGRADED: "A part of it is degraded",
    Reason.COMPONENT_UNHEALTHY: "A part of it is failing",
    Reason.INCONSISTENT_STATUS: "Says healthy but answers with an HTTP error",
    Reason.UNRECOGNIZED_BODY: "Answers, but not in a health format we know",
    Reason.INVALID_JSON: "Answers with broken JSON",
    Reason.INVALID_ENCODING: "Answers with unreadable text",
    Reason.BODY_TOO_LARGE: "Answer too large to read",
    Reason.UNEXPECTED_CONTENT_TYPE: "Answers with the wrong content type",
    Reason.NOT_FOUND: "No health endpoint (HTTP 404)",
    Reason.UNAUTHORIZED: "Refuses the monitor's credentials",
    Reason.RATE_LIMITED: "Rate limiting the monitor",
    Reason.CLIENT_ERROR: "Rejects the request (HTTP 4xx)",
    Reason.SERVER_ERROR: "Server error (HTTP 5xx)",
    Reason.UNEXPECTED_REDIRECT: "Redirects instead of answering",
    Reason.TOO_MANY_REDIRECTS: "Redirect loop",
    Reason.WORKER_EXCEPTION: "Crashing: the worker throws an exception",
    Reason.WORKER_RESOURCE_LIMIT: "Over its platform resource limit",
    Reason.EDGE_ERROR: "Edge platform error",
    Reason.ORIGIN_UNREACHABLE: "Edge cannot reach the origin",
    Reason.TIMEOUT: "Not answering in time",
    Reason.CONNECTION_REFUSED: "Not running: connection refused",
    Reason.CONNECTION_RESET: "Connection dropped mid-answer",
    Reason.DNS_FAILURE: "Host name does not resolve",
    Reason.TLS_CERTIFICATE_EXPIRED: "TLS certificate expired",
    Reason.TLS_CERTIFICATE_UNTRUSTED: "TLS certificate not trusted",
    Reason.TLS_ERROR: "TLS handshake failed",
    Reason.PROTOCOL_ERROR: "Broken HTTP answer",
    Reason.CONNECTION_ERROR: "Cannot connect",
    Reason.LATENCY_OVER_TARGET: "Slower than its target",
    Reason.ASSERTION_FAILED: "Answer fails its expectation",
    Reason.ASSERTION_ERROR: "Expectation cannot be checked on the answer",
    Reason.CERTIFICATE_EXPIRING: "TLS certificate expires soon",
    Reason.UNEXPECTED_BANNER: "Port answers with the wrong greeting",
    Reason.MCP_ERROR: "MCP server returns an error",
    Reason.PROTOCOL_VERSION_MISMATCH: "Speaks another MCP revision",
    Reason.TOOL_MISSING: "An expected MCP tool is missing",
    Reason.ERROR_RATE_HIGH: "Real users get errors",
    Reason.CPU_NEAR_LIMIT: "Near its CPU limit",
    Reason.QUEUE_BACKLOG_GROWING: "Its queue is backing up",
    Reason.ANALYTICS_UNAVAILABLE: "Traffic analytics unavailable",
    Reason.NEVER_REPORTED: "Has not reported in yet",
    Reason.LATE: "Missed its heartbeat: the job did not report",
    Reason.REPORTED_FAILURE: "Its job reported a failed run",
    Reason.RUN_TOO_LONG: "Its job started and has not finished in time",
}


def phrase(reason: str) -> str:
    """A short human phrase for a reason code (codes from older rows pass through)."""
    try:
        return PHRASES[Reason(reason)]
    except ValueError:
        return reason.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Banner:
    status: Status
    text: str


def banner(counts: Mapping[Status, int], status: Status) -> Banner:
    """ "All 10 services healthy", or the bad news first: "3 down, 2 degraded · 5 of 10 healthy"."""
    total = sum(counts.values())
    if total == 0:
        return Banner(Status.UNKNOWN, "No services configured")
    if counts.get(Status.HEALTHY, 0) == total:
        return Banner(Status.HEALTHY, f"All {total:,} services healthy" if total > 1 else "Healthy")
    parts = [
        f"{counts[s]:,} {LABELS[s].lower()}"
        for s in (Status.UNHEALTHY, Status.DEGRADED, Status.UNKNOWN)
        if counts.get(s)
    ]
    healthy = counts.get(Status.HEALTHY, 0)
    return Banner(status, f"{', '.join(parts)} · {healthy:,} of {total:,} healthy")


def duration(seconds: float) -> str:
    """3 s, 4 min, 2 h 5 min, 3 d 4 h: two units at most."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(s // 3600, 24)
    return f"{d} d {h} h" if h else f"{d} d"


def percent(share: float | None) -> str:
    """99.95 %, never rounded up to 100 % unless it is."""
    if share is None:
        return "no data"
    if share >= 1.0:
        return "100 %"
    value = int(share * 10000) / 100  # truncate: 99.999 % is not 100 %
    return f"{value:.2f} %".replace(".00 %", " %")


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")
