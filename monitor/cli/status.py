"""`monitor status --from URL ...`: several replicas' `/status` fetched concurrently
(monitor/fleet/status_client.py) and merged (monitor/fleet/merge.py). Exit codes: 0 every check
covered, 1 a check no answering replica covers (or none answered), 2 bad usage.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime

import click

from monitor.cli.options import load_config_or_exit
from monitor.cli.render import render_merged
from monitor.durations import parse_duration
from monitor.exit_codes import ExitCode
from monitor.fleet.merge import merge
from monitor.fleet.status_client import fetch_all


@click.command("status")
@click.option(
    "--from",
    "sources",
    multiple=True,
    required=True,
    help="a replica's URL (repeat for each replica)",
)
@click.option("--timeout", default="5s", show_default=True, help="per replica")
@click.option(
    "--config",
    "config_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="monitor.yaml: name the checks no replica covers (otherwise only counted)",
)
@click.option("--token", default=None, envvar="MONITOR_READ_TOKEN", help="auth.read_token")
@click.option("--json", "as_json", is_flag=True, help="print the merge as JSON")
def status_command(
    sources: tuple[str, ...],
    timeout: str,
    config_path: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Merge several replicas' /status: per check the worse status, then the fresher, and
    what no replica covers. A replica that does not answer is reported, not fatal."""
    try:
        seconds = parse_duration(timeout)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--timeout") from None
    expected = None
    if config_path is not None:
        expected = [c.id for c in load_config_or_exit(config_path).checks()]
    answers = asyncio.run(fetch_all(sources, seconds, token))
    merged = merge(answers, datetime.now(UTC), expected)
    if as_json:
        click.echo(json.dumps(merged.model_dump(mode="json"), indent=2))
    else:
        click.echo(render_merged(merged))
    sys.exit(ExitCode.OK if merged.complete else ExitCode.GATE_FAILED)
