"""What several commands share: option parsers, the event loop to run on, and loading config
files or exiting 2 with the file, line and field of each problem."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from monitor.alerting.rules import AlertRules, load_alert_rules
from monitor.config import MonitorConfig, load_config
from monitor.durations import parse_duration
from monitor.errors import ConfigError
from monitor.exit_codes import ExitCode
from monitor.fleet.sharding import ShardBy, ShardSpec, ShardSpecError, resolve

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
