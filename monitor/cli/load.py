"""`monitor load`: an open-loop load gate on a URL or on a configured check (gate/load.py).

Safety: the target is a URL given on the command line or a service in the config, requests
go only to its host (no redirects are followed), and `--rate` above 2,000/s or `--duration`
above 5 minutes needs `--exceed-caps`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import signal
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import click

from monitor.cli.options import event_loop_runner, load_config_or_exit, run_gate
from monitor.config import LoadConfig, MonitorConfig, parse_ratio
from monitor.durations import parse_duration, parse_rate
from monitor.exit_codes import ExitCode
from monitor.gate.load import (
    LoadPlan,
    LoadRecorder,
    LoadResult,
    configured_plan,
    default_connections,
    judge_load,
)
from monitor.gate.load_report import (
    progress_line,
    render_load_json,
    render_load_junit,
    render_load_text,
)
from monitor.gate.open_loop import LoadTargetError, OpenLoopGenerator
from monitor.gate.rounds import GateUsageError, VerifyOptions, select
from monitor.runtime.gc_policy import tune_collector

MAX_RATE = 2000.0
MAX_DURATION = 300.0


def _optional(parse: Any) -> Any:
    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return callback


def _header(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> Any:
    out = []
    for item in value:
        name, sep, text = item.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected Name:value, got {item!r}")
        out.append((name.strip(), text.strip()))
    return tuple(out)


class _Progress:
    """Once a second, rewritten in place, on a terminal only (CI logs get the report)."""

    def __init__(self, stream: TextIO, duration: float) -> None:
        self.stream, self.duration = stream, duration
        self.tty = stream.isatty()
        self._last = -1

    def __call__(self, recorder: LoadRecorder, elapsed: float) -> None:
        if self.tty and int(elapsed) != self._last:
            self._last = int(elapsed)
            self.stream.write("\r\x1b[K" + progress_line(recorder, elapsed, self.duration))
            self.stream.flush()

    def close(self) -> None:
        if self.tty and self._last >= 0:
            self.stream.write("\n")


async def run_plan(plan: LoadPlan, err: TextIO) -> LoadResult:
    """One run; Ctrl-C (SIGINT) or SIGTERM stops it and the partial result is judged."""
    progress = _Progress(err, plan.duration)
    generator = OpenLoopGenerator(plan, progress=progress)
    tune_collector()  # a full collection of start-up objects took 140 ms in the daemon
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        elapsed, interrupted = await generator.run(stop)
    finally:
        progress.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return judge_load(
        plan,
        generator.recorder,
        elapsed,
        interrupted=interrupted,
        connections_used=generator.connections_used,
    )


def check_caps(plan: LoadPlan, exceed_caps: bool) -> None:
    if exceed_caps:
        return
    if plan.rate > MAX_RATE:
        raise click.UsageError(
            f"--rate {plan.rate:g}/s is above the {MAX_RATE:g}/s cap; add --exceed-caps"
        )
    if plan.duration + plan.warmup > MAX_DURATION:
        raise click.UsageError(
            f"--duration and --warmup {plan.duration + plan.warmup:g} s are above the "
            f"{MAX_DURATION:g} s cap; add --exceed-caps"
        )


def _rlimit_for(connections: int) -> None:
    """Room for the connections' file descriptors (the soft limit is often 1,024)."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = connections + 64
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def execute(
    plan: LoadPlan,
    name: str,
    *,
    as_json: bool,
    junit: str | None,
    per_second: bool = False,
    loop: str = "auto",
) -> int:
    """Run, report, return the exit code (shared with `monitor verify --load`)."""
    if junit is not None and not Path(junit).resolve().parent.is_dir():
        raise click.UsageError(f"--junit {junit}: its directory does not exist")
    _rlimit_for(plan.connections)
    try:
        result: LoadResult = event_loop_runner(loop)(run_plan(plan, sys.stderr))
    except LoadTargetError as exc:
        click.echo(f"monitor load: {exc}", err=True)
        return ExitCode.USAGE_OR_CONFIG
    report = render_load_json(result) if as_json else render_load_text(result, per_second)
    click.echo(report, nl=False)
    code = ExitCode.OK if result.ok else ExitCode.GATE_FAILED
    if junit is not None:
        try:
            Path(junit).write_text(render_load_junit([(name, result)]), encoding="utf-8")
        except OSError as exc:
            click.echo(f"monitor load: cannot write --junit {junit}: {exc}", err=True)
            code = ExitCode.USAGE_OR_CONFIG
    return code


