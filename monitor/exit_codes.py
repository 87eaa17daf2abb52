"""The exit codes of every command, defined once: the deploy gate's verdict carries one, the
command line exits with it. CI steps branch on these, so they never change."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """0 fine; 1 a check or the gate failed; 2 bad usage or config (never 0 on a config that
    could not be read)."""

    OK = 0
    GATE_FAILED = 1
    USAGE_OR_CONFIG = 2
