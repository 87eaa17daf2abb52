"""Probes: one module per kind, one async signature, one registry.

A probe takes the shared client session and a resolved `Check` and returns an `Answer`; it
never raises for a failing target. To add a kind, add a module and register it in `PROBES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

import aiohttp

from monitor.answer import Answer
from monitor.config import Check
from monitor.model import CheckKind
from monitor.probes.http import probe_http

Probe = Callable[[aiohttp.ClientSession, Check], Awaitable[Answer]]

PROBES: Final[dict[str, Probe]] = {
    "http": probe_http,
}


PUSHED_KINDS: Final = frozenset({CheckKind.PUSH})
"""Kinds with no probe: their checks report in, and their source is the push watcher
(probes/push/), which hands its verdicts to the daemon like a probe's."""


def polled(check: Check) -> bool:
    """Whether the scheduler runs the check (else it reports in by itself)."""
    return check.kind not in PUSHED_KINDS


def probe_for(check: Check) -> Probe:
    """Every check kind (health, rpc, http) is an HTTP exchange today."""
    return PROBES["http"]


__all__ = ["PROBES", "PUSHED_KINDS", "Probe", "polled", "probe_for"]