_duration = _optional(parse_duration)


@click.command()
@click.argument("url", required=False)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="monitor.yaml")
@click.option("--service", default=None, help="with --config: the service to load")
@click.option("--check", "check_name", default=None, help="its check to load [load.check]")
@click.option("--rate", callback=_optional(parse_rate), help="requests a second: 1000/s")
@click.option("--duration", callback=_duration, help="measured time [30s]")
@click.option("--warmup", callback=_duration, help="same schedule first, not judged [5s]")
@click.option(
    "--connections",
    type=click.IntRange(1, 10_000),
    default=None,
    help="at most this many [half a second of requests, 16 to 1,024]",
)
@click.option(
    "--schedule-slack",
    callback=_duration,
    help="fail when the p99 send lag (the tool's own lateness) is above it [2ms]",
)
@click.option("--timeout", callback=_duration, help="unanswered this long: `timeout` [5s]")
@click.option("--target-p95", callback=_duration, help="fail when p95 is above it: 50ms")
@click.option("--target-p99", callback=_duration, help="fail when p99 is above it")
@click.option("--max-error-ratio", callback=_optional(parse_ratio), help="fail above it [0.1%]")
@click.option(
    "--method", type=click.Choice(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]), default=None
)
@click.option("--body", default=None, help="request body (sent with Content-Length)")
@click.option("--header", "headers", multiple=True, callback=_header, help="Name:value")
@click.option(
    "--exceed-caps",
    is_flag=True,
    help=f"allow --rate above {MAX_RATE:g}/s and --duration above {MAX_DURATION:g} s",
)
@click.option("--per-second", is_flag=True, help="a line per second in the report")
@click.option(
    "--loop", "loop_kind", type=click.Choice(["auto", "asyncio", "uvloop"]), default="auto"
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout instead of the report")
@click.option("--junit", default=None, type=click.Path(dir_okay=False), help="write JUnit XML")
def load(
    url: str | None,
    config_path: str | None,
    service: str | None,
    check_name: str | None,
    rate: float | None,
    headers: tuple[tuple[str, str], ...],
    exceed_caps: bool,
    per_second: bool,
    loop_kind: str,
    as_json: bool,
    junit: str | None,
    **overrides: Any,
) -> None:
    """Open-loop load on URL, or on a configured service's check: requests leave on a fixed
    schedule and latency counts from each one's intended send time. Exit 0 when the rate was
    achieved and every threshold holds, 1 when one fails, 2 on bad usage or config."""
    if (url is None) == (config_path is None):
        raise click.UsageError("give a URL, or --config with --service (not both)")
    if url is not None:
        if service or check_name:
            raise click.UsageError("--service and --check need --config")
        if rate is None:
            raise click.UsageError("--rate is required with a URL: --rate 1000/s")
        plan = LoadPlan(url=url, rate=rate, duration=30.0, warmup=5.0)
    else:
        plan = _configured(load_config_or_exit(str(config_path)), service, check_name, rate)
    body = overrides.pop("body")
    given = {k: v for k, v in overrides.items() if v is not None}
    if rate is not None:
        given["rate"] = rate
    if body is not None:
        given["body"] = body.encode()
    plan = replace(plan, headers=(*plan.headers, *headers), **given)
    if "connections" not in given and plan.connections < default_connections(plan.rate):
        plan = replace(plan, connections=default_connections(plan.rate))
    check_caps(plan, exceed_caps)
    if not math.isfinite(plan.rate * plan.duration):
        raise click.UsageError("--rate and --duration must be finite")
    name = service or url or "load"
    sys.exit(
        execute(plan, name, as_json=as_json, junit=junit, per_second=per_second, loop=loop_kind)
    )


def _configured(
    config: MonitorConfig, service: str | None, check_name: str | None, rate: float | None
) -> LoadPlan:
    """The service's `load:` plan; without that section, `--rate` makes one on its check."""
    chosen = config.service(service or "")
    if chosen is None:
        names = ", ".join(s.name for s in config.services) or "none in the file"
        raise click.UsageError(f"--service: expected one of: {names}")
    if chosen.load is None:
        if rate is None:
            raise click.UsageError(
                f"service {chosen.name!r} has no load: section; add one or give --rate"
            )
        chosen = chosen.model_copy(update={"load": LoadConfig(rate=rate)})
    try:
        return configured_plan(chosen, config.checks(), check_name)
    except LookupError as exc:
        raise click.UsageError(str(exc)) from None


def verify_then_load(
    config_path: str | None, options: VerifyOptions, *, as_json: bool, junit: str | None
) -> int:
    """`monitor verify --load`: the health gate, then, only if it passed, the `load:` of each
    selected service in turn. One report: JSON gets a `load` object keyed by service, JUnit a
    second testsuite, the table the load reports after it."""
    if config_path is None or options.sources:
        raise click.UsageError("--load needs --config (it loads the configured services)")
    config = load_config_or_exit(config_path)
    try:
        names = select(config.services, options)
    except GateUsageError as exc:
        raise click.UsageError(str(exc)) from None
    checks = config.checks()
    plans = [
        (s.name, configured_plan(s, checks))
        for s in config.services
        if s.name in names and s.load is not None
    ]
    if not plans:
        raise click.UsageError("--load: none of the selected services has a load: section")
    runner = event_loop_runner("auto")
    report = io.StringIO()
    code = run_gate(config_path, options, as_json=as_json, junit=junit, out=report, run=runner)
    results: list[tuple[str, LoadResult]] = []
    if code == ExitCode.OK:
        for name, plan in plans:
            _rlimit_for(plan.connections)
            try:
                results.append((name, runner(run_plan(plan, sys.stderr))))
            except LoadTargetError as exc:
                click.echo(f"monitor verify --load: {name}: {exc}", err=True)
                return ExitCode.USAGE_OR_CONFIG
        if not all(r.ok for _, r in results):
            code = ExitCode.GATE_FAILED
    if as_json:
        data = json.loads(report.getvalue())
        data["load"] = {name: r.to_json() for name, r in results}
        data["ok"] = data["ok"] and code == ExitCode.OK
        data["exit_code"] = max(int(code), int(data.get("exit_code", 0)))
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(report.getvalue(), nl=False)
        if code == ExitCode.OK or results:
            for _, result in results:
                click.echo("\n" + render_load_text(result), nl=False)
        else:
            click.echo("\nload: not run, the health gate failed first")
    if junit is not None and results:
        _append_junit(junit, render_load_junit(results))
    return code


def _append_junit(path: str, load_xml: str) -> None:
    """The load's testsuite beside verify's in the file verify wrote."""
    try:
        root = ET.fromstring(Path(path).read_text(encoding="utf-8"))
        for suite in ET.fromstring(load_xml).iter("testsuite"):
            root.append(suite)
        for key in ("tests", "failures"):
            total = sum(int(s.get(key, "0")) for s in root.iter("testsuite"))
            root.set(key, str(total))
        ET.indent(root)
        text = ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
        Path(path).write_text(text, encoding="utf-8")
    except (OSError, ET.ParseError) as exc:
        click.echo(f"monitor verify: cannot add the load to --junit {path}: {exc}", err=True)
