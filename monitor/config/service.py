"""A service's entry in `monitor.yaml` and the check entries under it (rpc, http, push, ...;
tcp and mcp have their models in monitor/checks/), and `defaults:` that fills their gaps."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BeforeValidator, Field, field_validator, model_validator

from monitor.checks.mcp import DEFAULT_TARGET as MCP_TARGET
from monitor.checks.mcp import McpCheckConfig
from monitor.checks.tcp import DEFAULT_TARGET as TCP_TARGET
from monitor.checks.tcp import TcpCheckConfig
from monitor.config.fields import (
    BASE_URL,
    Duration,
    Headers,
    MetricsDetail,
    Name,
    Rate,
    Ratio,
    Secret,
    Strict,
    link_url,
    request_path,
)
from monitor.expectations.settings import ExpectConfig, RequestBody
from monitor.model import CheckKind
from monitor.secrets_scrub import without_userinfo
from monitor.tls import TlsConfig

DEFAULT_TARGETS = {CheckKind.RPC: 0.005, CheckKind.HTTP: 0.050, CheckKind.HEALTH: 0.050}
DEFAULT_TARGETS.update({CheckKind.TCP: TCP_TARGET, CheckKind.MCP: MCP_TARGET})


class SmokeCheckConfig(RequestBody):
    """An HTTP path that exercises one service-to-service call (rpc) or one API (http)."""

    name: Name
    path: str
    target: Duration | None = None
    interval: Duration | None = None
    timeout: Duration | None = None
    headers: Headers = Field(default_factory=dict)
    expect: ExpectConfig | None = None

    _check_path = field_validator("path")(request_path)


PUSH_TOKEN_MIN_CHARS = 16
"""A push token is the only credential of its URL: short ones could be guessed."""


class PushCheckConfig(Strict):
    """A job that reports in (`/push/{token}`): on a cron `schedule` or `every` period."""

    name: Name
    schedule: str | None = None
    timezone: str | None = None
    every: Duration | None = Field(default=None, gt=0)
    grace: Duration = Field(gt=0)
    max_runtime: Duration | None = Field(default=None, gt=0)
    token: Secret

    @field_validator("schedule")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        if value is not None and (len(value.split()) != 5 or not croniter.is_valid(value)):
            raise ValueError(
                f"expected a 5-field cron expression such as '0 3 * * *', got {value!r}"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"expected an IANA time zone such as Europe/Berlin or UTC, got {value!r}"
                ) from None
        return value

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: Secret) -> Secret:
        text = value.get_secret_value()
        if len(text) < PUSH_TOKEN_MIN_CHARS:
            raise ValueError(f"expected a secret of at least {PUSH_TOKEN_MIN_CHARS} characters")
        if "/" in text or not text.isprintable() or text != text.strip():
            raise ValueError("expected a token without '/', spaces or control characters")
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> PushCheckConfig:
        if (self.schedule is None) == (self.every is None):
            raise ValueError("expected exactly one of schedule (cron) or every (a period)")
        if self.timezone is not None and self.schedule is None:
            raise ValueError("timezone applies to a cron schedule only")
        return self


class Defaults(Strict):
    interval: Duration = Field(default=30.0, gt=0)
    timeout: Duration = Field(default=5.0, gt=0)
    recheck_interval: Duration = Field(default=5.0, gt=0)
    health_path: str = "/health"
    headers: Headers = Field(default_factory=dict)
    max_body_bytes: int = Field(default=65536, ge=1024, le=16 * 1024 * 1024)
    max_redirects: int = Field(default=5, ge=0, le=20)
    cross_host_redirects: bool = False
    """Follow a redirect to another host name (configured headers are then not sent)."""
    rpc_target: Duration = Field(default=DEFAULT_TARGETS[CheckKind.RPC], gt=0)
    http_target: Duration = Field(default=DEFAULT_TARGETS[CheckKind.HTTP], gt=0)
    health_target: Duration = Field(default=DEFAULT_TARGETS[CheckKind.HEALTH], gt=0)
    tls: TlsConfig | None = None

    _check_path = field_validator("health_path")(request_path)


class LoadConfig(Strict):
    """`monitor load --service` and `monitor verify --load`: an open-loop load on one check.
    Targets default to the check's own; see docs/deploy-gate.md."""

    rate: Rate
    duration: Duration = Field(default=30.0, gt=0)
    warmup: Duration = Field(default=5.0, ge=0)
    check: Name = "health"
    connections: int | None = Field(default=None, ge=1, le=10_000)
    target_p95: Duration | None = Field(default=None, gt=0)
    target_p99: Duration | None = Field(default=None, gt=0)
    max_error_ratio: Ratio = 0.001


class AnalyticsTargets(Strict):
    """What real traffic may show before the service's `analytics` check degrades."""

    error_ratio: Ratio = Field(default=0.01, gt=0, lt=1)
    cpu_p99: Duration = Field(default=0.050, gt=0)


class QueueRef(Strict):
    """A Cloudflare Queue: `name` is shown; `id` is what the Queues datasets filter on."""

    name: Name
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$")

    @property
    def queue_id(self) -> str:
        return self.id or self.name


def _queue_ref(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class ServiceConfig(Strict):
    name: Name
    url: str | None = None
    """Optional for a service whose checks all name their own target (`URL_LESS_KINDS`)."""
    health_path: str | None = None
    interval: Duration | None = Field(default=None, gt=0)
    timeout: Duration | None = Field(default=None, gt=0)
    headers: Headers = Field(default_factory=dict)
    labels: dict[Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")], str] = Field(
        default_factory=dict
    )
    team: str | None = None
    runbook: str | None = None
    depends_on: tuple[Name, ...] = ()
    target: Duration | None = None
    metrics: MetricsDetail | None = None
    """Overrides the top-level `metrics:` for this service's checks."""
    expect: ExpectConfig | None = None
    """Expectations on the health check."""
    tls: TlsConfig | None = None
    rpc: tuple[SmokeCheckConfig, ...] = ()
    http: tuple[SmokeCheckConfig, ...] = ()
    tcp: tuple[TcpCheckConfig, ...] = ()
    mcp: tuple[McpCheckConfig, ...] = ()
    push: tuple[PushCheckConfig, ...] = ()
    load: LoadConfig | None = None
    worker: Name | None = None
    """The Worker script name in Cloudflare's analytics; default: the service name."""
    analytics: AnalyticsTargets = AnalyticsTargets()
    """Shared when not set (frozen): a model per service was a fifth of validating 100,000."""
    queues: tuple[Annotated[QueueRef, BeforeValidator(_queue_ref)], ...] = ()

    @property
    def worker_name(self) -> str:
        return self.worker or self.name

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not BASE_URL.fullmatch(value):
            shown = without_userinfo(value)
            raise ValueError(f"expected an http:// or https:// base URL, got {shown!r}")
        return value.rstrip("/")

    _check_path = field_validator("health_path")(request_path)

    @field_validator("runbook")
    @classmethod
    def _check_runbook(cls, value: str | None) -> str | None:
        return None if value is None else link_url(value)
