"""`mcp:` checks: does the service speak the Model Context Protocol and list the tools it should.

The probe (probes/mcp.py) runs the streamable HTTP handshake at `path`: `initialize`,
`notifications/initialized`, `tools/list`. `expect_tools` names tools that must be listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from monitor.durations import parse_duration

Duration = Annotated[float, BeforeValidator(parse_duration)]

DEFAULT_TARGET = 0.050
"""The whole exchange is judged against this when the check sets no `target`, like http."""

REVISIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
"""Protocol revisions the probe speaks, newest (the one it asks for) first."""


@dataclass(frozen=True, slots=True)
class McpSpec:
    """What the mcp probe needs beyond the URL: the tools that must be listed."""

    expect_tools: tuple[str, ...] = ()


class McpCheckConfig(BaseModel):
    """One entry of a service's `mcp:` list."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    METHOD: ClassVar[str] = "POST"  # JSON-RPC over POST, with the service's headers

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    path: Annotated[str, Field(pattern=r"^/\S*$")] = "/mcp"
    expect_tools: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list
    )
    target: Duration | None = Field(default=None, gt=0)
    interval: Duration | None = Field(default=None, gt=0)
    timeout: Duration | None = Field(default=None, gt=0)

    def spec(self) -> McpSpec:
        return McpSpec(tuple(self.expect_tools))

    def url_for(self, base_url: str) -> str:
        return base_url + self.path

    def over_tls(self, base_url: str) -> bool:
        return base_url.lower().startswith("https:")
