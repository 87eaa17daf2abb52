"""SIGTERM as an orchestrator sends it: `monitor run` with a check in flight and a page the
receiver has not yet accepted. README promises a grace for in-flight checks and a final flush;
the restart must show the same `since` and deliver the page once, not twice and not never."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.alerting_fixtures import HOOK_ALERTS, Recorder
from tests.polling import until, until_value
from tests.test_lifecycle import Daemon

HELD_S = 1.0
"""How long the held check's answer takes: well inside the 5 s grace, far longer than the
scheduler needs to notice the signal, so the check is surely in flight when SIGTERM lands."""

RULES = (
    HOOK_ALERTS
    + """\
  - {name: ServiceDown, kind: status, status: [unhealthy], for: 2, severity: critical}
"""
)


class Targets:
    """Two loopback services: `down` always answers 503; `slow` answers 200 until `hold` is
    set, then holds its next answer HELD_S seconds and answers 503."""

    def __init__(self) -> None:
        self.hold = False
        self.held = asyncio.Event()
        self.answered_held = 0
        self.url = ""

    async def down(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "down"}, status=503)

    async def slow(self, request: web.Request) -> web.Response:
        if not self.hold:
            return web.json_response({"status": "ok"})
        self.held.set()
        await asyncio.sleep(HELD_S)  # the injected service time, not a synchronisation
        self.answered_held += 1
        return web.json_response({"status": "down"}, status=503)


@pytest.fixture
async def targets() -> AsyncIterator[Targets]:
    served = Targets()
    app = web.Application()
    app.router.add_get("/down/health", served.down)
    app.router.add_get("/slow/health", served.slow)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    served.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield served
    finally:
        await runner.cleanup()


async def _service(daemon: Daemon, name: str) -> dict[str, Any] | None:
    code, body = await daemon.get("/status")
    if code != 200:
        return None
    return next((s for s in body["services"] if s["name"] == name), None)


async def _checks_done(daemon: Daemon, service: str) -> float:
    """`monitor_checks_total` summed over statuses for `service`, from /metrics."""
    _, text = await daemon.get("/metrics")
    label = f'service="{service}"'
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in str(text or "").splitlines()
        if line.startswith("monitor_checks_total{") and label in line
    )


def _stored(db: Path, check_id: str) -> tuple[str, int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        verdict, consecutive = conn.execute(
            "SELECT verdict, consecutive FROM check_state WHERE check_id = ?", (check_id,)
        ).fetchone()
    return json.loads(verdict)["status"], consecutive


async def test_sigterm_finishes_in_flight_checks_flushes_and_the_restart_pages_once(
    targets: Targets, recorder: Recorder, tmp_path: Path
) -> None:
    (tmp_path / "monitor.yaml").write_text(
        json.dumps(
            {
                "services": [
                    {
                        "name": "down",
                        "url": targets.url + "/down",
                        "interval": "300ms",
                        "timeout": "250ms",
                    },
                    {
                        "name": "slow",
                        "url": targets.url + "/slow",
                        "interval": "3s",
                        "timeout": "3s",
                    },
                ]
            }
        )
    )
    (tmp_path / "alerts.yaml").write_text(RULES)
    recorder.script = [(503, {"Retry-After": "3600"})]  # the page stays undelivered
    env = {"HOOK_URL": recorder.url + "/hook"}
    extra = ("--alerts", str(tmp_path / "alerts.yaml"))
    first = Daemon(tmp_path / "monitor.yaml", tmp_path, env, extra)
    second = Daemon(tmp_path / "monitor.yaml", tmp_path, env, extra)
    try:
        await first.start()
        await until(lambda: len(recorder.requests) == 1, timeout=20)
        page = json.loads(recorder.requests[0][2])["alerts"][0]
        await until_value(lambda: _status_is(first, "slow", "healthy"), timeout=20)
        before = await _service(first, "down")
        assert before is not None and before["status"] == "unhealthy"

        targets.hold = True
        await asyncio.wait_for(targets.held.wait(), timeout=10)
        assert await first.stop(signal.SIGTERM) == 0
        assert targets.answered_held == 1

        # the held check finished within the grace and the final flush wrote it ...
        assert _stored(tmp_path / "monitor.sqlite3", "slow/health/health") == ("unhealthy", 1)
        # ... and the page the receiver refused is still owed, not lost and not marked sent
        with contextlib.closing(sqlite3.connect(tmp_path / "alerts.sqlite3")) as db:
            rows = db.execute("SELECT state FROM outbox").fetchall()
            assert rows == [("pending",)]
            db.execute("UPDATE outbox SET next_attempt_at = 0 WHERE state = 'pending'")
            db.commit()

        targets.hold = False
        await second.start()
        after = await until_value(lambda: _service(second, "down"), timeout=20)
        assert after["since"] == before["since"], "since survives SIGTERM and restart"
        await until(lambda: len(recorder.requests) == 2, timeout=20)
        # a second page would come from the next evaluations: let `down` be checked five more
        # times (each one evaluated) before counting
        seen = await _checks_done(second, "down")
        await until_value(lambda: _at_least(second, "down", seen + 5), timeout=20)
        assert len(recorder.requests) == 2
        resent = json.loads(recorder.requests[1][2])["alerts"][0]
        assert resent["fingerprint"] == page["fingerprint"]
        assert resent["status"] == "firing"
        assert await second.stop(signal.SIGTERM) == 0
    finally:
        for daemon in (first, second):
            if daemon.proc is not None and daemon.proc.returncode is None:
                daemon.proc.kill()
                await daemon.proc.wait()


async def _status_is(daemon: Daemon, name: str, status: str) -> bool:
    found = await _service(daemon, name)
    return found is not None and found["status"] == status


async def _at_least(daemon: Daemon, service: str, count: float) -> bool:
    return await _checks_done(daemon, service) >= count
