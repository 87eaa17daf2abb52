"""Aggregation: check states to service and fleet status, the body of `GET /status`. Pure.

A service is its health check, made worse by failing smoke checks. A smoke check can make a
service at worst `degraded`: the service itself answered, one of its calls is what failed. A
push check (a heartbeat) is not capped: a job that stopped reporting is the service failing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.config import Check, MonitorConfig, ServiceConfig
from monitor.model import (
    CheckKind,
    CheckStatus,
    FleetStatus,
    LatencySummary,
    Reason,
    ServiceStatus,
    ShardInfo,
    Status,
    Verdict,
    unvalidated,
    worst,
)
from monitor.secrets_scrub import without_userinfo
from monitor.state import CheckState, ServiceTrack

NOT_CHECKED_DETAIL = "not checked yet"
SMOKE_ONLY_DETAIL = "smoke checks pass; the health check is on another replica"
PUSH_ONLY_DETAIL = "every push check reports on time"
HEADLESS_DETAIL = "every check passes (no url, so no health check)"
_WAITING = frozenset({Reason.NOT_CHECKED, Reason.NEVER_REPORTED})
"""A check with no news yet leaves its service's status alone (unless none has news)."""
_UNCAPPED = frozenset({CheckKind.HEALTH, CheckKind.PUSH, CheckKind.ANALYTICS})
"""Failing kinds that count fully: real users' errors (analytics) and a missed heartbeat (push)
are the service's own work failing, not one of its calls, so not capped at degraded like a smoke
check."""
NOT_CHECKED = Verdict(status=Status.UNKNOWN, reason=Reason.NOT_CHECKED, detail=NOT_CHECKED_DETAIL)
"""What a check that has not run yet shows."""


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(float(seconds) * 1000, 3)


def check_status(
    check: Check,
    state: CheckState | None,
    latency: LatencySummary | None = None,
    source: str | None = None,
    within: bool | None = None,
) -> CheckStatus:
    """`within` is the daemon's judgement over the judging window (None until a window holds
    enough samples), not a comparison of `latency` alone. A push check has no round trip and
    no latency target: nothing is polled. Built unvalidated: every value is the daemon's own,
    already of its type (model.unvalidated)."""
    v = NOT_CHECKED if state is None else state.verdict
    polled = check.push is None
    return unvalidated(
        CheckStatus,
        {
            "name": check.name,
            "kind": check.kind,
            "url": without_userinfo(check.url),
            "status": v.status,
            "reason": v.reason,
            "detail": v.detail,
            "http_status": v.http_status,
            "duration_ms": _ms(state.duration_s) if state is not None and polled else None,
            "latency_ms": latency,
            "latency_source": source,
            "target_ms": _ms(check.target) if polled else None,
            "within_target": within,
            "components": dict(v.components),
            "version": v.version,
            "evidence": v.evidence,
            "tls": v.tls,
            "checked_at": None if state is None else state.checked_at,
            "since": None if state is None else state.since,
            "consecutive": 0 if state is None else state.consecutive,
        },
    )


def service_verdict(
    checks: Sequence[CheckStatus], *, headless: bool = False
) -> tuple[Status, Reason, str]:
    """Status, reason and detail of a service from its checks (health check first).
    `headless`: the service has no url, so no health check anywhere: its checks (tcp, push) are
    its health and a failing one counts in full, not capped like a smoke check."""
    health = next((c for c in checks if c.kind is CheckKind.HEALTH), None)
    if health is not None:
        status, reason, detail = health.status, health.reason, health.detail
    elif all(c.reason in _WAITING for c in checks):
        first = next((c for c in checks if c.reason is not Reason.NOT_CHECKED), None)
        if first is None:
            return Status.UNKNOWN, Reason.NOT_CHECKED, NOT_CHECKED_DETAIL
        return (
            Status.UNKNOWN,
            first.reason,
            f"{first.kind.value} check {first.name}: {first.detail}",
        )
    elif all(c.kind is CheckKind.PUSH for c in checks):
        status, reason, detail = Status.HEALTHY, Reason.OK, PUSH_ONLY_DETAIL
    elif headless:
        status, reason, detail = Status.HEALTHY, Reason.OK, HEADLESS_DETAIL
    else:  # a sharded replica without the health check: a lower bound from its smoke checks
        status, reason, detail = Status.HEALTHY, Reason.OK, SMOKE_ONLY_DETAIL
    for smoke in checks:
        if smoke is health or smoke.reason in _WAITING:
            continue
        if smoke.kind is CheckKind.ANALYTICS and smoke.status is Status.UNKNOWN:
            continue  # an analytics outage says nothing about the service (issue 20)
        capped = (
            Status.DEGRADED
            if smoke.status is Status.UNHEALTHY and smoke.kind not in _UNCAPPED and not headless
            else smoke.status
        )
        if capped.severity > status.severity:
            status, reason = capped, smoke.reason
            detail = f"{smoke.kind.value} check {smoke.name}: {smoke.detail}"
    return status, reason, detail


