"""Rules across fields of `monitor.yaml`, checked once every field is valid: unique names,
known dependencies, one token per push check, timeout within interval."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.config.cloudflare import CLOUDFLARE_GRAPHQL_URL, MIN_CLOUDFLARE_INTERVAL
from monitor.config.document import MonitorConfig
from monitor.config.service import ServiceConfig
from monitor.errors import ConfigProblem

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


@dataclass(slots=True)
class _Suspects:
    """Services by position that a rule may refuse, found in one pass over every service:
    each pass over 100,000 models costs ~15 ms in attribute reads alone."""

    names: list[str] = field(default_factory=list)
    shaped: list[int] = field(default_factory=list)
    """Without url, or with more than one check (a duplicate check name needs two)."""
    referring: list[int] = field(default_factory=list)
    """With `load:` or `depends_on:`."""
    pushing: list[int] = field(default_factory=list)


def _suspects(services: list[ServiceConfig]) -> _Suspects:
    found = _Suspects()
    names, shaped, referring, pushing = (
        found.names, found.shaped, found.referring, found.pushing
    )  # fmt: skip
    for i, s in enumerate(services):
        names.append(s.name)
        push = s.push
        if s.url is None or len(s.rpc) + len(s.http) + len(s.tcp) + len(s.mcp) + len(push) > 1:
            shaped.append(i)
        if s.load is not None or s.depends_on:
            referring.append(i)
        if push:
            pushing.append(i)
    return found


def _name_problems(config: MonitorConfig, suspects: _Suspects) -> list[ConfigProblem]:
    """Duplicate service names, url-less services, duplicate check names within a service,
    each looked at in service order."""
    services, names = config.services, suspects.names
    duplicated = len(set(names)) != len(names)
    looked_at = range(len(names)) if duplicated else suspects.shaped
    problems: list[ConfigProblem] = []
    for i in looked_at:
        service = services[i]
        first = config.position(service.name) if duplicated else i
        if first != i:
            problems.append(
                ConfigProblem(
                    f"services[{i}].name",
                    f"duplicate service name {service.name!r} (first at services[{first}])",
                )
            )
        if service.url is None:
            problems.extend(_url_less_problems(i, service))
        problems.extend(_duplicate_checks(i, service))
    return problems


def _duplicate_checks(i: int, service: ServiceConfig) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    smoke_seen: set[tuple[str, str]] = set()
    for kind in ("rpc", "http", "tcp", "mcp", "push"):
        for j, smoke in enumerate(getattr(service, kind)):
            key = (kind, smoke.name)
            if key in smoke_seen:
                problems.append(
                    ConfigProblem(
                        f"services[{i}].{kind}[{j}].name",
                        f"duplicate {kind} check name {smoke.name!r} in service {service.name!r}",
                    )
                )
            smoke_seen.add(key)
    return problems


def _reference_problems(i: int, service: ServiceConfig, names: set[str]) -> list[ConfigProblem]:
    """`load.check` and `depends_on` name things that exist."""
    problems: list[ConfigProblem] = []
    if service.load is not None:
        checks = [*(["health"] if service.url else []), *(c.name for c in service.rpc)]
        checks.extend(c.name for c in service.http)
        if service.load.check not in checks:
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
                ConfigProblem(f"services[{i}].depends_on[{j}]", "a service cannot depend on itself")
            )
    return problems


def cross_check(config: MonitorConfig) -> list[ConfigProblem]:
    """Rules across fields: unique names, known dependencies, timeout within interval."""
    problems: list[ConfigProblem] = []
    if config.latency.status_window not in config.latency.windows:
        problems.append(
            ConfigProblem("latency.status_window", "expected one of the latency.windows")
        )
    suspects = _suspects(config.services)
    problems.extend(_name_problems(config, suspects))
    names = set(suspects.names)
    for i in suspects.referring:
        problems.extend(_reference_problems(i, config.services[i], names))
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
    for i in suspects.pushing:
        service = config.services[i]
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
                    f"services[{config.position(check.service)}].timeout",
                    f"timeout {check.timeout}s of check {check.id} is longer than its interval "
                    f"{check.interval}s; expected timeout <= interval",
                )
            )
    return problems
