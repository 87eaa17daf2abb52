"""`mcp:` checks: does the service speak the Model Context Protocol and list the tools it should.

The probe (probes/mcp.py) speaks streamable HTTP at `path`. With `revision: auto` (the
default) it asks the newest revision's stateless `server/discover` first and falls back to the
handshake of the older ones (`initialize`, `notifications/initialized`) as that revision's
"Backward Compatibility" section says; then `tools/list`. A pinned `revision` speaks only that
era. `expect_tools` names tools that must be listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from monitor.durations import parse_duration

Duration = Annotated[float, BeforeValidator(parse_duration)]

DEFAULT_TARGET = 0.050
"""The whole exchange is judged against this when the check sets no `target`, like http."""

MODERN_REVISION = "2026-07-28"
"""The stateless revision: no handshake, no session; version and client in every request."""
REVISIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
"""Handshake revisions the probe speaks, newest (the one `initialize` asks for) first."""
Revision = Literal["auto", "2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"]


def _revision_text(value: object) -> object:
    """YAML reads an unquoted 2025-11-25 as a date: the revision is its ISO text."""
    return value.isoformat() if isinstance(value, date) else value


@dataclass(frozen=True, slots=True)
class McpSpec:
    """What the mcp probe needs beyond the URL: the tools that must be listed."""

    expect_tools: tuple[str, ...] = ()
    revision: Revision = "auto"


class McpCheckConfig(BaseModel):
    """One entry of a service's `mcp:` list."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    METHOD: ClassVar[str] = "POST"  # JSON-RPC over POST, with the service's headers

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    path: Annotated[str, Field(pattern=r"^/\S*$")] = "/mcp"
    expect_tools: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list
    )
    revision: Annotated[Revision, BeforeValidator(_revision_text)] = "auto"
    target: Duration | None = Field(default=None, gt=0)
    interval: Duration | None = Field(default=None, gt=0)
    timeout: Duration | None = Field(default=None, gt=0)

    def spec(self) -> McpSpec:
        return McpSpec(tuple(self.expect_tools), self.revision)

    def url_for(self, base_url: str) -> str:
        return base_url + self.path

    def over_tls(self, base_url: str) -> bool:
        return base_url.lower().startswith("https:")
