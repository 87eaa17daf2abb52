"""A starting monitor.yaml drafted from a Cloudflare workers repository (read by wrangler.py).

One service per worker: its URL comes from its routes (custom domains and `host/path*`
patterns), else from workers.dev; `depends_on` comes from its service bindings; `queues:` from its
queue producer and consumer bindings, for the analytics check (docs/cloudflare.md; the service
is named after the script, so `worker:` keeps its default); `mcp:` from a route or Durable
Object binding that shows an MCP server (mcp_endpoints.py). Everything that
cannot be inferred is said in `warnings`, which `render_yaml` writes at the top of the file, so
the file is a draft to review, never a silent guess.

Decisions (documented in docs/deploy-gate.md):
- URL: the first usable route wins (the public address users hit); otherwise workers.dev when it
  is enabled (`workers_dev`, which wrangler infers as false once routes exist).
- workers.dev without a subdomain: the service is kept, with a placeholder URL in the reserved
  `.invalid` domain (RFC 2606; it never resolves), so the dependency graph survives and the
  probe fails loudly with dns_failure until the file is fixed.
- No public URL at all (workers_dev false, no usable route): the worker is skipped, and bindings
  to it are left out of depends_on, both with a warning.
- A binding to a worker not in the repository is a warning and left out of depends_on.

Drafting is pure (`build_config`, `discover_from_configs`, `render_yaml`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.cli.mcp_endpoints import drafted_mcp_checks
from monitor.cli.wrangler import (
    Binding,
    Worker,
    WorkerScan,
    read_configs,
    route_url,
    workers_from_configs,
)

PLACEHOLDER_DOMAIN = "set-workers-subdomain.invalid"
SOURCE_LABELS = {"source": "wrangler"}


@dataclass(slots=True)
class Discovery:
    """`config` is a monitor.yaml mapping; `notes` says per service where its URL came from."""

    config: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)


def _worker_url(
    worker: Worker, subdomain: str | None, warnings: list[str]
) -> tuple[str | None, str]:
    """The URL to probe and where it came from; None when the worker has no public URL."""
    for route in worker.routes:
        url = route_url(route)
        if url is not None:
            return url, str(route)
        warnings.append(
            f"{worker.name}: {route} names no single host to probe (wildcard, "
            "path on a custom domain or invalid host); ignored"
        )
    if not worker.workers_dev:
        warnings.append(
            f"{worker.name}: no usable route and workers_dev is off; "
            "not reachable over HTTP, skipped"
        )
        return None, ""
    if subdomain:
        return f"https://{worker.name}.{subdomain}.workers.dev", "workers.dev"
    return f"https://{worker.name}.{PLACEHOLDER_DOMAIN}", "a placeholder"


def _resolve(binding: Binding, names: Mapping[str, Any], env: str | None) -> str | None:
    candidates = [binding.service]
    for suffix in (binding.environment, env):
        if suffix:
            candidates.append(f"{binding.service}-{suffix}")
    return next((c for c in candidates if c in names), None)


def build_config(
    scan: WorkerScan, subdomain: str | None = None, env: str | None = None
) -> Discovery:
    """Turn workers into a monitor.yaml mapping; every guess and gap becomes a warning."""
    warnings = list(scan.warnings)
    urls: dict[str, str] = {}
    notes: dict[str, str] = {}
    for worker in scan.workers:
        url, note = _worker_url(worker, subdomain, warnings)
        if url is not None:
            urls[worker.name] = url
            notes[worker.name] = f"{worker.source}: url from {note}"
    placeholders = sorted(n for n, u in urls.items() if u.endswith(PLACEHOLDER_DOMAIN))
    if placeholders:
        warnings.append(
            f"no workers.dev subdomain given: {', '.join(placeholders)} have no route "
            f"and a placeholder URL (*.{PLACEHOLDER_DOMAIN}); pass the subdomain"
        )
    every = {w.name: w for w in scan.workers}
    services: list[dict[str, Any]] = []
    for worker in sorted(scan.workers, key=lambda w: w.name):
        if worker.name not in urls:
            continue
        depends_on: list[str] = []
        for binding in worker.bindings:
            target = _resolve(binding, every, env)
            if target is None:
                warnings.append(
                    f"{worker.name}: could not resolve service binding '{binding.binding}': "
                    f"target script '{binding.service}' is not in this repository; "
                    "left out of depends_on"
                )
            elif target not in urls:
                warnings.append(
                    f"{worker.name}: service binding '{binding.binding}' targets "
                    f"'{target}', which is not monitored; left out of depends_on"
                )
            elif target != worker.name and target not in depends_on:
                depends_on.append(target)
        service: dict[str, Any] = {"name": worker.name, "url": urls[worker.name]}
        if depends_on:
            service["depends_on"] = depends_on
        if worker.queues:  # `worker:` defaults to the service name, which is the script's
            service["queues"] = list(worker.queues)
        if mcp := drafted_mcp_checks(worker.name, worker.mcp, urls[worker.name], warnings):
            service["mcp"] = mcp
        service["labels"] = dict(SOURCE_LABELS)
        services.append(service)
    return Discovery({"services": services}, warnings, notes)


def discover_from_configs(
    files: Mapping[str, str], subdomain: str | None = None, env: str | None = None
) -> Discovery:
    """The pure whole: wrangler file texts in, monitor.yaml mapping and warnings out."""
    return build_config(workers_from_configs(files, env), subdomain, env)


def discover_fleet(root: Path, subdomain: str | None = None, env: str | None = None) -> Discovery:
    """Read a workers repository and build a starting monitor.yaml (see the module doc)."""
    files = read_configs(root)
    discovery = discover_from_configs(files, subdomain, env)
    if not files:
        discovery.warnings.insert(0, f"no wrangler.json/.jsonc/.toml found under {root.name}/")
    return discovery


def _comment(text: str) -> str:
    return " ".join(text.split())


def render_yaml(discovery: Discovery) -> str:
    """monitor.yaml text: a header listing the warnings, then one commented block per service."""
    lines = [
        "# monitor.yaml drafted by `monitor discover` from wrangler configuration.",
        "# Review it: URLs and dependencies are inferred; health_path is the default (/health).",
    ]
    if discovery.warnings:
        lines.append(f"# Warnings ({len(discovery.warnings)}):")
        lines += [f"#   - {_comment(w)}" for w in discovery.warnings]
    else:
        lines.append("# Warnings: none.")
    rest = {k: v for k, v in discovery.config.items() if k != "services"}
    if rest:
        lines.append(yaml.safe_dump(rest, sort_keys=False).rstrip("\n"))
    services = discovery.config.get("services", [])
    if not services:
        lines.append("services: []")
        return "\n".join(lines) + "\n"
    lines.append("services:")
    for service in services:
        note = discovery.notes.get(service["name"])
        if note:
            lines.append(f"  # {_comment(note)}")
        block = yaml.safe_dump([service], sort_keys=False, default_flow_style=False)
        lines += [f"  {line}" for line in block.rstrip("\n").splitlines()]
    return "\n".join(lines) + "\n"
