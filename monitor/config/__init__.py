"""`monitor.yaml`: pydantic models, validated while decoded, with file/line/field errors.

Input models (`MonitorConfig`, `ServiceConfig`, ...) mirror the file and leave optional fields
unset; `MonitorConfig.checks()` resolves them against `defaults:` into the `Check` objects the
daemon runs. Unknown keys are refused, so a typo never silently does nothing.
"""

from monitor.config.checks import Check, PushSpec
from monitor.config.cloudflare import CloudflareConfig
from monitor.config.document import AuthConfig, LatencyConfig, MonitorConfig, StoreConfig
from monitor.config.fields import (
    NAME_PATTERN,
    Duration,
    Headers,
    Name,
    Rate,
    Ratio,
    expand_env,
    link_url,
    parse_ratio,
)
from monitor.config.loading import load_config, parse_config
from monitor.config.service import (
    DEFAULT_TARGETS,
    Defaults,
    LoadConfig,
    PushCheckConfig,
    ServiceConfig,
    SmokeCheckConfig,
)

__all__ = [
    "DEFAULT_TARGETS",
    "NAME_PATTERN",
    "AuthConfig",
    "Check",
    "CloudflareConfig",
    "Defaults",
    "Duration",
    "Headers",
    "LatencyConfig",
    "LoadConfig",
    "MonitorConfig",
    "Name",
    "PushCheckConfig",
    "PushSpec",
    "Rate",
    "Ratio",
    "ServiceConfig",
    "SmokeCheckConfig",
    "StoreConfig",
    "expand_env",
    "link_url",
    "load_config",
    "parse_config",
    "parse_ratio",
]
