"""The probe registry: every check kind the config can produce has a probe, every probe module
is registered, and dispatch goes through the registry by the check's kind."""

from __future__ import annotations

import pkgutil

import pytest

import monitor.probes as probes_pkg
from monitor.config import parse_config
from monitor.errors import ConfigError
from monitor.model import CheckKind
from monitor.probes import FLEET_POLLED, PROBES, polled, probe_for

SUPPORT_MODULES = {"timing", "stamped_transport"}
"""The HTTP probe's connection machinery: public modules of probes/ that are not probes."""

ALL_KINDS = """
cloudflare: {account_id: acc, api_token: tok-secret}
services:
  - name: gw
    url: http://127.0.0.1:9
    rpc: [{name: db, path: /smoke/db}]
    http: [{name: home, path: /}]
    tcp: [{name: port, address: "127.0.0.1:9"}]
    mcp: [{name: tools, path: /mcp}]
    push: [{name: job, every: 1m, grace: 1m, token: a-push-token-of-16-chars}]
"""
PROBELESS = {"push", "analytics"}
"""Kinds with no per-check probe, registered as `None`: push checks report in, analytics checks
are answered by the fleet's one poller."""


def test_every_check_kind_the_config_produces_has_a_probe() -> None:
    checks = parse_config(ALL_KINDS).checks()
    assert {c.kind for c in checks} == set(CheckKind)  # the config above covers every kind
    assert set(PROBES) == set(CheckKind)
    assert {k for k, probe in PROBES.items() if probe is None} >= FLEET_POLLED
    for check in checks:
        if PROBES[check.kind] is None:
            assert not polled(check) and check.kind.value in PROBELESS
            with pytest.raises(ValueError, match="report in"):
                probe_for(check)
        else:
            assert polled(check) and probe_for(check) is PROBES[check.kind]


def test_an_unknown_check_kind_stops_at_config_validation() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(ALL_KINDS + "    icmp: [{name: ping, address: 127.0.0.1}]\n")
    assert "icmp" in str(caught.value)


def test_probe_for_dispatches_by_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake(*_: object) -> None:
        raise AssertionError("not called")

    monkeypatch.setattr(probes_pkg, "PROBES", {**PROBES, CheckKind.RPC: fake})
    by_kind = {c.kind: c for c in parse_config(ALL_KINDS).checks()}
    rpc, health = by_kind[CheckKind.RPC], by_kind[CheckKind.HEALTH]
    assert probe_for(rpc) is fake
    assert probe_for(health) is PROBES[CheckKind.HEALTH]


def test_every_probe_module_is_registered() -> None:
    modules = {
        m.name for m in pkgutil.iter_modules(probes_pkg.__path__) if not m.name.startswith("_")
    }
    registered = {p.__module__.rsplit(".", 1)[1] for p in PROBES.values() if p is not None}
    registered |= {kind.value for kind, p in PROBES.items() if p is None}
    registered -= {kind.value for kind in FLEET_POLLED}  # its home is monitor/analytics/
    assert modules - SUPPORT_MODULES == registered
    assert modules >= SUPPORT_MODULES  # a renamed support module must leave this list
