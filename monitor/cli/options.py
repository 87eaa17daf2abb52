"""What several commands share: option parsers, the event loop to run on, and loading config
files or exiting 2 with the file, line and field of each problem."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from monitor.config import MonitorConfig, load_config
from monitor.durations import parse_duration
from monitor.errors import ConfigError
from monitor.exit_codes import ExitCode
from monitor.fleet.sharding import ShardSpec, ShardSpecError, resolve

if TYPE_CHECKING:
    from monitor.alerting.rules import AlertRules
    from monitor.gate.rounds import VerifyOptions

F = TypeVar("F", bound=Callable[..., Any])


def event_loop_runner(loop_kind: str) -> Callable[[Awaitable[Any]], Any]:
    if loop_kind in ("auto", "uvloop"):
        try:
            import uvloop

            return lambda coro: uvloop.run(coro)  # type: ignore[arg-type]
        except ImportError:
            if loop_kind == "uvloop":
                raise click.UsageError("--loop uvloop: uvloop is not installed") from None
    return lambda coro: asyncio.run(coro)  # type: ignore[arg-type]


def load_config_or_exit(path: str) -> MonitorConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        click.echo(f"monitor: refusing to start, bad config:\n{exc}", err=True)
        sys.exit(ExitCode.USAGE_OR_CONFIG)


def load_alerts_or_exit(path: str, config: MonitorConfig) -> AlertRules:
    from monitor.alerting.rules import load_alert_rules  # not on `run`'s path without --alerts

    try:
        return load_alert_rules(path, services=[s.name for s in config.services])
    except ConfigError as exc:
        click.echo(f"monitor: refusing to start, bad alert rules:\n{exc}", err=True)
        sys.exit(ExitCode.USAGE_OR_CONFIG)


def duration_option(ctx: click.Context, param: click.Parameter, value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def config_option(*, required: bool = False, help: str = "monitor.yaml") -> Callable[[F], F]:
    """`--config monitor.yaml`, as `config_path`."""
    return click.option(
        "--config", "config_path", required=required, type=click.Path(dir_okay=False), help=help
    )


def sources_option(*, required: bool, help: str) -> Callable[[F], F]:
    """`--from URL` (repeatable), as `sources`: a running daemon's /status."""
    return click.option("--from", "sources", multiple=True, required=required, help=help)


def json_option(help: str) -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help)


output_option = click.option(
    "-o",
    "--output",
    default=None,
    type=click.Path(dir_okay=False),
    help="write here instead of stdout",
)
stop_after_option = click.option("--stop-after", type=float, default=None, hidden=True)


def write_output(text: str, output: str | None) -> None:
    """`text` to stdout, or to the file `--output` names."""
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")


# (flag, parameter of fleet.sharding.resolve, click settings); each also reads MONITOR_<FLAG>.
_SHARD_OPTIONS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "--shard",
        "shard",
        {"help": "INDEX/COUNT, 0-based (0/3 is the first of three): run only this shard's checks"},
    ),
    (
        "--shards",
        "shards",
        {
            "type": int,
            "help": "COUNT, with the index from the hostname's ordinal (StatefulSet pod monitor-2)",
        },
    ),
    (
        "--replicas",
        "replicas",
        {"type": int, "help": "how many shards run each check [default: 1]"},
    ),
    (
        "--shard-by",
        "by",
        {
            "type": click.Choice(["check", "service"]),
            "default": "check",
            "show_default": True,
            "help": "hash each check's id, or its service's name (a service's checks together)",
        },
    ),
    ("--replica-name", "name", {"help": "shown in /status [default: the hostname]"}),
]


def shard_options(command: F) -> F:
    """`--shard`, `--shards`, `--replicas`, `--shard-by`, `--replica-name` (and their env)."""
    for flag, name, settings in reversed(_SHARD_OPTIONS):
        envvar = "MONITOR_" + flag.removeprefix("--").replace("-", "_").upper()
        command = click.option(flag, name, envvar=envvar, show_envvar=True, **settings)(command)
    return command


def resolve_shard_or_exit(**shard_args: Any) -> ShardSpec | None:
    """The shard `shard_options` asked for; the hostname gives the index with `--shards`."""
    hostname = os.environ.get("HOSTNAME") or socket.gethostname()
    try:
        return resolve(hostname=hostname, **shard_args)
    except ShardSpecError as exc:
        raise click.UsageError(str(exc)) from None


def run_gate(
    config_path: str | None,
    options: VerifyOptions,
    *,
    as_json: bool,
    junit: str | None,
    out: Any = None,
    run: Callable[[Awaitable[Any]], Any] | None = None,
) -> int:
    """The deploy gate as `verify` and `verify --load` run it: this process's environment,
    errors on stderr, the report on `out` (stdout by default)."""
    from monitor.gate.output import run_verify  # the gate's imports are not `run`'s

    return run_verify(
        config_path,
        options,
        as_json=as_json,
        junit=junit,
        env=os.environ,
        out=sys.stdout if out is None else out,
        err=sys.stderr,
        run=run or event_loop_runner("auto"),
    )
