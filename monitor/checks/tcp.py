"""`tcp:` checks: connect to `address`, optionally read a banner, optionally shake hands in TLS.

`address` is `host:port` (`[v6]:port` for an IPv6 literal); `expect_banner` is a regular
expression searched in the first line the server sends, compiled when the config loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from monitor.durations import parse_duration

Duration = Annotated[float, BeforeValidator(parse_duration)]

DEFAULT_TARGET = 0.050
"""Connect time a tcp check is judged against when it sets no `target`."""

_ADDRESS = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]{1,253})):(?P<port>\d{1,5})$"
)


@dataclass(frozen=True, slots=True)
class TcpSpec:
    """What the tcp probe needs: where to connect and what to expect there."""

    host: str
    port: int
    expect_banner: str | None = None
    tls: bool = False


class TcpCheckConfig(BaseModel):
    """One entry of a service's `tcp:` list."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    METHOD: ClassVar[str] = ""  # not HTTP: no method, no headers sent

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    address: str
    expect_banner: str | None = None
    tls: bool = False
    target: Duration | None = Field(default=None, gt=0)
    interval: Duration | None = Field(default=None, gt=0)
    timeout: Duration | None = Field(default=None, gt=0)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        match = _ADDRESS.fullmatch(value)
        if match is None or not 0 < int(match["port"]) < 65536:
            raise ValueError(f"expected host:port (port 1-65535), got {value[:80]!r}")
        return value

    @field_validator("expect_banner")
    @classmethod
    def _banner(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    def spec(self) -> TcpSpec:
        match = _ADDRESS.fullmatch(self.address)
        assert match is not None  # validated above
        host = match["v6"] or match["host"]
        return TcpSpec(host, int(match["port"]), self.expect_banner, self.tls)

    def url_for(self, base_url: str) -> str:
        """How /status shows the check: `tcp://host:port` (`tcps://` with TLS)."""
        del base_url  # a tcp check names its own address
        return f"{'tcps' if self.tls else 'tcp'}://{self.address}"

    def over_tls(self, base_url: str) -> bool:
        """Whether the service's `tls:` settings apply: only with `tls: true`."""
        del base_url
        return self.tls
