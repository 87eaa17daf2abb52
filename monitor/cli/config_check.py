"""`monitor config check FILE...`: validate monitor.yaml and alerts.yaml files without starting
anything; alerts.yaml is told apart by its content and checked against the services of the
monitor.yaml files given in the same call. Exit 0, or 2 naming each problem."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml

from monitor.alerting.rules import load_alert_rules
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.exit_codes import ExitCode


@click.group("config")
def config_group() -> None:
    """Work with config files."""


@config_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def config_check(files: tuple[str, ...]) -> None:
    """Validate config files without starting anything (exit 0, or 2 naming each problem)."""
    sys.exit(ExitCode.USAGE_OR_CONFIG if _check_files([Path(f) for f in files]) else ExitCode.OK)


def _is_alerts_file(path: Path) -> bool:
    """alerts.yaml has `rules:` / `receivers:` at the top; monitor.yaml has `services:`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and bool({"rules", "receivers", "route"} & set(data))


def _check_files(paths: list[Path]) -> bool:
    """Monitor configs first, so alert rules can be checked against their service names."""
    failed = False
    services: list[str] | None = None
    for path in sorted(paths, key=_is_alerts_file):
        try:
            if _is_alerts_file(path):
                load_alert_rules(path, services=services)
            else:
                config = load_config(path)
                services = [*(services or []), *(s.name for s in config.services)]
        except ConfigError as exc:
            failed = True
            click.echo(str(exc), err=True)
        else:
            click.echo(f"{path}: ok")
    return failed
