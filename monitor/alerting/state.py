"""The data that flows through alerting: what rules see, what they remember, what they emit.

Everything here is plain data. `AlertState` is a pydantic model so the outbox can persist it as
JSON in SQLite; `RuleInput` is a frozen snapshot the daemon builds from its `FleetStatus`.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.model import CheckKind, FleetStatus, ServiceStatus, Status

# --------------------------------------------------------------------------- what rules see


@dataclass(frozen=True, slots=True)
class CheckInput:
    """One check of a service as the rules need it (seconds, not milliseconds)."""

    name: str
    kind: CheckKind
    status: Status
    checked_at: datetime | None
    duration_s: float | None = None
    target_s: float | None = None
    p95_s: float | None = None


@dataclass(frozen=True, slots=True)
class ServiceInput:
    """One service at the time of an evaluation."""

    name: str
    status: Status
    reason: str = ""
    detail: str = ""
    since: datetime | None = None
    checked_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    team: str | None = None
    runbook: str | None = None
    depends_on: tuple[str, ...] = ()
    checks: tuple[CheckInput, ...] = ()

    @classmethod
    def from_status(cls, s: ServiceStatus) -> ServiceInput:
        """Adapter from the public model; latency there is in milliseconds."""

        def sec(ms: float | None) -> float | None:
            return None if ms is None else ms / 1000.0

        checks = tuple(
            CheckInput(
                name=c.name,
                kind=c.kind,
                status=c.status,
                checked_at=c.checked_at,
                duration_s=sec(c.duration_ms),
                target_s=sec(c.target_ms),
                p95_s=sec(c.latency_ms.p95 if c.latency_ms else None),
            )
            for c in s.checks
        )
        return cls(
            name=s.name,
            status=s.status,
            reason=s.reason.value,
            detail=s.detail,
            since=s.since,
            checked_at=s.checked_at,
            labels=dict(s.labels),
            team=s.team,
            runbook=s.runbook,
            depends_on=tuple(s.depends_on),
            checks=checks,
        )


@dataclass(frozen=True, slots=True)
class RuleInput:
    """Everything one evaluation looks at. The daemon fills it after each check.

    `last_check_at` is when any check last completed, `loop_lag_s` the event loop's measured
    lag and `schedule_lag_s` how late checks started (p99, last minute): they feed the monitor's
    own rules (`checks_stalled`, `loop_lag`, `schedule_lag`). `silences` are the
    ones added at run time through the API; the file's silences come with the rules.
    """

    services: Mapping[str, ServiceInput]
    started_at: datetime
    last_check_at: datetime | None = None
    loop_lag_s: float | None = None
    silences: tuple[Silence, ...] = ()
    schedule_lag_s: float | None = None

    @classmethod
    def from_fleet(
        cls,
        fleet: FleetStatus,
        *,
        started_at: datetime,
        last_check_at: datetime | None = None,
        loop_lag_s: float | None = None,
        silences: tuple[Silence, ...] = (),
        schedule_lag_s: float | None = None,
    ) -> RuleInput:
        services = {s.name: ServiceInput.from_status(s) for s in fleet.services}
        return cls(
            services=services,
            started_at=started_at,
            last_check_at=last_check_at,
            loop_lag_s=loop_lag_s,
            silences=silences,
            schedule_lag_s=schedule_lag_s,
        )


# --------------------------------------------------------------------------- silences

MatchOp = Literal["=", "!=", "=~", "!~"]


class Matcher(BaseModel):
    """A label matcher as in Alertmanager: `service = do-db`, `team =~ core|infra`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    value: str
    op: MatchOp = "="

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None
        return hit if self.op == "=~" else not hit


