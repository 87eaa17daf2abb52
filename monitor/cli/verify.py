"""`monitor verify`: the deploy gate's command (monitor/gate): flags in, an exit code out."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from monitor.cli.options import (
    config_option,
    duration_option,
    event_loop_runner,
    json_option,
    sources_option,
)
from monitor.gate.output import run_verify
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
@json_option("JSON on stdout instead of the table")
@click.option("--junit", default=None, type=click.Path(dir_okay=False), help="write JUnit XML")
def verify(config_path: str | None, as_json: bool, junit: str | None, **selection: Any) -> None:
    """Deploy gate: exit 0 if every selected service is healthy and within target, 1 if not,
    2 on bad usage or config (see docs/deploy-gate.md)."""
    # the other flags are named as VerifyOptions' fields: what to verify and how
    options = VerifyOptions(**selection)
    sys.exit(
        run_verify(
            config_path,
            options,
            as_json=as_json,
            junit=junit,
            env=os.environ,
            out=sys.stdout,
            err=sys.stderr,
            run=event_loop_runner("auto"),
        )
    )
