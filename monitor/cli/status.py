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

from monitor.cli.options import (
    config_option,
    duration_option,
    json_option,
    load_config_or_exit,
    sources_option,
)
from monitor.cli.render import render_merged
from monitor.exit_codes import ExitCode
from monitor.fleet.merge import merge
from monitor.fleet.status_client import fetch_all


@click.command("status")
@sources_option(required=True, help="a replica's URL (repeat for each replica)")
@click.option(
    "--timeout", default="5s", callback=duration_option, show_default=True, help="per replica"
)
@config_option(help="monitor.yaml: name the checks no replica covers (otherwise only counted)")
@click.option("--token", default=None, envvar="MONITOR_READ_TOKEN", help="auth.read_token")
@json_option("print the merge as JSON")
def status_command(
    sources: tuple[str, ...],
    timeout: float,
    config_path: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Merge several replicas' /status: per check the fresher result, and what no replica
    covers. A replica that does not answer is reported, not fatal."""
    expected = None
    if config_path is not None:
        expected = [c.id for c in load_config_or_exit(config_path).checks()]
    answers = asyncio.run(fetch_all(sources, timeout, token))
    merged = merge(answers, datetime.now(UTC), expected)
    if as_json:
        click.echo(json.dumps(merged.model_dump(mode="json"), indent=2))
    else:
        click.echo(render_merged(merged))
    sys.exit(ExitCode.OK if merged.complete else ExitCode.GATE_FAILED)
