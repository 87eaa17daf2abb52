"""Stopping the real binaries and daemons that tests run as child processes."""

from __future__ import annotations

import os
import subprocess


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
