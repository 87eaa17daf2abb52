"""The command line, one module per command: `monitor run | demo | verify | discover |
explain | config check | rules export | schema | status | load | push`. This module holds only the
group (global options: logging) and `main`; exit codes are monitor/exit_codes.py's."""

from __future__ import annotations

import importlib
from typing import Any

import click

from monitor import __version__
from monitor.logs import configure_logging

COMMANDS = {
    "run": "monitor.cli.run:run",
    "demo": "monitor.cli.demo:demo",
    "config": "monitor.cli.config_check:config_group",
    "verify": "monitor.cli.verify:verify",
    "discover": "monitor.cli.discover:discover",
    "explain": "monitor.cli.explain:explain_command",
    "rules": "monitor.cli.rules_export:rules_group",
    "schema": "monitor.cli.schema:schema",
    "status": "monitor.cli.status:status_command",
    "load": "monitor.cli.load:load",
    "push": "monitor.cli.push:push_command",
}
"""Each command's module, imported only when the command runs (or help lists it): `monitor
run` at 100,000 endpoints must not pay for the simulator and the load generator."""


class LazyGroup(click.Group):
    """click's documented lazy-loading group: same names, same help, modules loaded on use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, attr = target.split(":")
        command: Any = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    cli(prog_name="monitor")
