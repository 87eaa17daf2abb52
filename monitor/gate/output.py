"""`monitor verify` end to end: read the config, run the gate, write where it was asked.

The rendering itself is `gate.verdict`'s (pure); this module decides which stream or file
each rendering goes to. stdout carries the report (the table, or JSON with `--json`); stderr the
progress and problems, so `--json > out.json` stays parseable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TextIO

from monitor.config import MonitorConfig, load_config
from monitor.errors import ConfigError
from monitor.exit_codes import ExitCode
from monitor.gate.rounds import GateUsageError, Round, VerifyOptions, verify
from monitor.gate.verdict import (
    GateReport,
    github_annotations,
    render_github_summary,
    render_json,
    render_junit,
    render_table,
)

_MAX_NAMES = 4


def format_round(r: Round) -> str:
    """`verify: round 2: 7/10 pass; waiting for auth, do-db, email (+1 more); 8s left`."""
    head = f"verify: round {r.number}: {r.passing}/{r.total} pass"
    if not r.failing:
        return head
    names = ", ".join(r.failing[:_MAX_NAMES])
    if len(r.failing) > _MAX_NAMES:
        names += f" (+{len(r.failing) - _MAX_NAMES} more)"
    if r.final:
        return f"{head}; failing: {names}"
    return f"{head}; waiting for {names}; {r.remaining_s:.0f}s left"


class ProgressLine:
    """One line per round: rewritten in place on a terminal, appended otherwise (CI logs)."""

    def __init__(self, stream: TextIO, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self._open = False

    def __call__(self, r: Round) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + format_round(r))
            self._open = not r.final
            if r.final:
                self.stream.write("\n")
        else:
            self.stream.write(format_round(r) + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End an in-place line left open (an interrupted run)."""
        if self._open:
            self.stream.write("\n")
            self._open = False


def check_junit_path(path: str | None) -> None:
    """Refuse a JUnit path whose directory does not exist before probing, not after."""
    if path is not None and not Path(path).resolve().parent.is_dir():
        raise GateUsageError(f"--junit {path}: its directory does not exist")


def write_reports(
    report: GateReport,
    *,
    as_json: bool,
    junit: str | None,
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
) -> ExitCode:
    """Write every report asked for; the exit code is the gate's, or 2 if the JUnit file the
    pipeline asked for could not be written (it would otherwise read as a silent pass)."""
    out.write(render_json(report) if as_json else render_table(report))
    code = report.exit_code
    if junit is not None:
        try:
            Path(junit).write_text(render_junit(report), encoding="utf-8")
        except OSError as exc:
            err.write(f"monitor verify: cannot write --junit {junit}: {exc.strerror or exc}\n")
            code = ExitCode.USAGE_OR_CONFIG
    if env.get("GITHUB_ACTIONS") == "true":
        summary = env.get("GITHUB_STEP_SUMMARY")
        if summary:
            try:
                with open(summary, "a", encoding="utf-8") as file:
                    file.write(render_github_summary(report))
            except OSError as exc:
                err.write(f"monitor verify: cannot append the step summary: {exc}\n")
        # The runner reads workflow commands from stdout and stderr alike; keep JSON clean.
        stream = err if as_json else out
        for line in github_annotations(report):
            stream.write(line + "\n")
    return code


def run_verify(
    config_path: str | None,
    options: VerifyOptions,
    *,
    as_json: bool,
    junit: str | None,
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
    run: Callable[[Awaitable[GateReport]], GateReport],
) -> ExitCode:
    """The whole command; `run` is the event-loop runner (asyncio.run, uvloop.run)."""
    config: MonitorConfig | None = None
    progress = ProgressLine(err)
    try:
        check_junit_path(junit)
        if config_path is not None:
            config = load_config(config_path)
        report = run(verify(config, options, progress))
    except ConfigError as exc:
        err.write(f"monitor verify: bad config, nothing verified:\n{exc}\n")
        return ExitCode.USAGE_OR_CONFIG
    except GateUsageError as exc:
        err.write(f"monitor verify: {exc}\n")
        return ExitCode.USAGE_OR_CONFIG
    finally:
        progress.close()
    return write_reports(report, as_json=as_json, junit=junit, env=env, out=out, err=err)
