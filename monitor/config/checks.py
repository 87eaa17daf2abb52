"""`Check`: one scheduled probe with `defaults:` applied, as the daemon runs it, and how a
service's entry resolves into its checks."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from monitor.config.cloudflare import CloudflareConfig
from monitor.config.fields import MetricsDetail
from monitor.config.service import DEFAULT_TARGETS, Defaults, ServiceConfig
from monitor.expectations.program import Expectation
from monitor.model import CheckKind
from monitor.tls import TlsSettings, resolve_tls


@dataclass(frozen=True, slots=True)
class PushSpec:
    """When a push check expects its pings; the maths is in monitor/probes/push/schedule.py."""

    grace: float
    token: SecretStr = field(repr=False)
    cron: str | None = None
    timezone: str = "UTC"
    every: float | None = None
    max_runtime: float | None = None


@dataclass(slots=True, unsafe_hash=True)
class Check:
    """One scheduled probe, fully resolved. `id` is stable across reloads and restarts.

    Immutable by convention, hashed by value, but not `frozen`: a frozen dataclass sets each
    field through `object.__setattr__`, a sixth of start-up's check resolution at 110,000
    checks (docs/benchmarks.md). Build a changed copy with `dataclasses.replace`."""

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
        self.id = "/".join((self.service, _KIND_TEXT[self.kind], self.name))


_KIND_TEXT = {kind: kind.value for kind in CheckKind}
"""A dict lookup: the enum's `value` or formatting is several times dearer, 110,000 times."""


def resolve_checks(
    d: Defaults,
    metrics: MetricsDetail,
    cloudflare: CloudflareConfig | None,
    services: Iterable[ServiceConfig],
) -> Iterator[Check]:
    """Every service's checks, in config order."""
    default_tls = resolve_tls(d.tls)  # most services have no tls: of their own
    for service in services:
        tls = default_tls if service.tls is None else resolve_tls(d.tls, service.tls)
        yield from _service_checks(d, metrics, cloudflare, service, tls)


def _service_checks(
    d: Defaults,
    metrics: MetricsDetail,
    cloudflare: CloudflareConfig | None,
    service: ServiceConfig,
    tls: TlsSettings,
) -> Iterator[Check]:
    """The checks of one service, in a fixed order: health, rpc, http, tcp, mcp, push,
    analytics. Header maps are shared, not copied, where nothing overrides them (a Check
    never changes its headers): at 100,000 services the copies were a third of resolving."""
    headers = {**d.headers, **service.headers} if service.headers else d.headers
    interval = service.interval or d.interval
    timeout = service.timeout or d.timeout
    url = service.url
    common: dict[str, Any] = {
        "tls": tls if url is not None and url[:6].lower() == "https:" else None,
        "max_body_bytes": d.max_body_bytes,
        "max_redirects": d.max_redirects,
        "cross_host_redirects": d.cross_host_redirects,
        "detailed_metrics": (service.metrics or metrics) == "detailed",
    }
    if url is None:  # refused by cross_check unless every check names its own target
        yield from _protocol_checks(service, "", interval, timeout, headers, tls, common)
        yield from _push_checks(service, common)
        return
    yield Check(
        service=service.name,
        name="health",
        kind=CheckKind.HEALTH,
        url=url + (service.health_path or d.health_path),
        method="GET",
        interval=interval,
        timeout=timeout,
        target=service.target or d.health_target,
        headers=headers,
        expect=service.expect.resolved() if service.expect else None,
        **common,
    )
    if service.rpc or service.http:
        yield from _smoke_checks(d, service, url, interval, timeout, headers, common)
    if service.tcp or service.mcp:
        yield from _protocol_checks(service, url, interval, timeout, headers, tls, common)
    if service.push:
        yield from _push_checks(service, common)
    if cloudflare is not None:
        yield _analytics_check(cloudflare, service)


def _smoke_checks(
    d: Defaults,
    service: ServiceConfig,
    url: str,
    interval: float,
    timeout: float,
    headers: Mapping[str, SecretStr],
    common: dict[str, Any],
) -> Iterator[Check]:
    """The rpc and http checks: paths under the service's url."""
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
                url=url + smoke.path,
                method=smoke.method,
                interval=smoke.interval or interval,
                timeout=smoke.timeout or timeout,
                target=smoke.target or default_target,
                headers={**headers, **smoke.headers} if smoke.headers else headers,
                body=body,
                content_type=content_type,
                expect=smoke.expect.resolved() if smoke.expect else None,
                **common,
            )


def _protocol_checks(
    service: ServiceConfig,
    base_url: str,
    interval: float,
    timeout: float,
    headers: Mapping[str, SecretStr],
    tls: TlsSettings,
    common: dict[str, Any],
) -> Iterator[Check]:
    """The non-HTTP kinds (monitor.checks): each model resolves itself against the base URL,
    which is "" for a url-less service (then only kinds in `URL_LESS_KINDS` are configured)."""
    protocol_checks: list[tuple[CheckKind, Sequence[Any]]] = [
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
