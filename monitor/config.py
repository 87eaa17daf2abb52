"""`monitor.yaml`: pydantic models, validated while decoded, with file/line/field errors.

Input models (`MonitorConfig`, `ServiceConfig`, ...) mirror the file and leave optional fields
unset; `MonitorConfig.checks()` resolves them against `defaults:` into the `Check` objects the
daemon runs. Unknown keys are refused, so a typo never silently does nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.checks.mcp import DEFAULT_TARGET as MCP_TARGET
from monitor.checks.mcp import McpCheckConfig
from monitor.checks.tcp import DEFAULT_TARGET as TCP_TARGET
from monitor.checks.tcp import TcpCheckConfig
from monitor.durations import parse_duration, parse_rate
from monitor.errors import ConfigError, ConfigProblem
from monitor.expectations.program import Expectation
from monitor.expectations.settings import ExpectConfig, RequestBody
from monitor.model import CheckKind
from monitor.secrets_scrub import without_userinfo
from monitor.tls import TlsConfig, TlsSettings, resolve_tls
from monitor.yaml_lines import line_for, load_yaml, path_to_loc, validation_problems

Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds, written in the file as `250ms`, `10s`, `5m`."""
Rate = Annotated[float, BeforeValidator(parse_rate)]
"""Per second, written in the file as `1000/s` or `60/m`."""


def parse_ratio(value: object) -> float:
    """A share from `0.1%` or `0.001` (between 0 and 1)."""
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    try:
        ratio = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        ratio = -1.0
    if isinstance(value, bool) or not 0.0 <= ratio <= 1.0:
        raise ValueError(f"expected a ratio such as 0.1% or 0.001 (0 to 1), got {value!r}")
    return ratio


Ratio = Annotated[float, BeforeValidator(parse_ratio)]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
Name = Annotated[str, Field(pattern=NAME_PATTERN)]

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

MetricsDetail = Literal["lean", "detailed"]
"""`lean`: ~15 series a check (docs/prometheus.md); `detailed`: every series, per window."""

DEFAULT_TARGETS = {CheckKind.RPC: 0.005, CheckKind.HTTP: 0.050, CheckKind.HEALTH: 0.050}
DEFAULT_TARGETS.update({CheckKind.TCP: TCP_TARGET, CheckKind.MCP: MCP_TARGET})


def expand_env(value: str, env: Mapping[str, str]) -> str:
    """Replace `${VAR}` / `${VAR:-default}`; an unset variable without default is an error."""

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ValueError(f"environment variable {name} is not set")

    return _ENV_REF.sub(substitute, value)


def _expand_secret(value: Any, info: ValidationInfo) -> SecretStr:
    """A header value, with `${VAR}` taken from the environment; never shown in repr or logs."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected a string value")
    env = (info.context or {}).get("env", os.environ)
    text = expand_env(str(value), env)
    if "\n" in text or "\r" in text:
        raise ValueError("value contains a line break")
    return SecretStr(text)


HeaderName = Annotated[str, Field(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
Headers = dict[HeaderName, Annotated[SecretStr, BeforeValidator(_expand_secret)]]


LINK_URL = re.compile(r"(?i)https?://[^\s/?#@]+(?:[/?#]\S*)?")


def link_url(value: str) -> str:
    """A URL someone will click (the status page's runbook link, an alert's dashboard button):
    http(s) only, so a config can never put `javascript:` or `data:` behind a link."""
    if not LINK_URL.fullmatch(value):
        raise ValueError(f"expected an http:// or https:// URL, got {value[:80]!r}")
    return value


def _path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"expected a path starting with '/', got {value!r}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmokeCheckConfig(RequestBody):
    """An HTTP path that exercises one service-to-service call (rpc) or one API (http)."""

    name: Name
    path: str
    target: Duration | None = None
    interval: Duration | None = None
    timeout: Duration | None = None
    headers: Headers = Field(default_factory=dict)
    expect: ExpectConfig | None = None

    _check_path = field_validator("path")(_path)


PUSH_TOKEN_MIN_CHARS = 16
"""A push token is the only credential of its URL: short ones could be guessed."""


class PushCheckConfig(_Strict):
    """A job that reports in (`/push/{token}`): on a cron `schedule` or `every` period."""

    name: Name
    schedule: str | None = None
    timezone: str | None = None
    every: Duration | None = Field(default=None, gt=0)
    grace: Duration = Field(gt=0)
    max_runtime: Duration | None = Field(default=None, gt=0)
    token: Annotated[SecretStr, BeforeValidator(_expand_secret)]

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
    def _check_token(cls, value: SecretStr) -> SecretStr:
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


@dataclass(frozen=True, slots=True)
class PushSpec:
    """When a push check expects its pings; the maths is in monitor/probes/push/schedule.py."""

    grace: float
    token: SecretStr = field(repr=False)
    cron: str | None = None
    timezone: str = "UTC"
    every: float | None = None
    max_runtime: float | None = None


class Defaults(_Strict):
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

    _check_path = field_validator("health_path")(_path)


class LoadConfig(_Strict):
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


class AnalyticsTargets(_Strict):
    """What real traffic may show before the service's `analytics` check degrades."""

    error_ratio: Ratio = Field(default=0.01, gt=0, lt=1)
    cpu_p99: Duration = Field(default=0.050, gt=0)


