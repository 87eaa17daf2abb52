"""`monitor rules export`: alerts.yaml as a Prometheus rules file (monitor/alerting/
prometheus_export.py; docs/prometheus.md). Exit 2 when a rule cannot be exported."""

from __future__ import annotations

import sys

import click

from monitor.alerting.prometheus_export import (
    SecretsNotNeeded,
    UnsupportedRule,
    export_rules,
    render_rules,
)
from monitor.alerting.rules import load_alert_rules
from monitor.cli.options import duration_option, output_option, write_output
from monitor.errors import ConfigError
from monitor.exit_codes import ExitCode


@click.group("rules")
def rules_group() -> None:
    """Alert rules for Prometheus."""


@rules_group.command("export")
@click.option("--alerts", "alerts_path", default="alerts.yaml", show_default=True)
@output_option
@click.option(
    "--interval",
    default="30s",
    show_default=True,
    callback=duration_option,
    help="check interval: turns `for: N` checks into a duration",
)
def rules_export(alerts_path: str, output: str | None, interval: float) -> None:
    """Write alerts.yaml as a Prometheus rules file (docs/prometheus.md; exit 2: cannot)."""
    try:
        text = render_rules(
            export_rules(load_alert_rules(alerts_path, env=SecretsNotNeeded()).config, interval)
        )
    except (ConfigError, UnsupportedRule) as exc:
        click.echo(f"monitor rules export: {exc}", err=True)
        sys.exit(ExitCode.USAGE_OR_CONFIG)
    write_output(text, output)
