"""Probes: one module per kind of exchange, one async signature, one registry keyed by check kind.

A probe takes the shared client session and a resolved `Check` and returns an `Answer`; it
never raises for a failing target. `PROBES` maps every `CheckKind` to its probe and is what the
daemon and the deploy gate dispatch through. Config validation admits only `CheckKind` members,
and a test asserts each has an entry, so `probe_for` cannot meet an unknown kind. To add a
kind: add the `CheckKind` member, a module here, and one entry below.

A kind registered with `None` has no per-check probe: push checks report in (their source is
the push watcher, probes/push/), and analytics checks are answered for the whole fleet by one
poller (monitor/analytics/, `FLEET_POLLED`). Their verdicts reach the daemon exactly as a probe's
answers do. The scheduler runs only `polled` checks.
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

PROBES: Final[Mapping[CheckKind, Probe | None]] = MappingProxyType(
    {
        # health, rpc and http checks are all one HTTP request and a capped read.
        CheckKind.HEALTH: probe_http,
        CheckKind.RPC: probe_http,
        CheckKind.HTTP: probe_http,
        CheckKind.TCP: probe_tcp,
        CheckKind.MCP: probe_mcp,
        # push checks (heartbeats) report in: nothing to probe (probes/push/)
        CheckKind.PUSH: None,
        # one GraphQL query answers for the whole fleet (monitor/analytics/)
        CheckKind.ANALYTICS: None,
    }
)


FLEET_POLLED: Final[frozenset[CheckKind]] = frozenset({CheckKind.ANALYTICS})
"""Kinds with no per-check probe: one request answers for the whole fleet (monitor/analytics/),
so the scheduler and the deploy gate leave them to their poller."""


def polled(check: Check) -> bool:
    """Whether the scheduler runs the check (else it reports in, or its fleet's poller judges
    it)."""
    return PROBES[check.kind] is not None


def probe_for(check: Check) -> Probe:
    """The probe for the check's kind; a kind that reports in has none (see `polled`)."""
    probe = PROBES[check.kind]
    if probe is None:
        raise ValueError(f"{check.kind.value} checks report in: there is nothing to probe")
    return probe


__all__ = ["FLEET_POLLED", "PROBES", "Probe", "polled", "probe_for"]