class QueueRef(_Strict):
    """A Cloudflare Queue: `name` is shown; `id` is what the Queues datasets filter on."""

    name: Name
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$")

    @property
    def queue_id(self) -> str:
        return self.id or self.name


def _queue_ref(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


MIN_CLOUDFLARE_INTERVAL = 60.0
CLOUDFLARE_GRAPHQL_URL = "https://api.cloudflare.com/client/v4/graphql"


class CloudflareConfig(_Strict):
    """Cloudflare's GraphQL Analytics API: one batched query per `interval` for the fleet."""

    account_id: Annotated[
        str, BeforeValidator(lambda v, info: _expand_secret(v, info).get_secret_value())
    ]
    api_token: Annotated[SecretStr, BeforeValidator(_expand_secret)]
    interval: Duration = Field(default=60.0, gt=0)
    api_url: str = CLOUDFLARE_GRAPHQL_URL
    backlog_intervals: int = Field(default=3, ge=2, le=60)
    """A queue whose backlog rose over this many intervals with no consumption is growing."""

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/?#]+(?::\d+)?(/[^\s?#]*)?", value):
            raise ValueError(
                f"expected an http:// or https:// URL, got {without_userinfo(value)!r}"
            )
        return value


class ServiceConfig(_Strict):
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
    depends_on: list[Name] = Field(default_factory=list)
    target: Duration | None = None
    metrics: MetricsDetail | None = None
    """Overrides the top-level `metrics:` for this service's checks."""
    expect: ExpectConfig | None = None
    """Expectations on the health check."""
    tls: TlsConfig | None = None
    rpc: list[SmokeCheckConfig] = Field(default_factory=list)
    http: list[SmokeCheckConfig] = Field(default_factory=list)
    tcp: list[TcpCheckConfig] = Field(default_factory=list)
    mcp: list[McpCheckConfig] = Field(default_factory=list)
    push: list[PushCheckConfig] = Field(default_factory=list)
    load: LoadConfig | None = None
    worker: Name | None = None
    """The Worker script name in Cloudflare's analytics; default: the service name."""
    analytics: AnalyticsTargets = Field(default_factory=AnalyticsTargets)
    queues: list[Annotated[QueueRef, BeforeValidator(_queue_ref)]] = Field(default_factory=list)

    @property
    def worker_name(self) -> str:
        return self.worker or self.name

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"https?://[^\s/?#]+(?::\d+)?(/[^\s?#]*)?", value):
            shown = without_userinfo(value)
            raise ValueError(f"expected an http:// or https:// base URL, got {shown!r}")
        return value.rstrip("/")

    _check_path = field_validator("health_path")(_path)

    @field_validator("runbook")
    @classmethod
    def _check_runbook(cls, value: str | None) -> str | None:
        return None if value is None else link_url(value)


