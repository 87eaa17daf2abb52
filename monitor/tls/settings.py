"""`tls:` under a service or `defaults:`: expiry thresholds, trust, client certificate, SNI.

Every file is opened while the config loads, so a missing or unreadable one is a config error
(exit 2) with its line, not a failing check later; a client certificate must also load with its
key. A service's keys override `defaults:`' key by key.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from monitor.durations import parse_duration

Duration = Annotated[float, BeforeValidator(parse_duration)]


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Resolved TLS settings of one check (hashable: one SSL context per distinct value)."""

    warn_before: float = 14 * 86400.0
    critical_before: float = 3 * 86400.0
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False

    @property
    def custom_context(self) -> bool:
        """Whether the check needs its own SSL context rather than the shared default."""
        return bool(self.ca_file or self.cert_file or self.insecure_skip_verify)


DEFAULT_TLS = TlsSettings()


def _readable(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        with Path(value).open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise ValueError(f"cannot read {value!r}: {exc.strerror or exc}") from None
    return value


class TlsConfig(BaseModel):
    """The `tls:` mapping; unset keys fall back to `defaults: tls:`, then to TlsSettings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn_before: Duration | None = Field(default=None, gt=0)
    critical_before: Duration | None = Field(default=None, gt=0)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,253}$")
    insecure_skip_verify: bool | None = None

    _files = field_validator("ca_file", "cert_file", "key_file")(_readable)

    @model_validator(mode="after")
    def _consistent(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (a client certificate and key)")
        if self.cert_file and self.key_file:
            try:
                ssl.create_default_context().load_cert_chain(self.cert_file, self.key_file)
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(f"cannot load the client certificate: {exc}") from None
        if self.ca_file:
            try:
                ssl.create_default_context(cafile=self.ca_file)
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(f"ca_file holds no usable certificate: {exc}") from None
        warn, critical = self.warn_before, self.critical_before
        if warn is not None and critical is not None and critical > warn:
            raise ValueError("critical_before must not be longer than warn_before")
        return self


def resolve_tls(*layers: TlsConfig | None) -> TlsSettings:
    """Later layers override earlier ones key by key (`defaults:` then the service)."""
    values: dict[str, Any] = {}
    for layer in layers:
        if layer is None:
            continue
        values.update({k: v for k, v in layer.model_dump().items() if v is not None})
    known = {f.name for f in fields(TlsSettings)}
    return TlsSettings(**{k: v for k, v in values.items() if k in known})
