"""Wrangler's configuration files read as workers (`workers/<dir>/wrangler.*`): routes, service
bindings, queue producers and consumers, an MCP server's route or Durable Object binding
(mcp_endpoints.py), with the chosen `env` applied. `fleet_draft.py` turns them into a
monitor.yaml draft. What cannot be read is said in `WorkerScan.warnings`, never guessed.

- `env`: as wrangler does, an `env.<name>` section inherits name (suffixed `-<name>`), routes
  and workers_dev from the top level, but not service or queue bindings.

Parsing is pure (`workers_from_configs`); only `read_configs` touches the disk.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import json5

from monitor.cli.mcp_endpoints import McpEndpoint, mcp_endpoint
from monitor.config import NAME_PATTERN

CONFIG_NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")
"""Wrangler's own order of preference when a directory holds more than one."""

_HOST = re.compile(r"[A-Za-z0-9.-]+(?::\d+)?")


@dataclass(frozen=True, slots=True)
class Binding:
    """A service binding: `binding` is the variable name, `service` the target script."""

    binding: str
    service: str
    environment: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """A route as written: `host/path*` pattern, or a bare hostname when it is a custom domain."""

    pattern: str
    custom_domain: bool = False

    def __str__(self) -> str:
        kind = "custom domain" if self.custom_domain else "route"
        return f"{kind} {self.pattern!r}"


@dataclass(frozen=True, slots=True)
class Worker:
    """What discovery needs from one wrangler file, with the chosen env already applied."""

    name: str
    source: str
    routes: tuple[Route, ...]
    workers_dev: bool
    bindings: tuple[Binding, ...] = ()
    queues: tuple[str, ...] = ()
    """Queues it produces to or consumes from, in the order first named."""
    mcp: McpEndpoint | None = None


@dataclass(frozen=True, slots=True)
class WorkerScan:
    workers: list[Worker]
    warnings: list[str]


def _load(path: str, text: str) -> Any:
    if path.endswith(".toml"):
        return tomllib.loads(text)
    return json5.loads(text)


def route_url(route: Route) -> str | None:
    """The base URL a route serves (`api.example.com/v1/*` -> `https://api.example.com/v1`),
    or None when it names no single host (wildcard host, invalid custom domain)."""
    pattern = re.sub(r"^https?://", "", route.pattern.strip())
    host, _, path = pattern.partition("/")
    if route.custom_domain and ("*" in pattern or path):
        return None  # wrangler refuses these too: custom domains are bare hostnames
    if "*" in host or not _HOST.fullmatch(host):
        return None
    prefix = path.split("*", 1)[0].rstrip("/")
    return f"https://{host}" + (f"/{prefix}" if prefix else "")


def _routes(config: Mapping[str, Any], source: str, warnings: list[str]) -> tuple[Route, ...]:
    raw = config.get("routes")
    if raw is None:
        raw = [] if config.get("route") is None else [config["route"]]
    if not isinstance(raw, list):
        raw = [raw]
    out: list[Route] = []
    for item in raw:
        custom = isinstance(item, Mapping) and item.get("custom_domain") is True
        pattern = item.get("pattern") if isinstance(item, Mapping) else item
        if isinstance(pattern, str) and pattern.strip():
            out.append(Route(pattern.strip(), custom))
        else:
            warnings.append(f"{source}: route {item!r} has no pattern; ignored")
    return tuple(out)


def _bindings(config: Mapping[str, Any], source: str, warnings: list[str]) -> tuple[Binding, ...]:
    raw = config.get("services") or []
    if not isinstance(raw, list):
        warnings.append(f"{source}: 'services' is not a list; bindings ignored")
        return ()
    out: list[Binding] = []
    for item in raw:
        if isinstance(item, Mapping) and isinstance(item.get("service"), str):
            env = item.get("environment")
            out.append(
                Binding(
                    str(item.get("binding", "?")),
                    item["service"],
                    env if isinstance(env, str) else None,
                )
            )
        else:
            warnings.append(f"{source}: service binding {item!r} has no 'service'; ignored")
    return tuple(out)


