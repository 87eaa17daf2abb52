"""The field types every part of `monitor.yaml` uses: durations, rates, ratios, names,
headers whose values come from the environment, and the strict base model."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationInfo

from monitor.durations import parse_duration, parse_rate

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


def expand_secret(value: Any, info: ValidationInfo) -> SecretStr:
    """A header value, with `${VAR}` taken from the environment; never shown in repr or logs."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected a string value")
    env = (info.context or {}).get("env", os.environ)
    text = expand_env(str(value), env)
    if "\n" in text or "\r" in text:
        raise ValueError("value contains a line break")
    return SecretStr(text)


Secret = Annotated[SecretStr, BeforeValidator(expand_secret)]
HeaderName = Annotated[str, Field(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
Headers = dict[HeaderName, Secret]


LINK_URL = re.compile(r"(?i)https?://[^\s/?#@]+(?:[/?#]\S*)?")
BASE_URL = re.compile(r"https?://[^\s/?#]+(?::\d+)?(/[^\s?#]*)?")
"""A service's base URL or an API's: scheme, host, optional port and path; no query."""


def link_url(value: str) -> str:
    """A URL someone will click (the status page's runbook link, an alert's dashboard button):
    http(s) only, so a config can never put `javascript:` or `data:` behind a link."""
    if not LINK_URL.fullmatch(value):
        raise ValueError(f"expected an http:// or https:// URL, got {value[:80]!r}")
    return value


def request_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"expected a path starting with '/', got {value!r}")
    return value


class Strict(BaseModel):
    """Unknown keys refused (a typo never silently does nothing); values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)
