"""Child processes in tests (real binaries, `monitor run`): the port each got; stopping them."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
from pathlib import Path

from tests.polling import until


def stop(*processes: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Terminate every process, then kill whichever has not exited within `grace` seconds."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far: start-up's cost whatever the load."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def exit_code(process: subprocess.Popen[bytes] | asyncio.subprocess.Process) -> int | None:
    """The exit code if the process has exited, else None (Popen or asyncio's process)."""
    if isinstance(process, subprocess.Popen):
        return process.poll()
    return process.returncode


async def port_from_file(
    path: Path,
    process: subprocess.Popen[bytes] | asyncio.subprocess.Process,
    timeout: float = 30.0,
) -> int:
    """The port a `monitor run --listen 127.0.0.1:0 --port-file PATH` got: no port is guessed
    before the daemon binds it, so no other process can take it in between. Fails at once if
    the daemon exits first, or after `timeout` s."""
    await until(
        lambda: path.exists() or exit_code(process) is not None,
        timeout,
        every=0.02,
        what=f"port file {path.name}",
    )
    if not path.exists():
        raise AssertionError(f"the daemon exited with {exit_code(process)} before it listened")
    return int(path.read_text())


LISTENING = re.compile(r'msg="Listening on" address=(\S+)')


def listening_address(
    log: Path, process: subprocess.Popen[bytes], what: str, timeout: float = 30.0
) -> str:
    """HOST:PORT that a Prometheus-family binary started with `--web.listen-address=...:0` and
    `--log.level=info` bound, read from its log: the port is the OS's pick, never a guess."""
    deadline = time.monotonic() + timeout
    while not (found := LISTENING.search(log.read_text(errors="replace"))):
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}: {log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not listening within {timeout} s: {log.read_text()}")
        time.sleep(0.02)  # polling a child's log, bounded by the deadline
    return found.group(1)
