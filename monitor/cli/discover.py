"""`monitor discover PATH`: a draft monitor.yaml from a workers repository's wrangler configs
(the drafting itself is wrangler.py's, pure). Exit 2 when no worker with a URL is found."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli.fleet_draft import discover_fleet, render_yaml
from monitor.cli.options import output_option, write_output
from monitor.exit_codes import ExitCode


@click.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--subdomain", default=None, help="the account's workers.dev subdomain")
@click.option("--env", "env_name", default=None, help="wrangler environment, e.g. production")
@output_option
def discover(path: str, subdomain: str | None, env_name: str | None, output: str | None) -> None:
    """Draft a monitor.yaml from a workers repository's wrangler configs (exit 2: none found)."""
    discovery = discover_fleet(Path(path), subdomain, env_name)
    for warning in discovery.warnings:
        click.echo(f"monitor discover: warning: {warning}", err=True)
    if not discovery.config.get("services"):
        click.echo(f"monitor discover: no worker with a URL found under {path}", err=True)
        sys.exit(ExitCode.USAGE_OR_CONFIG)
    text = render_yaml(discovery)
    write_output(text, output)
    if output is not None:
        click.echo(
            f"monitor discover: wrote {len(discovery.config['services'])} services to {output}",
            err=True,
        )
