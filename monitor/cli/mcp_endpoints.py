"""Where a worker's wrangler config shows an MCP server, for `monitor discover` (pure).

Two signs are read, neither a certainty, so every check drafted from one is also a warning:
- a route whose path is `/mcp` (`host/mcp`, `host/mcp*`, `host/mcp/*`): that path reaches the
  worker, and it is the streamable HTTP endpoint's conventional name;
- a Durable Object binding named `MCP_OBJECT` (the binding Cloudflare's agents SDK looks up
  when `McpAgent.serve()` is given none) or whose class name contains `mcp`: an McpAgent
  serves there, at the path its code passes to `serve()`, `/mcp` in Cloudflare's templates.

Not read: `/sse` routes (the deprecated HTTP+SSE transport, which the mcp check does not
speak) and the path in the code itself (wrangler does not know it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MCP_PATH = "/mcp"
AGENTS_SDK_BINDING = "MCP_OBJECT"
_MCP_ROUTE = re.compile(r"^(?:https?://)?[^/]+/mcp(?:/?\*|/)?$")


@dataclass(frozen=True, slots=True)
class McpEndpoint:
    """An MCP endpoint path and the wrangler evidence for it (said in the warning)."""

    path: str
    evidence: str


def mcp_endpoint(config: Mapping[str, Any], route_patterns: list[str]) -> McpEndpoint | None:
    """The MCP endpoint a worker's effective config shows, route first; None if none does."""
    for pattern in route_patterns:
        if _MCP_ROUTE.match(pattern.strip()):
            return McpEndpoint(MCP_PATH, f"route {pattern!r}")
    durable = config.get("durable_objects")
    bindings = durable.get("bindings") if isinstance(durable, Mapping) else None
    for binding in bindings if isinstance(bindings, list) else []:
        if not isinstance(binding, Mapping):
            continue
        name, class_name = str(binding.get("name", "")), str(binding.get("class_name", ""))
        if name == AGENTS_SDK_BINDING or "mcp" in class_name.lower():
            return McpEndpoint(
                MCP_PATH,
                f"Durable Object binding {name} (class {class_name}), an McpAgent whose "
                f"serve() path is set in code; {MCP_PATH} is the agents SDK templates' path",
            )
    return None


def drafted_mcp_checks(
    worker: str, endpoint: McpEndpoint | None, url: str, warnings: list[str]
) -> list[dict[str, str]]:
    """The `mcp:` entries to draft for a worker served at `url`, each said in `warnings`."""
    if endpoint is None:
        return []
    if urlsplit(url).path not in ("", "/"):
        warnings.append(
            f"{worker}: {endpoint.evidence} shows an MCP server at {endpoint.path}, but its URL "
            f"{url} has a path of its own; no mcp check drafted, add one by hand"
        )
        return []
    warnings.append(
        f"{worker}: mcp check at {endpoint.path} drafted from {endpoint.evidence}; review it"
    )
    return [{"name": "tools", "path": endpoint.path}]
