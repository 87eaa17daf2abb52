"""Builders for alerting tests: a tiny fleet, a clock that ticks per check, YAML rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry

from monitor.alerting.evaluate import evaluate
from monitor.alerting.rules import AlertRules, parse_alert_rules
from monitor.alerting.service import Alerter
from monitor.alerting.state import (
    AlertEvent,
    AlertState,
    CheckInput,
    RuleInput,
    ServiceInput,
    Silence,
)
from monitor.config import MonitorConfig
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import Status
from monitor.runtime.daemon import Monitor, utc_now

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=30)

H, D, U = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY
LETTERS = {"H": H, "D": D, "U": U, "?": Status.UNKNOWN}

SEED_DEPENDS = {"do-gateway": ("do-db", "auth"), "auth": ("do-db",)}


def rules(text: str, **kwargs: object) -> AlertRules:
    header = "receivers:\n  - {name: log, type: log}\n  - {name: page, type: log}\n"
    return parse_alert_rules(header + text + "\nroute: [log]\n", "alerts.yaml", env={}, **kwargs)  # type: ignore[arg-type]


def service(
    name: str,
    status: Status,
    at: datetime | None,
    *,
    since: datetime | None = None,
    depends_on: Sequence[str] = (),
    checks: Iterable[CheckInput] = (),
    labels: Mapping[str, str] | None = None,
) -> ServiceInput:
    return ServiceInput(
        name=name,
        status=status,
        reason="server_error" if status != H else "ok",
        detail=f"{name} said {status.value}",
        since=since,
        checked_at=at,
        labels=labels or {},
        depends_on=tuple(depends_on),
        checks=tuple(checks),
        runbook=f"https://runbooks.example/{name}",
    )


def run(
    config: AlertRules,
    timeline: Mapping[str, str],
    *,
    depends: Mapping[str, Sequence[str]] | None = None,
    silences: tuple[Silence, ...] = (),
    state: AlertState | None = None,
) -> tuple[list[tuple[int, str, str, str]], AlertState]:
    """Evaluate one tick per letter (H/D/U) every 30 s; return (tick, kind, alert, service)."""
    depends = depends or {}
    state = state or AlertState()
    out: list[tuple[int, str, str, str]] = []
    length = max(len(t) for t in timeline.values())
    since: dict[str, datetime] = {}
    last: dict[str, Status] = {}
    for tick in range(length):
        now = T0 + tick * INTERVAL
        services = {}
        for name, letters in timeline.items():
            status = LETTERS[letters[min(tick, len(letters) - 1)]]
            if last.get(name) != status:
                since[name], last[name] = now, status
            services[name] = service(
                name, status, now, since=since[name], depends_on=depends.get(name, ())
            )
        view = RuleInput(services=services, started_at=T0, last_check_at=now, silences=silences)
        state, events = evaluate(config, state, view, now)
        out += [(tick, e.kind, e.rule, e.labels.get("service", "")) for e in events]
    return out, state


def page(event: AlertEvent) -> dict[str, object]:
    """What a person paged by `event` reads, as one value: a test compares all of it at once
    and a failure shows every part that differs."""
    return {
        "kind": event.kind,
        "labels": event.labels,
        "summary": event.annotations.get("summary"),
        "description": event.annotations.get("description"),
        "link": event.generator_url,
    }


def kinds(events: list[AlertEvent]) -> list[str]:
    return [e.kind for e in events]


def event(
    kind: str = "firing",
    service_name: str = "do-db",
    *,
    rule: str = "CoreServiceDown",
    receivers: Sequence[str] = ("r",),
    minute: int = 5,
) -> AlertEvent:
    labels = {"alertname": rule, "severity": "critical", "service": service_name}
    at = T0 + timedelta(minutes=minute)
    from monitor.alerting.state import fingerprint

    return AlertEvent(
        kind=kind,
        rule=rule,
        fingerprint=fingerprint(labels),
        labels=labels,
        annotations={
            "summary": f"{service_name} is unhealthy: server_error",
            "description": "DATABASE_URL not configured",
            "runbook_url": f"https://runbooks.example/{service_name}",
            "dashboard_url": "https://grafana.example/d/fleet?var-service=x",
            "likely_cause_of": "auth, do-gateway",
        },
        starts_at=T0,
        ends_at=at if kind == "resolved" else None,
        at=at,
        receivers=list(receivers),
        generator_url=f"http://localhost:8700/status?service={service_name}",
    )


async def serve_posts(
    handler: Callable[[web.Request], Awaitable[web.Response]],
) -> tuple[web.AppRunner, str]:
    """Serve `handler` for every POST on 127.0.0.1 (a free port); return the runner and URL."""
    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


class Recorder:
    """A loopback HTTP receiver that records every request and answers from a script."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.url = ""
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((request.path, dict(request.headers), body))
        self.arrived.set()
        status, headers = self.script.pop(0) if self.script else (200, {})
        return web.Response(status=status, headers=headers, text="ok" if status < 300 else "no")

    def json(self, index: int = -1) -> Any:
        return json.loads(self.requests[index][2])


HOOK_ALERTS = """
grouping: {group_wait: 0s, group_interval: 0s}
route: [hook]
receivers:
  - {name: hook, type: webhook, url: "${HOOK_URL}"}
rules:
"""
"""The head of an alerts.yaml whose one receiver posts at once to `${HOOK_URL}` (see
`alerting_monitor`): a test appends its rules."""


def alerting_monitor(config: MonitorConfig, rules_text: str, hook_url: str, data: Path) -> Monitor:
    """A Monitor with an Alerter whose `${HOOK_URL}` receivers post to `hook_url`; short
    evaluation periods so tests wait on checks, not on timers."""
    rules = parse_alert_rules(
        rules_text, env={"HOOK_URL": hook_url}, services=[s.name for s in config.services]
    )
    registry = CollectorRegistry()
    metrics = MonitorMetrics(registry, "test")
    alerter = Alerter(
        rules, data / "alerts.sqlite3", metrics, clock=utc_now, min_period=0.02, timer_period=1.0
    )
    return Monitor(config, metrics=metrics, alerter=alerter)
