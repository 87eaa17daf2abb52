"""Reading `monitor.yaml`: validated while decoded; every problem reported at once with its
file, line and field. Line numbers are looked up only when something is wrong, so a valid
100,000-service file costs its parse and its validation, nothing more."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from monitor.config.cross_check import cross_check
from monitor.config.document import MonitorConfig
from monitor.config.yaml_lines import (
    NodeLines,
    line_for,
    load_data,
    path_to_loc,
    validation_problems,
)
from monitor.errors import ConfigError, ConfigProblem


def parse_config(
    text: str, file: str = "<config>", env: Mapping[str, str] | None = None
) -> MonitorConfig:
    """Validate config text; raise ConfigError listing every problem with its line."""
    data = load_data(text, file)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            file, [ConfigProblem("", "expected a mapping with a services: list at the top", 1)]
        )
    try:
        config = MonitorConfig.model_validate(
            data, context={"env": os.environ if env is None else env}
        )
    except ValidationError as exc:
        raise ConfigError(file, validation_problems(exc, NodeLines(text))) from None
    problems = cross_check(config)
    if problems:
        lines = NodeLines(text)
        raise ConfigError(
            file,
            [
                ConfigProblem(p.location, p.message, line_for(path_to_loc(p.location), lines))
                for p in problems
            ],
        )
    return config


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> MonitorConfig:
    """Read and validate a config file; an unreadable file is a ConfigError too."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, [ConfigProblem("", f"cannot read the file: {exc}")]) from None
    return parse_config(text, file, env)
