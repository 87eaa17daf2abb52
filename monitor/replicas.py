"""The command-line shell of sharding: the `--shard` options of `monitor run`, and
`monitor status --from URL ...`, which fetches several replicas' `/status` concurrently
(monitor/fleet/status_client.py) and prints their merge (monitor/fleet/merge.py). Exit codes:
0 every check covered, 1 a check no answering replica covers (or none answered), 2 bad usage.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from monitor.durations import parse_duration
from monitor.fleet.merge import MergedStatus, merge
from monitor.fleet.sharding import ShardBy, ShardSpec, ShardSpecError, resolve
from monitor.fleet.status_client import fetch_all

F = TypeVar("F", bound=Callable[..., Any])


def shard_options(command: F) -> F:
    """`--shard`, `--shards`, `--replicas`, `--shard-by`, `--replica-name` (and their env)."""
    options = [
        click.option(
            "--shard",
            default=None,
            envvar="MONITOR_SHARD",
            show_envvar=True,
            help="INDEX/COUNT, 0-based (0/3 is the first of three): run only this shard's checks",
        ),
        click.option(
            "--shards",
            type=int,
            default=None,
            envvar="MONITOR_SHARDS",
            show_envvar=True,
            help="COUNT, with the index from the hostname's ordinal (StatefulSet pod monitor-2)",
        ),
        click.option(
            "--replicas",
            type=int,
            default=None,
            envvar="MONITOR_REPLICAS",
            show_envvar=True,
            help="how many shards run each check [default: 1]",
        ),
        click.option(
            "--shard-by",
            type=click.Choice(["check", "service"]),
            default="check",
            envvar="MONITOR_SHARD_BY",
            show_envvar=True,
            show_default=True,
            help="hash each check's id, or its service's name (a service's checks together)",
        ),
        click.option(
            "--replica-name",
            default=None,
            envvar="MONITOR_REPLICA_NAME",
            show_envvar=True,
            help="shown in /status [default: the hostname]",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def resolve_shard_or_exit(
    shard: str | None,
    shards: int | None,
    replicas: int | None,
    shard_by: ShardBy,
    replica_name: str | None,
) -> ShardSpec | None:
    hostname = os.environ.get("HOSTNAME") or socket.gethostname()
    try:
        return resolve(
            shard=shard,
            shards=shards,
            replicas=replicas,
            hostname=hostname,
            name=replica_name,
            by=shard_by,
        )
    except ShardSpecError as exc:
        raise click.UsageError(str(exc)) from None


# -- monitor status --from --------------------------------------------------------------------


def render_merged(merged: MergedStatus) -> str:
    from monitor.cli import render_table

    lines = [render_table(merged.fleet)]
    answered = sum(r.ok for r in merged.replicas)
    lines.append(f"replicas: {answered} of {len(merged.replicas)} answered")
    for r in merged.replicas:
        if not r.ok:
            lines.append(f"  {r.source}  not answering: {r.error}")
        elif r.shard is None:
            lines.append(f"  {r.source}  unsharded, {r.checks} checks")
        else:
            s = r.shard
            lines.append(
                f"  {r.source}  {s.replica} shard {s.index}/{s.count} x{s.replicas} by {s.by}, "
                f"{r.checks} checks"
            )
    total = "?" if merged.checks_total is None else str(merged.checks_total)
    lines.append(f"coverage: {len(merged.coverage)} of {total} checks reported by a replica")
    if merged.missing_shards:
        lines.append(f"shards with no answering replica: {merged.missing_shards}")
    if merged.uncovered_count:
        lines.append(f"not covered by any answering replica: {merged.uncovered_count} checks")
        for u in merged.uncovered[:50]:
            owners = f" (owned by shards {u.owners})" if u.owners else ""
            lines.append(f"  {u.id}{owners}")
    lines.extend(f"problem: {p}" for p in merged.problems)
    return "\n".join(lines)


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
    """Merge several replicas' /status: the freshest result per check, and what no replica
    covers. A replica that does not answer is reported, not fatal."""
    try:
        seconds = parse_duration(timeout)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--timeout") from None
    expected = None
    if config_path is not None:
        from monitor.cli import _load_or_exit

        expected = [c.id for c in _load_or_exit(config_path).checks()]
    answers = asyncio.run(fetch_all(sources, seconds, token))
    merged = merge(answers, datetime.now(UTC), expected)
    if as_json:
        click.echo(json.dumps(merged.model_dump(mode="json"), indent=2))
    else:
        click.echo(render_merged(merged))
    sys.exit(0 if merged.complete else 1)
