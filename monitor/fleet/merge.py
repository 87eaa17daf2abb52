"""One fleet view from several sharded replicas' `/status` documents. Pure: no I/O, no clock.

One rule for `monitor status --from` and `monitor verify --from`, per check: a result beats
none (`not_checked` is no news), then the fresher `checked_at` wins, and at the same instant the
worse status. Fresher before worse because the latest observation is the service's state now: an
owner that is itself overloaded or cut off reports timeouts that say more about it than about the
service, and letting the worse status win spread one sick replica's view over the whole fleet
(the three-replica HA test showed hundreds of services unhealthy for one victim).
Services are re-aggregated from the merged checks with the daemon's own
`service_verdict`, never taken whole from one replica (a sharded replica's service holds only
its own checks). A replica that did not answer is reported, not fatal: with `--replicas 2` any one
replica may be down and every check is still covered. A check nobody reports is *uncovered*,
which is not the same as `not_checked` (a replica owns it and has not checked it yet).

    answers = [ReplicaAnswer(url, FleetStatus.model_validate(body)), ReplicaAnswer(url2, None,
               "timeout after 5s")]
    merged = merge(answers, now, expected=[c.id for c in config.checks()])
    merged.fleet, merged.uncovered, merged.replicas
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from monitor.fleet.sharding import ShardSpecError, assign
from monitor.model import CheckStatus, FleetStatus, ServiceStatus, ShardInfo, Status, worst
from monitor.status import health_fields, service_verdict


@dataclass(frozen=True, slots=True)
class ReplicaAnswer:
    """What one replica answered: its `/status`, or why there is none."""

    source: str
    status: FleetStatus | None
    error: str | None = None


class ReplicaReport(BaseModel):
    source: str
    ok: bool
    error: str | None = None
    shard: ShardInfo | None = None
    checks: int = Field(default=0, description="Checks this replica reported.")


class UncoveredCheck(BaseModel):
    id: str
    owners: list[int] = Field(
        default_factory=list, description="Shards that should hold it (when the maths is known)."
    )


class MergedStatus(BaseModel):
    fleet: FleetStatus
    replicas: list[ReplicaReport]
    coverage: dict[str, int] = Field(description="Check id -> replicas that reported it.")
    checks_total: int | None = Field(
        default=None, description="Checks in the config (from --config or the replicas' shard)."
    )
    uncovered: list[UncoveredCheck] = Field(default_factory=list)
    uncovered_count: int = 0
    missing_shards: list[int] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    @property
    def complete(self) -> bool:
        """At least one replica answered and every known check is covered."""
        return any(r.ok for r in self.replicas) and self.uncovered_count == 0


def check_id(service: str, check: CheckStatus) -> str:
    """The same id as `monitor.config.Check.id`."""
    return f"{service}/{check.kind.value}/{check.name}"


def wins(new: CheckStatus, old: CheckStatus) -> bool:
    """Whether `new` replaces `old` for the same check (the rule in the module docstring)."""
    if new.checked_at is None:
        return False
    if old.checked_at is None:
        return True
    if new.checked_at != old.checked_at:
        return new.checked_at > old.checked_at
    return new.status.severity > old.status.severity


def merge(
    answers: Sequence[ReplicaAnswer], now: datetime, expected: Sequence[str] | None = None
) -> MergedStatus:
    """Merge replicas' `/status`; `expected` (every check id of the config) names what no
    replica covers, otherwise only the count is known (from the replicas' `checks_total`)."""
    reports: list[ReplicaReport] = []
    services: dict[str, ServiceStatus] = {}
    checks: dict[str, dict[str, CheckStatus]] = {}
    coverage: dict[str, int] = {}
    shards: list[ShardInfo] = []
    for answer in answers:
        fleet = answer.status
        if fleet is None:
            reports.append(ReplicaReport(source=answer.source, ok=False, error=answer.error))
            continue
        count = 0
        for service in fleet.services:
            services.setdefault(service.name, service)
            mine = checks.setdefault(service.name, {})
            for check in service.checks:
                cid = check_id(service.name, check)
                count += 1
                coverage[cid] = coverage.get(cid, 0) + 1
                if cid not in mine or wins(check, mine[cid]):
                    mine[cid] = check
        if fleet.shard is not None:
            shards.append(fleet.shard)
        reports.append(
            ReplicaReport(source=answer.source, ok=True, shard=fleet.shard, checks=count)
        )
    merged = [_service(services[name], list(checks[name].values())) for name in services]
    counts = {status: 0 for status in Status}
    for s in merged:
        counts[s.status] += 1
    fleet = FleetStatus(
        status=worst(s.status for s in merged), generated_at=now, counts=counts, services=merged
    )
    problems = _consistency(shards)
    result = MergedStatus(fleet=fleet, replicas=reports, coverage=coverage, problems=problems)
    _coverage(result, shards, expected)
    return result


def _service(first: ServiceStatus, checks: list[CheckStatus]) -> ServiceStatus:
    """A service re-aggregated from its merged checks; the health check's fields on top."""
    status, reason, detail = service_verdict(checks, headless=not first.url)
    health = next((c for c in checks if c.kind.value == "health"), None)
    fields = first.model_dump(exclude={"checks"})
    fields.update(status=status, reason=reason, detail=detail, checks=checks)
    if health is not None:
        fields.update(health_fields(health))
    if status is not first.status:
        fields["since"] = health.since if health is not None else None
    return ServiceStatus.model_validate(fields)


def _consistency(shards: list[ShardInfo]) -> list[str]:
    problems = []
    digests = {s.config_digest for s in shards}
    if len(digests) > 1:
        problems.append(f"replicas run different configs (digests {', '.join(sorted(digests))})")
    layouts = {(s.count, s.replicas, s.by) for s in shards}
    if len(layouts) > 1:
        shown = ", ".join(f"{c} shards x{r} by {b}" for c, r, b in sorted(layouts))
        problems.append(f"replicas disagree on the shard layout: {shown}")
    indexes = [s.index for s in shards]
    duplicates = sorted({i for i in indexes if indexes.count(i) > 1})
    if duplicates:
        problems.append(f"more than one answering replica holds shard {duplicates}")
    return problems


def _coverage(
    result: MergedStatus, shards: list[ShardInfo], expected: Sequence[str] | None
) -> None:
    layout = shards[0] if shards and not result.problems else None
    if layout is not None:
        held = {s.index for s in shards}
        result.missing_shards = [i for i in range(layout.count) if i not in held]
    if expected is not None:
        result.checks_total = len(expected)
        missing = [cid for cid in expected if cid not in result.coverage]
        result.uncovered = [UncoveredCheck(id=cid, owners=_owners(cid, layout)) for cid in missing]
        result.uncovered_count = len(missing)
    elif shards:
        result.checks_total = max(s.checks_total for s in shards)
        result.uncovered_count = max(0, result.checks_total - len(result.coverage))


def _owners(cid: str, layout: ShardInfo | None) -> list[int]:
    if layout is None:
        return []
    key = cid.split("/", 1)[0] if layout.by == "service" else cid
    try:
        return list(assign(key, layout.count, layout.replicas))
    except ShardSpecError:
        return []
