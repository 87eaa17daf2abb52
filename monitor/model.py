"""The standard health model: every answer, whatever its shape, ends up as these types.

`Status` and `Reason` are the public vocabulary: dashboards, alert rules and the deploy gate
match on them, so members are only ever added, never renamed.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

_Model = TypeVar("_Model", bound=BaseModel)


class Status(enum.StrEnum):
    """Health of a check, a service or the fleet. Ordered from best to worst by `severity`."""

    HEALTHY = "healthy"
    UNKNOWN = "unknown"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Status.HEALTHY: 0, Status.UNKNOWN: 1, Status.DEGRADED: 2, Status.UNHEALTHY: 3}


def worst(statuses: Any) -> Status:
    """The worst of `statuses`; `healthy` for none (an empty fleet has nothing wrong)."""
    result = Status.HEALTHY
    for status in statuses:
        if status.severity > result.severity:
            result = status
    return result


class Reason(enum.StrEnum):
    """Why a check has its status: a stable machine code. Documented in docs/reasons.md."""

    # healthy
    OK = "ok"
    # before the first answer
    NOT_CHECKED = "not_checked"
    # the service said so itself
    REPORTED_DEGRADED = "reported_degraded"
    REPORTED_UNHEALTHY = "reported_unhealthy"
    REPORTED_UNKNOWN = "reported_unknown"
    COMPONENT_DEGRADED = "component_degraded"
    COMPONENT_UNHEALTHY = "component_unhealthy"
    INCONSISTENT_STATUS = "inconsistent_status"
    # we could not tell what the body means
    UNRECOGNIZED_BODY = "unrecognized_body"
    INVALID_JSON = "invalid_json"
    INVALID_ENCODING = "invalid_encoding"
    BODY_TOO_LARGE = "body_too_large"
    UNEXPECTED_CONTENT_TYPE = "unexpected_content_type"
    # the HTTP layer
    NOT_FOUND = "not_found"
    UNAUTHORIZED = "unauthorized"
    RATE_LIMITED = "rate_limited"
    CLIENT_ERROR = "client_error"
    SERVER_ERROR = "server_error"
    UNEXPECTED_REDIRECT = "unexpected_redirect"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    # the platform in front of the service (Cloudflare and alike)
    WORKER_EXCEPTION = "worker_exception"
    WORKER_RESOURCE_LIMIT = "worker_resource_limit"
    EDGE_ERROR = "edge_error"
    ORIGIN_UNREACHABLE = "origin_unreachable"
    # the transport
    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_RESET = "connection_reset"
    DNS_FAILURE = "dns_failure"
    TLS_CERTIFICATE_EXPIRED = "tls_certificate_expired"
    TLS_CERTIFICATE_UNTRUSTED = "tls_certificate_untrusted"
    TLS_ERROR = "tls_error"
    PROTOCOL_ERROR = "protocol_error"
    CONNECTION_ERROR = "connection_error"
    # latency
    LATENCY_OVER_TARGET = "latency_over_target"
    # the check's own expectations (`expect:`) and certificate (`tls:`)
    ASSERTION_FAILED = "assertion_failed"
    ASSERTION_ERROR = "assertion_error"
    CERTIFICATE_EXPIRING = "certificate_expiring"
    # protocol probes (tcp, mcp)
    UNEXPECTED_BANNER = "unexpected_banner"
    MCP_ERROR = "mcp_error"
    PROTOCOL_VERSION_MISMATCH = "protocol_version_mismatch"
    TOOL_MISSING = "tool_missing"
    # real traffic (Cloudflare analytics, monitor/analytics/)
    ERROR_RATE_HIGH = "error_rate_high"
    CPU_NEAR_LIMIT = "cpu_near_limit"
    QUEUE_BACKLOG_GROWING = "queue_backlog_growing"
    ANALYTICS_UNAVAILABLE = "analytics_unavailable"
    # push checks (heartbeats): the job reports in, silence is the failure
    NEVER_REPORTED = "never_reported"
    LATE = "late"
    REPORTED_FAILURE = "reported_failure"
    RUN_TOO_LONG = "run_too_long"


class CheckKind(enum.StrEnum):
    """What a check exercises: the service's health endpoint, an RPC smoke path, an HTTP path,
    or a job that reports in itself (`push`: a heartbeat, nothing is polled)."""

    HEALTH = "health"
    RPC = "rpc"
    HTTP = "http"
    TCP = "tcp"
    MCP = "mcp"
    ANALYTICS = "analytics"
    """Real traffic from Cloudflare's GraphQL Analytics, polled for the whole fleet at once."""
    PUSH = "push"


class Component(BaseModel):
    """One dependency a service reports on inside its health answer (e.g. `postgres`)."""

    model_config = ConfigDict(frozen=True)

    status: Status
    detail: str = ""