HEALTH_FIELDS = (
    "http_status",
    "duration_ms",
    "latency_ms",
    "target_ms",
    "within_target",
    "components",
    "version",
    "evidence",
    "checked_at",
)
"""What a service shows of its health check (the service's own round trip, version, ...)."""


def health_fields(health: CheckStatus) -> dict[str, Any]:
    return {name: getattr(health, name) for name in HEALTH_FIELDS}


def service_status(
    service: ServiceConfig,
    checks: Sequence[CheckStatus],
    track: ServiceTrack | None,
) -> ServiceStatus:
    status, reason, detail = service_verdict(checks, headless=service.url is None)
    health = next((c for c in checks if c.kind is CheckKind.HEALTH), None)
    if health is None:  # sharded: this replica holds only some smoke checks of the service
        health = CheckStatus(
            name="health", kind=CheckKind.HEALTH, url="", status=status, reason=reason, detail=""
        )
        if service.url is None or (checks and all(c.kind is CheckKind.PUSH for c in checks)):
            # a service without url, or push-only, is observed whenever one of its checks is
            seen = [c.checked_at for c in checks if c.checked_at is not None]
            health = health.model_copy(update={"checked_at": max(seen, default=None)})
    return unvalidated(
        ServiceStatus,
        {
            "name": service.name,
            "status": status,
            "reason": reason,
            "detail": detail,
            "url": without_userinfo(service.url or ""),  # a push-only service has none
            **health_fields(health),
            "since": track.since if track is not None and track.status is status else health.since,
            "labels": dict(service.labels),
            "team": service.team,
            "runbook": service.runbook,
            "depends_on": list(service.depends_on),
            "checks": list(checks),
            "maintenance": None,
        },
    )


def fleet_status(
    config: MonitorConfig,
    states: Mapping[str, CheckState],
    tracks: Mapping[str, ServiceTrack],
    now: datetime,
    latency: Mapping[str, LatencySummary] | None = None,
    sources: Mapping[str, str] | None = None,
    within: Mapping[str, bool | None] | None = None,
    *,
    checks: Iterable[Check] | None = None,
    shard: ShardInfo | None = None,
) -> FleetStatus:
    """The whole `/status` document, in config order. `checks` (a sharded replica's own)
    limits it to those checks and to the services that have at least one of them."""
    latency = latency or {}
    sources = sources or {}
    within = within or {}
    by_service: dict[str, list[CheckStatus]] = (
        {s.name: [] for s in config.services} if checks is None else {}
    )
    for check in config.checks() if checks is None else checks:
        by_service.setdefault(check.service, []).append(
            check_status(
                check,
                states.get(check.id),
                latency.get(check.id),
                sources.get(check.id),
                within.get(check.id),
            )
        )
    chosen = (
        config.services
        if checks is None
        else [  # only their services, still in config order, without a pass over the config
            config.services[i]
            for i in sorted(p for p in map(config.position, by_service) if p is not None)
        ]
    )
    services = [service_status(s, by_service[s.name], tracks.get(s.name)) for s in chosen]
    counts = {status: 0 for status in Status}
    for s in services:
        counts[s.status] += 1
    return unvalidated(
        FleetStatus,
        {
            "status": worst(s.status for s in services),
            "generated_at": now,
            "counts": counts,
            "services": services,
            "shard": shard,
            "page": None,
        },
    )