class Silence(BaseModel):
    """A maintenance window: alerts whose labels match every matcher are not notified."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = ""
    matchers: tuple[Matcher, ...] = Field(min_length=1)
    starts_at: datetime
    ends_at: datetime
    comment: str = ""
    created_by: str = "alerts.yaml"

    @field_validator("matchers", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """`{service: do-db}` is short for `[{name: service, value: do-db}]`."""
        if isinstance(value, dict):
            return [{"name": k, "value": v} for k, v in value.items()]
        return value

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """A time without a zone is UTC (comparing naive and aware times would crash)."""
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def silences(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.active(now) and all(m.matches(labels) for m in self.matchers)


# --------------------------------------------------------------------------- what rules remember


class Phase(enum.StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertRecord(BaseModel):
    """One alert instance (rule x identity labels) across evaluations and restarts."""

    rule: str
    fingerprint: str
    labels: dict[str, str]
    phase: Phase
    active_since: datetime
    active_count: int = 0
    firing_since: datetime | None = None
    clear_since: datetime | None = None
    clear_count: int = 0
    notified_at: datetime | None = None
    resolved_at: datetime | None = None
    suppressed_by: str | None = None
    annotations: dict[str, str] = Field(default_factory=dict)
    receivers: list[str] = Field(default_factory=list)
    send_resolved: bool = True

    @property
    def key(self) -> str:
        """Its key in `AlertState.alerts` (from the labels: `fingerprint` may be older)."""
        return alert_key(self.rule, self.labels)


class CheckHistory(BaseModel):
    """Per check: last result seen, and (total, bad) counts per time bucket for burn rates."""

    last_checked_at: datetime | None = None
    buckets: dict[int, tuple[int, int]] = Field(default_factory=dict)


class ServiceHistory(BaseModel):
    """Per service: last result seen and the times its status changed (for flapping)."""

    last_checked_at: datetime | None = None
    last_status: Status | None = None
    changes: list[datetime] = Field(default_factory=list)
    checks: dict[str, CheckHistory] = Field(default_factory=dict)


class AlertState(BaseModel):
    """Everything `evaluate` remembers. Serializable; the outbox persists it.

    `recheck_soon` is advice from the last evaluation, not memory: services failing but not yet
    confirmed, which the daemon should re-check at its faster interval.
    """

    alerts: dict[str, AlertRecord] = Field(default_factory=dict)
    services: dict[str, ServiceHistory] = Field(default_factory=dict)
    recheck_soon: list[str] = Field(default_factory=list)

    def firing(self) -> list[AlertRecord]:
        return [a for a in self.alerts.values() if a.phase is Phase.FIRING]


# --------------------------------------------------------------------------- what rules emit

EventKind = Literal["firing", "repeat", "resolved"]


_FNV64_OFFSET = 0xCBF29CE484222325
_FNV64_PRIME = 0x100000001B3
_U64 = 0xFFFFFFFFFFFFFFFF
_SEPARATOR = b"\xff"  # a byte no UTF-8 text contains: "a"+"bc" and "ab"+"c" differ


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of these labels, as its API and webhooks print it.

    `LabelSet.Fingerprint()` (prometheus/common, model/signature.go): FNV-1a 64 over each
    label sorted by name, as name, 0xff, value, 0xff; `%016x`. An empty value is no label in
    Prometheus and Alertmanager drops it before hashing, so it is left out here too.
    Labels never hold a replica name or a time, so every replica and every restart computes
    the same fingerprint for the same alert.
    """
    return _fnv64a_labels(tuple(sorted((k, v) for k, v in labels.items() if v)))


@functools.lru_cache(maxsize=1 << 16)
def _fnv64a_labels(pairs: tuple[tuple[str, str], ...]) -> str:
    # Sorting by code point is sorting by UTF-8 bytes (Go's order); memoised because every
    # evaluation fingerprints every signal and this loop runs in Python.
    data = b"".join(
        name.encode("utf-8", "surrogatepass")
        + _SEPARATOR
        + value.encode("utf-8", "surrogatepass")
        + _SEPARATOR
        for name, value in pairs
    )
    digest = _FNV64_OFFSET
    for byte in data:
        digest = ((digest ^ byte) * _FNV64_PRIME) & _U64
    return f"{digest:016x}"


def alert_key(rule: str, labels: Mapping[str, str]) -> str:
    """Where `AlertState.alerts` keeps the alert of `rule` with these identity labels."""
    return f"{rule}/{fingerprint(labels)}"


def keyed_by_labels(alerts: Mapping[str, AlertRecord]) -> dict[str, AlertRecord]:
    """The records under the key `evaluate` looks them up by (`alert_key`).

    State saved before fingerprints became Alertmanager's is keyed by the old ones: re-keyed
    here, a restart after the upgrade finds its firing alerts (no re-page) and resolves them.
    A record that was notified keeps the `fingerprint` its notifications carried until it
    resolves, so the resolve reaches the same PagerDuty incident (`dedup_key`) and follows
    its firing in the outbox (same `order_key`); its next incident takes the new one.
    """
    keyed: dict[str, AlertRecord] = {}
    for record in alerts.values():
        key = alert_key(record.rule, record.labels)
        if record.notified_at is None or record.phase is Phase.RESOLVED:
            record = record.model_copy(update={"fingerprint": fingerprint(record.labels)})
        held = keyed.get(key)
        if held is None or held.phase is Phase.RESOLVED:
            keyed[key] = record
    return keyed


class AlertEvent(BaseModel):
    """A notification decision: an alert started firing, is still firing, or resolved."""

    model_config = ConfigDict(frozen=True)

    kind: EventKind
    rule: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None = None
    at: datetime
    receivers: list[str]
    generator_url: str = ""

    @property
    def status(self) -> Literal["firing", "resolved"]:
        return "resolved" if self.kind == "resolved" else "firing"

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "warning")

    @property
    def incident_key(self) -> str:
        """Stable per incident and identical for trigger and resolve (PagerDuty dedup_key)."""
        return f"{self.rule}/{self.fingerprint}"[:255]


class Batch(BaseModel):
    """What one receiver gets in one delivery: one or more events for the same route."""

    model_config = ConfigDict(frozen=True)

    receiver: str
    events: tuple[AlertEvent, ...] = Field(min_length=1)
    external_url: str = ""

    @property
    def status(self) -> Literal["firing", "resolved"]:
        return "firing" if any(e.status == "firing" for e in self.events) else "resolved"

    @property
    def group_key(self) -> str:
        names = sorted({e.rule for e in self.events})
        return "{}:{alertname=" + '"' + ",".join(names) + '"}'

    @property
    def dedup_key(self) -> str:
        """The outbox key: one row per receiver, alert, event kind and decision time."""
        parts = sorted(f"{e.fingerprint}:{e.kind}:{e.at.isoformat()}" for e in self.events)
        return hashlib.sha256(f"{self.receiver}|{'|'.join(parts)}".encode()).hexdigest()