class Certificate(BaseModel):
    """The certificate a TLS check was shown: the leaf, and the earliest expiry in its chain."""

    model_config = ConfigDict(frozen=True)

    host: str
    not_after: datetime = Field(description="The leaf certificate's notAfter.")
    chain_not_after: datetime = Field(description="The earliest notAfter in the presented chain.")
    days_left: int = Field(description="Whole days until chain_not_after, when checked.")
    subject: str = ""
    issuer: str = ""
    expiring_subject: str = Field(
        default="", description="Set when a certificate other than the leaf expires first."
    )
    verified: bool = Field(
        default=True, description="False with insecure_skip_verify: nobody checked who it is."
    )


class Verdict(BaseModel):
    """What the normalizer concludes from one answer: pure data, no timing, no identity."""

    model_config = ConfigDict(frozen=True)

    status: Status
    reason: Reason
    detail: str
    http_status: int | None = None
    components: dict[str, Component] = Field(default_factory=dict)
    version: str | None = None
    evidence: str = ""
    tls: Certificate | None = None
    # what the verdict rests on: the field or line read (`status="UP"`, `first line "ok"`,
    # `HTTP 503`), for `normalize.explain` and people who disagree with a verdict
    read: str = ""


class LatencySummary(BaseModel):
    """Rolling percentiles of a check's round trip, in milliseconds."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    window: str = "5m"
    count: int = 0


class CheckStatus(BaseModel):
    """The public view of one check: the last verdict plus its history in time."""

    name: str
    kind: CheckKind
    url: str
    status: Status
    reason: Reason
    detail: str
    http_status: int | None = None
    duration_ms: float | None = Field(
        default=None, description="Round trip of the last check, milliseconds."
    )
    latency_ms: LatencySummary | None = None
    latency_source: str | None = Field(
        default=None,
        description="What latency_ms measures: server_timing or json (the service's own "
        "report of its RPC) or round_trip (the monitor's measurement).",
    )
    target_ms: float | None = None
    within_target: bool | None = None
    components: dict[str, Component] = Field(default_factory=dict)
    version: str | None = None
    evidence: str = ""
    tls: Certificate | None = None
    checked_at: datetime | None = None
    since: datetime | None = Field(default=None, description="When the status last changed.")
    consecutive: int = Field(default=0, description="Checks in a row with this status.")


class MaintenanceNote(BaseModel):
    """The maintenance window that holds a service's pages now (alerts.yaml `maintenance:`)."""

    name: str
    ends_at: datetime


class ServiceStatus(BaseModel):
    """One service: its own status is the worst of its checks (smoke checks cap at degraded)."""

    name: str
    status: Status
    reason: Reason
    detail: str
    url: str
    http_status: int | None = None
    duration_ms: float | None = None
    latency_ms: LatencySummary | None = None
    target_ms: float | None = None
    within_target: bool | None = None
    components: dict[str, Component] = Field(default_factory=dict)
    version: str | None = None
    evidence: str = ""
    checked_at: datetime | None = None
    since: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    team: str | None = None
    runbook: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    checks: list[CheckStatus] = Field(default_factory=list)
    maintenance: MaintenanceNote | None = Field(
        default=None, description="Set while a maintenance window holds its pages."
    )


class ShardInfo(BaseModel):
    """Which part of the fleet a sharded replica checks (`monitor run --shard I/N`). Checks it
    does not own are left out of `services` (a service with none of its checks owned is left
    out too): absent means "not covered by this replica", `not_checked` means "not yet"."""

    index: int = Field(description="0-based shard index (the StatefulSet ordinal).")
    count: int = Field(description="Number of shards.")
    replicas: int = Field(description="How many shards own each check.")
    replica: str = Field(description="This replica's name (its hostname by default).")
    by: str = Field(description="What is hashed: `check` (its id) or `service` (its name).")
    checks_owned: int
    checks_total: int = Field(description="Checks in the config, owned or not.")
    config_digest: str = Field(
        description="Hash of every check id in the config: replicas that differ run different "
        "configs."
    )


class Page(BaseModel):
    """Set when `/status` was asked with filters or a limit (docs: README, "/status")."""

    total: int = Field(description="Services matching the filters, over all pages.")
    limit: int | None = None
    next_cursor: str | None = Field(
        default=None, description="Pass as ?cursor= for the next page; null on the last page."
    )


class FleetStatus(BaseModel):
    """The body of `GET /status`. With filters, `status` and `counts` summarise the services
    in this answer (this page)."""

    status: Status
    generated_at: datetime
    counts: dict[Status, int]
    services: list[ServiceStatus]
    shard: ShardInfo | None = Field(
        default=None, description="Set on a sharded replica only; see docs/ha.md."
    )
    page: Page | None = None


def status_json_schema() -> dict[str, Any]:
    """JSON Schema of `GET /status`, served at `/status/schema` and kept in docs/."""
    return FleetStatus.model_json_schema()


def unvalidated(cls: type[_Model], values: dict[str, Any]) -> _Model:
    """A `cls` from values the daemon made itself, each already of its field's type, every
    field given: what `model_construct` does, without its per-field Python loop (a third of
    the cost of validating, which copies what it checks). /status builds a view per service
    and per check per request; tests/test_status_document.py pins the JSON to the validated
    model's, so a value of the wrong type or a field left out cannot pass unseen."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(values))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model
