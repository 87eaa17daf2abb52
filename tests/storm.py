"""The paging storm: 30 services go down within one second, then recover.

Driven on a simulated clock through the real pipeline (evaluate -> grouping -> SQLite outbox ->
receivers posting to loopback servers), so a minute of storm takes seconds and every figure is
the same on every run. `bench/storm.py` prints the figures and runs the same storm against a
real Alertmanager for comparison.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import structlog

from monitor.alerting.evaluate import evaluate
from monitor.alerting.grouping import AlertGroup, settings_for, step_groups
from monitor.alerting.outbox import Outbox
from monitor.alerting.rules import parse_alert_rules
from monitor.alerting.state import AlertState, RuleInput, ServiceInput
from monitor.model import Status
from monitor.receivers import build_receivers
from tests.alerting_fixtures import T0, Recorder

SERVICES = tuple(f"svc-{i:02d}" for i in range(30))
HTTP_RECEIVERS = ("hook", "slack", "pd")
RULES = """
external_url: "http://127.0.0.1:8700"
route: [hook, slack, pd, log]
receivers:
  - {name: hook, type: webhook, url: "${HOOK_URL}"}
  - {name: slack, type: slack, url: "${SLACK_URL}"}
  - {name: pd, type: pagerduty, routing_key: "${PD_KEY}", url: "PD_URL"}
  - {name: log, type: log}
rules:
  - {name: ServiceDown, kind: status, status: [unhealthy], for: 3, resolve_after: 2,
     severity: critical}
"""
INTERVAL, FAST, STEP = 5.0, 1.0, 0.25
"""Check interval, re-check interval while pending, evaluation period (seconds)."""


@dataclass(frozen=True, slots=True)
class Received:
    """One notification as a receiver got it; `at` is seconds after the first service fell."""

    receiver: str
    at: float
    status: str
    size: int
    services: frozenset[str]


@dataclass
class Storm:
    received: list[Received] = field(default_factory=list)
    recovered_at: float = 0.0

    def of(self, receiver: str) -> list[Received]:
        return [r for r in self.received if r.receiver == receiver]


def _named(text: str) -> frozenset[str]:
    return frozenset(s for s in SERVICES if s in text)


async def simulate(
    data: Path,
    session: aiohttp.ClientSession,
    recorders: Mapping[str, Recorder],
    *,
    grouping: str = "",
    recover_at: float = 120.0,
    until: float = 400.0,
) -> Storm:
    """Run the storm on a simulated clock; service i falls at i/30 s and recovers at
    `recover_at` + i/30 s. Every service is checked every INTERVAL (phases spread), every FAST
    while its alert is pending, as the daemon's scheduler does."""
    env = {f"{name.upper()}_URL": recorders[name].url + f"/{name}" for name in HTTP_RECEIVERS}
    env["PD_KEY"] = "storm-routing-key"
    text = grouping + RULES.replace('"PD_URL"', json.dumps(env["PD_URL"]))  # not a secret
    rules = parse_alert_rules(text, env=env, services=SERVICES)
    outbox = Outbox(data / "alerts.sqlite3", build_receivers(rules.receivers))
    settings = {n: settings_for(rules.config.grouping, c) for n, c in rules.receivers.items()}
    state, groups = AlertState(), dict[str, AlertGroup]()
    due = {s: T0 - timedelta(seconds=INTERVAL * i / len(SERVICES)) for i, s in enumerate(SERVICES)}
    checked: dict[str, tuple[Status, datetime]] = {}
    storm = Storm(recovered_at=recover_at)
    seen = {name: 0 for name in recorders}
    with structlog.testing.capture_logs() as logs:
        for tick in range(int(until / STEP) + 1):
            now = T0 + timedelta(seconds=tick * STEP)
            ran = False
            for i, name in enumerate(SERVICES):
                if now < due[name]:
                    continue
                offset = (now - T0).total_seconds()
                down = i / len(SERVICES) <= offset < recover_at + i / len(SERVICES)
                checked[name] = (Status.UNHEALTHY if down else Status.HEALTHY, now)
                fast = name in state.recheck_soon
                due[name] = now + timedelta(seconds=FAST if fast else INTERVAL)
                ran = True
            if not ran:
                continue
            services = {
                n: ServiceInput(n, st, reason="server_error", checked_at=at)
                for n, (st, at) in checked.items()
            }
            state, events = evaluate(rules, state, RuleInput(services, T0, now), now)
            groups, batches = step_groups(
                groups, events, state.alerts, settings, now, rules.config.external_url
            )
            outbox.save(state, batches, now, groups)
            if batches:
                await outbox.deliver_due(session, now=now)
            offset = (now - T0).total_seconds()
            for name, recorder in recorders.items():
                for _, _, body in recorder.requests[seen[name] :]:
                    text = body.decode()
                    status = _status(name, json.loads(text))
                    storm.received.append(Received(name, offset, status, len(body), _named(text)))
                seen[name] = len(recorder.requests)
            for entry in logs:
                text = json.dumps(entry.get("alerts") or entry.get("service") or "")
                storm.received.append(
                    Received("log", offset, str(entry["kind"]), len(text), _named(text))
                )
            logs.clear()
    outbox.close()
    return storm


def _status(receiver: str, body: dict[str, object]) -> str:
    if receiver == "pd":
        return "resolved" if body.get("event_action") == "resolve" else "firing"
    if receiver == "slack":
        return "resolved" if "RESOLVED" in str(body.get("text")) else "firing"
    return str(body.get("status"))
