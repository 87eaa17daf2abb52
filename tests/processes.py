"""Stopping the real binaries and daemons that tests run as child processes."""

from __future__ import annotations

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
