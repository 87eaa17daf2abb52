"""`monitor verify`: the deploy gate's command (monitor/gate): flags in, an exit code out."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from monitor.cli.load import verify_then_load
from monitor.cli.options import (
    config_option,
    duration_option,
    json_option,
    run_gate,
    sources_option,
)
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.exit_codes import ExitCode
from monitor.gate.announce import AnnounceError, report
from monitor.gate.announce import announce as announce_deploy
from monitor.gate.rounds import VerifyOptions, parse_label


def _labels_option(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(parse_label(v) for v in value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@config_option()
@click.option("--service", "services", multiple=True, help="only this service (repeatable)")
@click.option(
    "--label",
    "labels",
    multiple=True,
    callback=_labels_option,
    help="only services with this label, key=value (repeatable: all must match)",
)
@click.option(
    "--wait",
    default="0s",
    callback=duration_option,
    show_default=True,
    help="re-check failing services every second for this long",
)
@click.option(
    "--samples",
    type=click.IntRange(0, 10_000),
    default=0,
    show_default=True,
    help="latency samples per check; p95 is judged against the check's target",
)
@click.option("--expect-version", default=None, help="fail services reporting another version")
@sources_option(
    required=False, help="read a running daemon's /status instead of probing (repeatable)"
)
@click.option(
    "--load",
    "with_load",
    is_flag=True,
    help="once the gate passes, run each selected service's load: (monitor load)",
)
@json_option("JSON on stdout instead of the table")
@click.option("--junit", default=None, type=click.Path(dir_okay=False), help="write JUnit XML")
@click.option(
    "--announce",
    default=None,
    metavar="URL",
    help="the running daemon: hold the services' pages while the gate runs, then report the "
    "verdict (admin token from MONITOR_ADMIN_TOKEN)",
)
@click.option("--deploy-version", default=None, help="the version announced (--expect-version)")
def verify(
    config_path: str | None,
    as_json: bool,
    junit: str | None,
    with_load: bool,
    announce: str | None,
    deploy_version: str | None,
    **selection: Any,
) -> None:
    """Deploy gate: exit 0 if every selected service is healthy and within target, 1 if not,
    2 on bad usage or config (see docs/deploy-gate.md)."""
    # the other flags are named as VerifyOptions' fields: what to verify and how
    options = VerifyOptions(**selection)
    deploy = None
    if announce is not None:
        deploy = _announce(announce, config_path, options, deploy_version)
    if with_load:
        code = verify_then_load(config_path, options, as_json=as_json, junit=junit)
    else:
        code = run_gate(config_path, options, as_json=as_json, junit=junit)
    if announce is not None and deploy is not None:
        try:
            report(
                announce, os.environ.get(TOKEN_ENV, ""), deploy, passed=code != ExitCode.GATE_FAILED
            )
        except AnnounceError as exc:
            sys.stderr.write(f"monitor verify: could not report the verdict: {exc}\n")
    sys.exit(code)


TOKEN_ENV = "MONITOR_ADMIN_TOKEN"


def _announce(
    daemon: str, config_path: str | None, options: VerifyOptions, version: str | None
) -> str | None:
    """Open the deploy window; a daemon that does not take it leaves the gate as it is."""
    services = list(options.services)
    if not services and config_path is not None:
        try:
            services = [s.name for s in load_config(config_path).services]
        except ConfigError:
            return None  # run_verify says what is wrong with the config
    if not services:
        sys.stderr.write("monitor verify: --announce needs --service or --config\n")
        return None
    try:
        return announce_deploy(
            daemon,
            os.environ.get(TOKEN_ENV, ""),
            services,
            version or options.expect_version or "unknown",
        )
    except AnnounceError as exc:
        sys.stderr.write(f"monitor verify: could not announce the deploy: {exc}\n")
        return None
