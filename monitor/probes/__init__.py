"""Probes: one module per kind of exchange, one async signature, one registry keyed by check kind.

A probe takes the shared client session and a resolved `Check` and returns an `Answer`; it
never raises for a failing target. `PROBES` maps every `CheckKind` to its probe and is what the
daemon and the deploy gate dispatch through. Config validation admits only `CheckKind` members,
and a test asserts each has an entry (or is in `FLEET_POLLED`), so `probe_for` cannot meet an
unknown kind. To add a kind: add the `CheckKind` member, a module here, and one entry below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Final

import aiohttp

from monitor.answer import Answer
from monitor.config import Check
from monitor.model import CheckKind
from monitor.probes.http import probe_http
from monitor.probes.mcp import probe_mcp
from monitor.probes.tcp import probe_tcp

Probe = Callable[[aiohttp.ClientSession, Check], Awaitable[Answer]]

PROBES: Final[Mapping[CheckKind, Probe]] = MappingProxyType(
    {
        # health, rpc and http checks are all one HTTP request and a capped read.
        CheckKind.HEALTH: probe_http,
        CheckKind.RPC: probe_http,
        CheckKind.HTTP: probe_http,
        CheckKind.TCP: probe_tcp,
        CheckKind.MCP: probe_mcp,
    }
)


FLEET_POLLED: Final[frozenset[CheckKind]] = frozenset({CheckKind.ANALYTICS})
"""Kinds with no per-check probe: one request answers for the whole fleet (monitor/analytics/),
so the scheduler and the deploy gate leave them to their poller."""


def probe_for(check: Check) -> Probe:
    """The probe for the check's kind."""
    return PROBES[check.kind]


__all__ = ["FLEET_POLLED", "PROBES", "Probe", "probe_for"]
