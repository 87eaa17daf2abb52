"""Bytes of `/status` per check at its largest, to size `fleet.status_client.MAX_STATUS_BYTES`.

Each check in its own service (the most service overhead per check), every field filled at its
longest: detail at `short()`'s 160 characters, evidence at 200 two-byte characters, a latency
summary, labels, runbook, dependencies. Prints bytes per check and the total for 100,000 checks.

    .venv/bin/python bench/status_size.py
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.fleet.status_client import MAX_STATUS_BYTES
from monitor.model import CheckKind, CheckStatus, LatencySummary, Reason, ServiceStatus, Status

CHECKS = 100_000


def largest_service(i: int) -> ServiceStatus:
    now = datetime.now(UTC)
    latency = LatencySummary(p50=123.456, p95=234.567, p99=345.678, window="5m", count=123456)
    long = {"detail": "x" * 160, "evidence": "\u00e9" * 200, "latency_ms": latency}
    check = CheckStatus(
        name=f"check-{i:06d}", kind=CheckKind.RPC, status=Status.DEGRADED,
        url=f"http://service-{i:06d}.internal.example:8080/api/v1/health/deep",
        reason=Reason.SERVER_ERROR, http_status=503, duration_ms=12.345,
        latency_source="round_trip", target_ms=50.0, within_target=False, version="1.2.3-abcdef",
        checked_at=now, since=now, consecutive=12345, **long,
    )  # fmt: skip
    return ServiceStatus(
        name=f"service-{i:06d}", status=Status.DEGRADED, reason=Reason.SERVER_ERROR,
        url=f"http://service-{i:06d}.internal.example:8080", checks=[check],
        labels={"team": "core", "tier": "1"}, team="core", depends_on=["db"],
        runbook=f"https://runbooks.example/service-{i:06d}", version="1.2.3", http_status=503,
        duration_ms=1.0, target_ms=50.0, within_target=False, checked_at=now, since=now, **long,
    )  # fmt: skip


if __name__ == "__main__":
    per_check = len(largest_service(1).model_dump_json()) + 1  # + the comma between services
    total = per_check * CHECKS
    print(f"{per_check} bytes per check; {CHECKS:,} checks: {total / 1e6:.0f} MB")
    print(f"cap {MAX_STATUS_BYTES / 1e6:.0f} MB: {MAX_STATUS_BYTES / total:.2f}x that")
