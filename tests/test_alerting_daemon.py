"""Alerting through the whole daemon: the simulated fleet, the scheduler, evaluate, the SQLite
outbox, and a real loopback webhook receiver. Intervals scaled down: 300 ms, re-check 100 ms."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from monitor.config import parse_config
from monitor.runtime.daemon import Monitor
from monitor.simulator import Behavior, SimulatedFleet, fleet_config
from tests.alerting_fixtures import HOOK_ALERTS, Recorder, alerting_monitor
from tests.polling import until

RULES = (
    HOOK_ALERTS
    + """\
  - {name: ServiceDown, kind: status, status: [unhealthy], for: 3, resolve_after: 2,
     severity: critical}
  - {name: ServiceFlapping, kind: flapping, changes: 4, window: 10m}
"""
)

DOWN = Behavior(status=503, body='{"status": "down"}')
UP = Behavior(body='{"status": "ok"}')


def config_text(fleet: SimulatedFleet, **kw: Any) -> str:
    data: dict[str, Any] = fleet_config(fleet, interval="300ms", timeout="250ms")
    data["defaults"]["recheck_interval"] = "100ms"
    data.update(kw)
    return json.dumps(data)


def alerts(recorder: Recorder) -> list[dict[str, Any]]:
    """Every alert of every webhook payload received, in order."""
    return [a for _, _, body in recorder.requests for a in json.loads(body)["alerts"]]


def of(recorder: Recorder, name: str, service: str, status: str | None = None) -> list[Any]:
    return [
        a
        for a in alerts(recorder)
        if a["labels"]["alertname"] == name
        and a["labels"].get("service") == service
        and (status is None or a["status"] == status)
    ]


async def settle(daemon: Monitor, service: str, checks: int = 3) -> None:
    """Let `checks` more checks of `service` complete, evaluate, and drain the outbox: after
    this, a duplicate or a wrong page would have been sent."""
    labels = {"service": service, "check": "health", "kind": "health"}

    def done() -> float:
        return daemon.registry.get_sample_value("monitor_checks_total", labels) or 0

    target = done() + checks
    await until(lambda: done() >= target)
    assert daemon.alerter is not None
    await daemon.alerter.evaluate_now()
    await until(lambda: daemon.alerter is not None and daemon.alerter.outbox.depth() == 0)


@pytest.fixture
async def healthy_seed(fleet: SimulatedFleet) -> SimulatedFleet:
    for name in fleet.names:
        fleet.set_behavior(name, UP)
    return fleet


@pytest.fixture
async def daemon(
    healthy_seed: SimulatedFleet, recorder: Recorder, tmp_path: Path
) -> AsyncIterator[Monitor]:
    config = parse_config(config_text(healthy_seed))
    monitor = alerting_monitor(config, RULES, recorder.url + "/hook", tmp_path)
    await monitor.start()
    try:
        yield monitor
    finally:
        await monitor.stop()


async def test_one_page_when_confirmed_and_one_resolve(
    daemon: Monitor, healthy_seed: SimulatedFleet, recorder: Recorder
) -> None:
    await until(lambda: daemon.tracked["queue/health/health"].state is not None)
    healthy_seed.set_behavior("queue", DOWN)
    to_page = await until(lambda: len(of(recorder, "ServiceDown", "queue", "firing")) >= 1)
    healthy_seed.set_behavior("queue", UP)
    to_resolve = await until(lambda: len(of(recorder, "ServiceDown", "queue", "resolved")) >= 1)
    await settle(daemon, "queue")
    firing = of(recorder, "ServiceDown", "queue", "firing")
    resolved = of(recorder, "ServiceDown", "queue", "resolved")
    assert len(firing) == 1 and len(resolved) == 1
    assert firing[0]["fingerprint"] == resolved[0]["fingerprint"]
    assert firing[0]["labels"]["severity"] == "critical"
    # for: 3 with a 100 ms re-check: the page needs at most one interval plus two re-checks
    assert to_page < 0.3 + 2 * 0.1 + 0.6, to_page
    assert to_resolve < 2 * 0.3 + 0.6, to_resolve
    print(f"\nfail->page {to_page * 1000:.0f} ms, recover->resolve {to_resolve * 1000:.0f} ms")


async def test_a_blip_does_not_page(
    daemon: Monitor, healthy_seed: SimulatedFleet, recorder: Recorder
) -> None:
    await until(lambda: daemon.tracked["queue/health/health"].state is not None)
    labels = {"service": "queue", "check": "health", "kind": "health"}
    healthy_seed.set_behavior("queue", DOWN)
    await until(
        lambda: (daemon.registry.get_sample_value("monitor_checks_failed_total", labels) or 0) >= 1
    )
    healthy_seed.set_behavior("queue", UP)
    await until(
        lambda: daemon.tracked["queue/health/health"].state.verdict.status.value == "healthy"
    )
    await settle(daemon, "queue")
    assert of(recorder, "ServiceDown", "queue") == []


async def test_flapping_is_one_alert_not_a_page_per_flip(
    daemon: Monitor, healthy_seed: SimulatedFleet, recorder: Recorder
) -> None:
    await until(lambda: daemon.tracked["webhooks/health/health"].state is not None)
    state = lambda: daemon.tracked["webhooks/health/health"].state.verdict.status.value  # noqa: E731
    for _ in range(3):
        healthy_seed.set_behavior("webhooks", DOWN)
        await until(lambda: state() == "unhealthy")
        healthy_seed.set_behavior("webhooks", UP)
        await until(lambda: state() == "healthy")
    await until(lambda: len(of(recorder, "ServiceFlapping", "webhooks", "firing")) == 1)
    assert len(of(recorder, "ServiceFlapping", "webhooks", "firing")) == 1
    assert of(recorder, "ServiceDown", "webhooks", "firing") == []


async def test_dependency_down_inhibits_dependents_and_names_them(
    daemon: Monitor, healthy_seed: SimulatedFleet, recorder: Recorder
) -> None:
    await until(lambda: all(t.state is not None for t in daemon.tracked.values()))
    for name in ("do-db", "auth"):
        healthy_seed.set_behavior(name, DOWN)
    await until(lambda: len(of(recorder, "ServiceDown", "do-db", "firing")) == 1)
    await until(lambda: daemon.tracked["auth/health/health"].state.consecutive >= 5)
    assert of(recorder, "ServiceDown", "auth", "firing") == [], "auth's page is held back"
    db = of(recorder, "ServiceDown", "do-db", "firing")[0]
    assert "auth" in json.dumps(db["annotations"]), db["annotations"]


async def test_receiver_503_three_times_then_200_is_delivered_once(
    daemon: Monitor, healthy_seed: SimulatedFleet, recorder: Recorder
) -> None:
    recorder.script = [(503, {}), (503, {}), (503, {"Retry-After": "0"})]
    await until(lambda: daemon.tracked["queue/health/health"].state is not None)
    healthy_seed.set_behavior("queue", DOWN)
    await until(lambda: len(recorder.requests) >= 4, timeout=30)
    await settle(daemon, "queue")
    bodies = [json.loads(b) for _, _, b in recorder.requests]
    assert len(bodies) == 4 and all(b == bodies[0] for b in bodies), "retries resend the same"
    assert recorder.script == []
    get = daemon.registry.get_sample_value
    assert get("monitor_alert_notifications_total", {"receiver": "hook", "outcome": "sent"}) == 1
    assert get("monitor_alert_notifications_total", {"receiver": "hook", "outcome": "retried"}) == 3


async def test_sigkill_with_an_undelivered_page_delivers_it_once_after_restart(
    healthy_seed: SimulatedFleet, recorder: Recorder, tmp_path: Path
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(config_text(healthy_seed))
    rules = tmp_path / "alerts.yaml"
    rules.write_text(RULES)
    recorder.script = [(503, {"Retry-After": "3600"})]  # first attempt fails, retry far away
    env = {**os.environ, "HOOK_URL": recorder.url + "/hook"}

    async def start() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "monitor",
            "run",
            "--config",
            str(config),
            "--alerts",
            str(rules),
            "--data-dir",
            str(tmp_path),
            "--listen",
            "127.0.0.1:0",  # the test reads the outbox and the recorder, never this port
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )

    healthy_seed.set_behavior("queue", DOWN)
    first = await start()
    try:
        await until(lambda: len(recorder.requests) == 1, timeout=20)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    first_key = json.loads(recorder.requests[0][2])["alerts"][0]["fingerprint"]
    # the row is still pending with its retry an hour away; a restart must not lose it or
    # send a second, new page: it re-sends the same one once it is due again
    with sqlite3.connect(tmp_path / "alerts.sqlite3") as db:
        db.execute("UPDATE outbox SET next_attempt_at = 0 WHERE state = 'pending'")
    second = await start()
    try:
        await until(lambda: len(recorder.requests) == 2, timeout=20)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), timeout=15)
    # SIGTERM flushed the outbox: one page row, nothing pending, so no duplicate was sent
    # or is waiting to be (rather than a guessed second in which one would show up)
    with sqlite3.connect(tmp_path / "alerts.sqlite3") as db:
        rows = db.execute("SELECT state FROM outbox").fetchall()
    assert len(rows) == 1 and rows[0][0] != "pending", rows
    assert len(recorder.requests) == 2
    keys = [json.loads(b)["alerts"][0]["fingerprint"] for _, _, b in recorder.requests]
    assert keys == [first_key, first_key]
    assert all(json.loads(b)["status"] == "firing" for _, _, b in recorder.requests)
