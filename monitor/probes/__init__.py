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
from monitor.probes.http import probe_http

Probe = Callable[[aiohttp.ClientSession, Check], Awaitable[Answer]]

PROBES: Final[dict[str, Probe]] = {
    "http": probe_http,
}


def probe_for(check: Check) -> Probe:
    """Every check kind (health, rpc, http) is an HTTP exchange today."""
    return PROBES["http"]


__all__ = ["PROBES", "Probe", "probe_for"]
