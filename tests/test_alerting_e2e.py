"""End to end on loopback, the way the daemon wires it: probe -> evaluate -> outbox (SQLite)
-> webhook. Measures the time from a service failing to the page arriving and from recovery to
the resolve, with intervals scaled down (300 ms normal, 50 ms fast re-check)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from monitor.alerting.evaluate import evaluate
from monitor.alerting.outbox import Outbox, batches_for
from monitor.alerting.rules import parse_alert_rules
from monitor.alerting.state import AlertState, RuleInput, ServiceInput
from monitor.model import Status
from monitor.receivers import build_receivers
from tests.alerting_fixtures import Recorder
from tests.polling import until

INTERVAL, FAST = 0.3, 0.05
RULES = """
rules:
  - {name: ServiceDown, kind: status, for: 3, resolve_after: 2, route: [hook]}
receivers:
  - {name: hook, type: webhook, url: "${HOOK_URL}"}
"""


async def test_one_page_after_confirmation_and_one_resolve(
    tmp_path: Path, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    healthy = True

    async def health(_: web.Request) -> web.Response:
        return web.json_response(
            {"status": "ok" if healthy else "error"}, status=200 if healthy else 503
        )

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/health"

    config = parse_alert_rules(RULES, env={"HOOK_URL": recorder.url + "/hook"})
    outbox = Outbox(tmp_path / "alerts.db", build_receivers(config.receivers))
    stop, wake = asyncio.Event(), asyncio.Event()
    delivery = asyncio.create_task(outbox.run(session, stop, wake, idle=0.5))
    started = datetime.now(UTC)
    checks = 0
    seen: list[tuple[Status, tuple[str, ...]]] = []
    """Per completed check: the status it saw and the kinds of the events it saved."""

    async def checker() -> None:
        nonlocal checks
        state = AlertState()
        while not stop.is_set():
            async with session.get(url) as answer:
                status = Status.HEALTHY if answer.status == 200 else Status.UNHEALTHY
            now = datetime.now(UTC)
            checks += 1
            view = RuleInput({"svc": ServiceInput("svc", status, checked_at=now)}, started, now)
            state, events = evaluate(config, state, view, now)
            seen.append((status, tuple(e.kind for e in events)))
            if events:
                await asyncio.to_thread(outbox.save, state, batches_for(events), now)
                wake.set()
            await asyncio.sleep(FAST if state.recheck_soon else INTERVAL)  # the schedule

    loop_task = asyncio.create_task(checker())
    try:
        await until(lambda: checks >= 4)  # healthy checks that must not page
        assert recorder.requests == []
        healthy, failed_at = False, time.monotonic()
        await asyncio.wait_for(recorder.arrived.wait(), timeout=10)
        page_after = time.monotonic() - failed_at
        recorder.arrived.clear()
        healthy, recovered_at = True, time.monotonic()
        await asyncio.wait_for(recorder.arrived.wait(), timeout=10)
        resolve_after = time.monotonic() - recovered_at
        resolved_by = checks
        await until(lambda: checks >= resolved_by + 3)  # healthy checks that must say nothing
    finally:
        stop.set()
        await asyncio.gather(loop_task, delivery)
        outbox.close()
        await runner.cleanup()
    statuses = [json.loads(body)["status"] for _, _, body in recorder.requests]
    assert statuses == ["firing", "resolved"]
    # counted in checks, not seconds (a loaded CI stretches the seconds): the page is saved by
    # the third failing check in a row, the resolve by the second healthy one after it, and
    # no other check saves anything
    U, H = Status.UNHEALTHY, Status.HEALTHY
    kinds = [k for _, k in seen]
    fired, resolved = kinds.index(("firing",)), kinds.index(("resolved",))
    assert [s for s, _ in seen[fired - 3 : fired + 1]] == [H, U, U, U]
    assert [s for s, _ in seen[resolved - 2 : resolved + 1]] == [U, H, H]
    assert [k for k in kinds if k] == [("firing",), ("resolved",)]
    print(
        f"\npage after {page_after * 1000:.0f} ms, resolve after {resolve_after * 1000:.0f} ms,"
        f" {checks} checks"
    )
