"""The command line, one module per command: `monitor run | demo | verify | discover |
explain | config check | rules export | schema | status | load | push`. This module holds only the
group (global options: logging) and `main`; exit codes are monitor/exit_codes.py's."""

from __future__ import annotations

import click

from monitor import __version__
from monitor.cli.config_check import config_group
from monitor.cli.demo import demo
from monitor.cli.discover import discover
from monitor.cli.explain import explain_command
from monitor.cli.load import load
from monitor.cli.push import push_command
from monitor.cli.rules_export import rules_group
from monitor.cli.run import run
from monitor.cli.schema import schema
from monitor.cli.status import status_command
from monitor.cli.verify import verify
from monitor.logs import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="monitor")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.option(
    "--log-format",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "json", "console"]),
)
def cli(log_level: str, log_format: str) -> None:
    """fleet monitor: polls every service's health and smoke paths, normalizes the answers,
    exports /status and /metrics."""
    configure_logging(log_level, json=None if log_format == "auto" else log_format == "json")


for command in (
    run,
    demo,
    config_group,
    verify,
    discover,
    explain_command,
    rules_group,
    schema,
    status_command,
    load,
    push_command,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="monitor")
