"""`monitor push URL [--start | --fail | --exit-code N]` and `monitor push URL -- COMMAND ...`:
report a job to a push check from a cron line, a systemd timer or a CI step.

The wrapper sends `/start`, runs the command (its output passes through untouched), then
reports its exit code with the tail of its output, and exits with the command's own code. The
monitor being unreachable never fails the job: a few bounded retries, then a warning on
stderr. The push URL holds the check's token, so no message ever prints it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from typing import IO
from urllib.parse import urlsplit

import click

from monitor.exit_codes import ExitCode

OUTPUT_TAIL_BYTES = 10 * 1024
"""What the monitor keeps of a ping's body; more would be cut there anyway."""
BACKOFF_S = (1.0, 3.0)
"""Pauses between attempts: three tries within about 4 s plus their timeouts."""
COMMAND_NOT_FOUND = 127


def redacted(url: str) -> str:
    """The push URL without its token: `http://monitor:8700/push/…`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/push/…"


def send(
    url: str,
    body: bytes = b"",
    *,
    timeout: float = 10.0,
    backoff: tuple[float, ...] = BACKOFF_S,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """POST one ping, retrying network errors, 429 and 5xx. None when accepted, else why
    not (a 404 is final: the token is unknown, retrying cannot help)."""
    why = "not sent"
    for attempt in range(len(backoff) + 1):
        if attempt:
            sleep(backoff[attempt - 1])
        request = urllib.request.Request(url, data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                answer.read(1024)
                return None
        except urllib.error.HTTPError as exc:
            why = f"HTTP {exc.code}"
            if exc.code == 404:
                return "HTTP 404: the monitor knows no push check with this token"
            if exc.code != 429 and exc.code < 500:
                return why
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            why = str(reason)[:200].replace(url, redacted(url))
    return why


def _warn(url: str, what: str, why: str) -> None:
    click.echo(f"monitor push: warning: {what} not reported to {redacted(url)}: {why}", err=True)


def _pump(source: IO[bytes], sink: IO[bytes], tail: deque[bytes], lock: threading.Lock) -> None:
    """Copy a stream through as it comes, keeping about its last OUTPUT_TAIL_BYTES."""
    kept = 0
    for chunk in iter(lambda: os.read(source.fileno(), 4096), b""):
        sink.write(chunk)
        sink.flush()
        with lock:
            tail.append(chunk)
            kept += len(chunk)
            while kept - len(tail[0]) > OUTPUT_TAIL_BYTES:
                kept -= len(tail.popleft())


def run_wrapped(command: list[str]) -> tuple[int, bytes]:
    """Run `command`, passing its output through; its exit code (128+N when killed by signal
    N, 127 when it cannot be started) and the tail of its output (stdout and stderr)."""
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        message = f"monitor push: cannot run {command[0]!r}: {exc.strerror or exc}\n"
        sys.stderr.write(message)
        return COMMAND_NOT_FOUND, message.encode()
    tail: deque[bytes] = deque()
    lock = threading.Lock()
    assert process.stdout is not None and process.stderr is not None
    pumps = [
        threading.Thread(target=_pump, args=(stream, sink, tail, lock), daemon=True)
        for stream, sink in (
            (process.stdout, sys.stdout.buffer),
            (process.stderr, sys.stderr.buffer),
        )
    ]
    for pump in pumps:
        pump.start()
    with process:  # closes both pipes once the pumps have drained them
        code = process.wait()
        for pump in pumps:
            pump.join()
    output = b"".join(tail)[-OUTPUT_TAIL_BYTES:]
    return (128 - code if code < 0 else code), output


@click.command("push", context_settings={"ignore_unknown_options": True})
@click.argument("url")
@click.option("--start", "signal", flag_value="start", help="Report that a run started.")
@click.option("--fail", "signal", flag_value="fail", help="Report that a run failed.")
@click.option("--exit-code", type=click.IntRange(0, 255), help="Report a run's exit code.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per attempt.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def push_command(
    url: str, signal: str | None, exit_code: int | None, timeout: float, command: tuple[str, ...]
) -> None:
    """Ping a push check at URL (`.../push/TOKEN`), or run `-- COMMAND ...` and report it.

    A ping exits 0 when the monitor accepted it, 1 when it did not (after retries). The
    wrapper exits with the command's own code, whatever happened to the reports."""
    base = url.rstrip("/")
    if urlsplit(base).scheme not in ("http", "https") or "/push/" not in base:
        raise click.UsageError("expected a push URL such as http://monitor:8700/push/TOKEN")
    if command:
        if signal is not None or exit_code is not None:
            raise click.UsageError("--start, --fail and --exit-code are for a single ping")
        why = send(base + "/start", timeout=timeout)
        if why is not None:
            _warn(base, "start", why)
        code, output = run_wrapped(list(command))
        why = send(f"{base}/{code}", output, timeout=timeout)
        if why is not None:
            _warn(base, f"exit code {code}", why)
        sys.exit(code)
    if signal is not None and exit_code is not None:
        raise click.UsageError("give one of --start, --fail or --exit-code")
    suffix = "" if signal is None and exit_code is None else f"/{signal or exit_code}"
    why = send(base + suffix, timeout=timeout)
    if why is not None:
        _warn(base, "ping", why)
        sys.exit(ExitCode.GATE_FAILED)