class LatencyConfig(_Strict):
    """Rolling latency windows. `status_window` is the one /status shows; targets are judged
    on the shortest window holding `min_samples` samples."""

    windows: list[Duration] = Field(default_factory=lambda: [60.0, 300.0, 3600.0], min_length=1)
    status_window: Duration = 300.0
    min_samples: int = Field(default=20, ge=1, le=100_000)

    @field_validator("windows")
    @classmethod
    def _distinct(cls, value: list[float]) -> list[float]:
        if len(set(value)) != len(value) or any(w <= 0 for w in value):
            raise ValueError("expected distinct positive durations")
        return sorted(value)


class StoreConfig(_Strict):
    """The embedded SQLite store. `path` defaults to `<--data-dir>/monitor.sqlite3`."""

    path: str | None = None
    retention: Duration = Field(default=7 * 86400.0, gt=0)


class AuthConfig(_Strict):
    """Bearer tokens. Without `admin_token` the admin API (reload, silences) is disabled;
    with `read_token`, /status and /metrics require it too (/healthz stays open)."""

    admin_token: Annotated[SecretStr, BeforeValidator(_expand_secret)] | None = None
    read_token: Annotated[SecretStr, BeforeValidator(_expand_secret)] | None = None


class MonitorConfig(_Strict):
    listen: str = "127.0.0.1:8700"
    metrics: MetricsDetail = "lean"
    store: StoreConfig = Field(default_factory=StoreConfig)
    latency: LatencyConfig = Field(default_factory=LatencyConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    defaults: Defaults = Field(default_factory=Defaults)
    services: list[ServiceConfig] = Field(default_factory=list)
    cloudflare: CloudflareConfig | None = None

    def checks(self) -> list[Check]:
        """Every check the daemon runs, with `defaults:` applied."""
        return [check for service in self.services for check in _service_checks(self, service)]

    def service(self, name: str) -> ServiceConfig | None:
        return next((s for s in self.services if s.name == name), None)


@dataclass(frozen=True, slots=True)
class Check:
    """One scheduled probe, fully resolved. `id` is stable across reloads and restarts."""

    service: str
    name: str
    kind: CheckKind
    url: str
    method: str
    interval: float
    timeout: float
    target: float
    max_body_bytes: int
    max_redirects: int
    headers: Mapping[str, SecretStr] = field(default_factory=dict, hash=False, compare=True)
    cross_host_redirects: bool = False
    detailed_metrics: bool = False
    """Export today's full set of series for this check, not the lean set."""
    body: bytes = b""
    content_type: str = ""
    expect: Expectation | None = None
    tls: TlsSettings | None = None
    """Set on https checks (and tcp checks with `tls: true`): trust, SNI, expiry thresholds."""
    spec: Hashable | None = None
    """A non-HTTP kind's own settings (monitor.checks), read only by that kind's probe."""
    push: PushSpec | None = field(default=None, hash=False)
    """Set on `push` checks only: their schedule and token (nothing is polled)."""
    id: str = field(init=False, repr=False, compare=False)
    """`service/kind/name`: made once, it is a dict key on every run of the check."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", f"{self.service}/{self.kind.value}/{self.name}")


def _service_checks(config: MonitorConfig, service: ServiceConfig) -> Iterator[Check]:
    d = config.defaults
    headers = {**d.headers, **service.headers}
    interval = service.interval or d.interval
    timeout = service.timeout or d.timeout
    tls = resolve_tls(d.tls, service.tls)
    common: dict[str, Any] = {
        "tls": tls if (service.url or "").lower().startswith("https:") else None,
        "max_body_bytes": d.max_body_bytes,
        "max_redirects": d.max_redirects,
        "cross_host_redirects": d.cross_host_redirects,
        "detailed_metrics": (service.metrics or config.metrics) == "detailed",
    }
    if service.url is None:  # refused by _cross_check unless every check names its own target
        yield from _protocol_checks(service, "", interval, timeout, headers, tls, common)
        yield from _push_checks(service, common)
        return
    yield Check(
        service=service.name,
        name="health",
        kind=CheckKind.HEALTH,
        url=service.url + (service.health_path or d.health_path),
        method="GET",
        interval=interval,
        timeout=timeout,
        target=service.target or d.health_target,
        headers=headers,
        expect=service.expect.resolved() if service.expect else None,
        **common,
    )
    for kind, smoke_checks, default_target in (
        (CheckKind.RPC, service.rpc, d.rpc_target),
        (CheckKind.HTTP, service.http, d.http_target),
    ):
        for smoke in smoke_checks:
            body, content_type = smoke.encoded()
            yield Check(
                service=service.name,
                name=smoke.name,
                kind=kind,
                url=service.url + smoke.path,
                method=smoke.method,
                interval=smoke.interval or interval,
                timeout=smoke.timeout or timeout,
                target=smoke.target or default_target,
                headers={**headers, **smoke.headers},
                body=body,
                content_type=content_type,
                expect=smoke.expect.resolved() if smoke.expect else None,
                **common,
            )
    yield from _protocol_checks(service, service.url, interval, timeout, headers, tls, common)
    yield from _push_checks(service, common)
    if config.cloudflare is not None:
        yield _analytics_check(config.cloudflare, service)


def _protocol_checks(
    service: ServiceConfig,
    base_url: str,
    interval: float,
    timeout: float,
    headers: Mapping[str, SecretStr],
    tls: TlsSettings | None,
    common: dict[str, Any],
) -> Iterator[Check]:
    """The non-HTTP kinds (monitor.checks): each model resolves itself against the base URL,
    which is "" for a url-less service (then only kinds in `URL_LESS_KINDS` are configured)."""
    protocol_checks: list[tuple[CheckKind, list[Any]]] = [
        (CheckKind.TCP, service.tcp),
        (CheckKind.MCP, service.mcp),
    ]
    for kind, entries in protocol_checks:
        for entry in entries:
            yield Check(
                service=service.name,
                name=entry.name,
                kind=kind,
                url=entry.url_for(base_url),
                method=entry.METHOD,
                interval=entry.interval or interval,
                timeout=entry.timeout or timeout,
                target=entry.target or DEFAULT_TARGETS[kind],
                headers=headers if entry.METHOD else {},
                spec=entry.spec(),
                **{**common, "tls": tls if entry.over_tls(base_url) else None},
            )


def _analytics_check(cloudflare: CloudflareConfig, service: ServiceConfig) -> Check:
    """The service's `analytics` check: judged from the fleet's one query per interval."""
    return Check(
        service=service.name,
        name="analytics",
        kind=CheckKind.ANALYTICS,
        url=cloudflare.api_url,
        method="POST",
        interval=cloudflare.interval,
        timeout=min(cloudflare.interval, 30.0),
        target=service.analytics.cpu_p99,
        max_body_bytes=4 * 1024 * 1024,
        max_redirects=0,
    )


def _push_checks(service: ServiceConfig, common: dict[str, Any]) -> Iterator[Check]:
    """Push checks have no URL, interval or timeout: nothing is polled."""
    for push in service.push:
        yield Check(
            service=service.name,
            name=push.name,
            kind=CheckKind.PUSH,
            url="",
            method="",
            interval=0.0,
            timeout=0.0,
            target=0.0,
            push=PushSpec(
                grace=push.grace,
                token=push.token,
                cron=push.schedule,
                timezone=push.timezone or "UTC",
                every=push.every,
                max_runtime=push.max_runtime,
            ),
            **common,
        )


URL_LESS_KINDS = ("tcp", "push")
"""Checks that name their own target: a service with only these may omit `url:` (the health
check, rpc, http and mcp checks are paths under it)."""


def _url_less_problems(i: int, service: ServiceConfig) -> list[ConfigProblem]:
    """A service without `url:` must have checks, and only kinds that need no base URL."""
    under_url = [kind for kind in ("rpc", "http", "mcp") if getattr(service, kind)]
    if under_url:
        return [
            ConfigProblem(
                f"services[{i}].url",
                f"missing: expected a url; its {', '.join(under_url)} checks are paths under it",
            )
        ]
    if not any(getattr(service, kind) for kind in URL_LESS_KINDS):
        return [
            ConfigProblem(
                f"services[{i}].url",
                "missing: expected a url, or only checks that name their own target "
                f"({', '.join(URL_LESS_KINDS)})",
            )
        ]
    return []


def _cross_check(config: MonitorConfig) -> list[ConfigProblem]:
    """Rules across fields: unique names, known dependencies, timeout within interval."""
    problems: list[ConfigProblem] = []
    if config.latency.status_window not in config.latency.windows:
        problems.append(
            ConfigProblem("latency.status_window", "expected one of the latency.windows")
        )
    seen: dict[str, int] = {}
    for i, service in enumerate(config.services):
        if service.name in seen:
            problems.append(
                ConfigProblem(
                    f"services[{i}].name",
                    f"duplicate service name {service.name!r} "
                    f"(first at services[{seen[service.name]}])",
                )
            )
        seen.setdefault(service.name, i)
        if service.url is None:
            problems.extend(_url_less_problems(i, service))
        smoke_seen: set[tuple[str, str]] = set()
        for kind in ("rpc", "http", "tcp", "mcp", "push"):
            for j, smoke in enumerate(getattr(service, kind)):
                key = (kind, smoke.name)
                if key in smoke_seen:
                    problems.append(
                        ConfigProblem(
                            f"services[{i}].{kind}[{j}].name",
                            f"duplicate {kind} check name {smoke.name!r} "
                            f"in service {service.name!r}",
                        )
                    )
                smoke_seen.add(key)
    names = {s.name for s in config.services}
    for i, service in enumerate(config.services):
        checks = [*(["health"] if service.url else []), *(c.name for c in service.rpc)]
        checks.extend(c.name for c in service.http)
        if service.load is not None and service.load.check not in checks:
            problems.append(
                ConfigProblem(
                    f"services[{i}].load.check",
                    f"unknown check {service.load.check!r}; expected one of "
                    f"{', '.join(checks) or 'the http checks under a url (the service has none)'}",
                )
            )
        for j, dep in enumerate(service.depends_on):
            if dep not in names:
                problems.append(
                    ConfigProblem(
                        f"services[{i}].depends_on[{j}]",
                        f"unknown service {dep!r}; expected one of the names under services",
                    )
                )
            elif dep == service.name:
                problems.append(
                    ConfigProblem(
                        f"services[{i}].depends_on[{j}]", "a service cannot depend on itself"
                    )
                )
    cloudflare = config.cloudflare
    if (
        cloudflare is not None
        and cloudflare.interval < MIN_CLOUDFLARE_INTERVAL
        and cloudflare.api_url == CLOUDFLARE_GRAPHQL_URL
    ):
        problems.append(
            ConfigProblem(
                "cloudflare.interval",
                f"interval {cloudflare.interval}s is shorter than 1m; Cloudflare allows 300 "
                "GraphQL queries per 5 minutes (expected >= 1m, or another api_url)",
            )
        )
    tokens: dict[str, str] = {}
    for i, service in enumerate(config.services):
        for j, push in enumerate(service.push):
            first = tokens.setdefault(push.token.get_secret_value(), f"{service.name}/{push.name}")
            if first != f"{service.name}/{push.name}":
                problems.append(  # the message must not carry the token itself
                    ConfigProblem(
                        f"services[{i}].push[{j}].token",
                        f"the same token as push check {first}; expected one token per check",
                    )
                )
    for check in config.checks():
        if check.timeout > check.interval:
            problems.append(
                ConfigProblem(
                    f"services[{list(seen).index(check.service)}].timeout",
                    f"timeout {check.timeout}s of check {check.id} is longer than its interval "
                    f"{check.interval}s; expected timeout <= interval",
                )
            )
    return problems


def parse_config(
    text: str, file: str = "<config>", env: Mapping[str, str] | None = None
) -> MonitorConfig:
    """Validate config text; raise ConfigError listing every problem with its line."""
    data, lines = load_yaml(text, file)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            file, [ConfigProblem("", "expected a mapping with a services: list at the top", 1)]
        )
    try:
        config = MonitorConfig.model_validate(
            data, context={"env": os.environ if env is None else env}
        )
    except ValidationError as exc:
        raise ConfigError(file, validation_problems(exc, lines)) from None
    problems = [
        ConfigProblem(p.location, p.message, line_for(path_to_loc(p.location), lines))
        for p in _cross_check(config)
    ]
    if problems:
        raise ConfigError(file, problems)
    return config


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> MonitorConfig:
    """Read and validate a config file; an unreadable file is a ConfigError too."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, [ConfigProblem("", f"cannot read the file: {exc}")]) from None
    return parse_config(text, file, env)