def _queues(config: Mapping[str, Any], source: str, warnings: list[str]) -> tuple[str, ...]:
    raw = config.get("queues") or {}
    if not isinstance(raw, Mapping):
        warnings.append(f"{source}: 'queues' is not a table; queue bindings ignored")
        return ()
    out: list[str] = []
    for role in ("producers", "consumers"):
        for item in raw.get(role) or []:
            queue = item.get("queue") if isinstance(item, Mapping) else None
            if not isinstance(queue, str) or not re.fullmatch(NAME_PATTERN, queue):
                warnings.append(
                    f"{source}: queue {role[:-1]} {item!r} has no valid 'queue'; ignored"
                )
            elif queue not in out:
                out.append(queue)
    return tuple(out)


def _env_section(raw: Mapping[str, Any], env: str) -> Mapping[str, Any] | None:
    envs = raw.get("env")
    section = envs.get(env) if isinstance(envs, Mapping) else None
    return section if isinstance(section, Mapping) else None


def _with_env(raw: Mapping[str, Any], env: str | None) -> dict[str, Any]:
    """The effective config under `env`, following wrangler's inheritance rules."""
    top = {k: v for k, v in raw.items() if k != "env"}
    if env is None:
        return top
    section = _env_section(raw, env)
    if section is None:
        return top
    out = dict(top)
    legacy = raw.get("legacy_env", True) is not False
    if "name" in section:
        out["name"] = section["name"]
    elif legacy and isinstance(top.get("name"), str):
        out["name"] = f"{top['name']}-{env}"
    if "route" in section or "routes" in section:
        out.pop("route", None)
        out.pop("routes", None)
    for key in ("route", "routes", "workers_dev"):
        if key in section:
            out[key] = section[key]
    out["services"] = section.get("services", [])  # bindings are not inherited
    out["queues"] = section.get("queues", {})
    out["durable_objects"] = section.get("durable_objects", {})
    return out


def workers_from_configs(files: Mapping[str, str], env: str | None = None) -> WorkerScan:
    """Workers described by wrangler files, keyed by their path (relative, `/`-separated).

    A directory with several wrangler files uses the first of CONFIG_NAMES, as wrangler does.
    Files that do not parse, and workers without a valid name, become warnings.
    """
    warnings: list[str] = []
    by_dir: dict[str, list[str]] = {}
    for path in sorted(files):
        p = PurePosixPath(path)
        if p.name in CONFIG_NAMES:
            by_dir.setdefault(str(p.parent), []).append(path)
    workers: list[Worker] = []
    seen: dict[str, str] = {}
    without_env: list[str] = []
    for paths in by_dir.values():
        paths.sort(key=lambda p: CONFIG_NAMES.index(PurePosixPath(p).name))
        source = paths[0]
        for ignored in paths[1:]:
            warnings.append(f"{ignored}: ignored, {PurePosixPath(source).name} takes precedence")
        try:
            raw = _load(source, files[source])
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            warnings.append(f"{source}: cannot parse: {exc}")
            continue
        if not isinstance(raw, Mapping):
            warnings.append(f"{source}: expected an object at the top; ignored")
            continue
        if env is not None and _env_section(raw, env) is None:
            without_env.append(source)
        config = _with_env(raw, env)
        name = config.get("name")
        if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
            warnings.append(f"{source}: worker name {name!r} is missing or invalid; skipped")
            continue
        if name in seen:
            warnings.append(f"{source}: worker {name!r} is also defined in {seen[name]}; skipped")
            continue
        seen[name] = source
        routes = _routes(config, source, warnings)
        workers_dev = config.get("workers_dev")
        workers.append(
            Worker(
                name=name,
                source=source,
                routes=routes,
                workers_dev=workers_dev if isinstance(workers_dev, bool) else not routes,
                bindings=_bindings(config, source, warnings),
                queues=_queues(config, source, warnings),
                mcp=mcp_endpoint(config, [route.pattern for route in routes]),
            )
        )
    if without_env:
        warnings.insert(
            0,
            f"no env.{env} section in {', '.join(without_env)}; "
            "their top-level configuration is used",
        )
    return WorkerScan(workers, warnings)


def read_configs(root: Path) -> dict[str, str]:
    """Wrangler files under `root` (or `root/workers`), one level deep, keyed relative to root."""
    base = root / "workers" if (root / "workers").is_dir() else root
    found: dict[str, str] = {}
    for pattern in ("wrangler.*", "*/wrangler.*"):
        for path in sorted(base.glob(pattern)):
            if path.name in CONFIG_NAMES and path.is_file():
                found[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return found
