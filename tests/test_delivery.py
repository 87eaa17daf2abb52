"""Delivery lanes: one receiver that hangs must not hold the others' pages (issue 21, item 4),
the in-flight bounds, order within one alert across retries, and stop with a send hanging.

Every receiver is a real loopback server; a hanging one accepts the request and answers only
when the test ends."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from monitor.alerting.outbox import Outbox, batches_for
from monitor.alerting.state import AlertState
from monitor.receivers import Receiver
from monitor.receivers.webhook import WebhookConfig, WebhookReceiver
from tests.alerting_fixtures import T0, Recorder, event, serve_posts
from tests.polling import until


class Hanging:
    """A loopback receiver that takes requests and never answers until `release()`."""

    def __init__(self) -> None:
        self.url = ""
        self.received = 0
        self.open = 0
        self.most_open = 0
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.received += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            await self._release.wait()
        finally:
            self.open -= 1
        return web.Response(text="late")

    async def __aenter__(self) -> Hanging:
        self._runner, self.url = await serve_posts(self.handle)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._release.set()
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def hanging() -> AsyncIterator[Hanging]:
    async with Hanging() as server:
        yield server


def hooks(urls: dict[str, str], timeout: str = "60s") -> dict[str, Receiver]:
    """Webhook receivers by name; the long timeout means only the test's end frees a hang."""
    return {
        name: WebhookReceiver(
            WebhookConfig.model_validate(
                {"type": "webhook", "name": name, "url": url + "/" + name, "timeout": timeout}
            )
        )
        for name, url in urls.items()
    }


def services(recorder: Recorder) -> list[str]:
    return [json.loads(body)["alerts"][0]["labels"]["service"] for _, _, body in recorder.requests]


async def test_a_hanging_receiver_does_not_delay_the_others(
    tmp_path: Path,
    hanging: Hanging,
    recorder: Recorder,
    recorder2: Recorder,
    session: aiohttp.ClientSession,
) -> None:
    """Four services go down one after another; the receiver routed first hangs on its first
    page. Both healthy receivers get all four pages, in order, while that one is still held."""
    receivers = hooks({"hung": hanging.url, "ok": recorder.url, "ok2": recorder2.url})
    outbox = Outbox(tmp_path / "a.db", receivers)
    stop, wake = asyncio.Event(), asyncio.Event()
    delivery = asyncio.create_task(outbox.run(session, stop, wake, idle=0.5))
    names = [f"svc{i}" for i in range(4)]
    try:
        for i, name in enumerate(names):
            down = event(service_name=name, receivers=("hung", "ok", "ok2"), minute=i)
            await asyncio.to_thread(outbox.save, AlertState(), batches_for([down]), T0)
            wake.set()
            if i == 0:
                await until(lambda: hanging.received == 1)
        await until(lambda: len(recorder.requests) == 4 and len(recorder2.requests) == 4)
        assert (hanging.received, hanging.open) == (1, 1)  # still holding its first page
        assert services(recorder) == services(recorder2) == names
        assert outbox.counts() == {"pending": 4, "delivered": 8}
    finally:
        stop.set()
        delivery.cancel()
        await asyncio.gather(delivery, return_exceptions=True)
        outbox.close()


async def test_hanging_receivers_hold_only_their_own_slots(
    tmp_path: Path,
    recorder: Recorder,
    session: aiohttp.ClientSession,
) -> None:
    """Two receivers hang with five alerts each. Each may hold its own slot plus what it can
    borrow from the shared pool (here 1), never more: the healthy one still gets everything."""
    async with Hanging() as first, Hanging() as second:
        receivers = hooks({"h1": first.url, "h2": second.url, "ok": recorder.url})
        outbox = Outbox(tmp_path / "a.db", receivers, receiver_in_flight=3, shared_in_flight=1)
        down = [event(service_name=f"svc{i}", receivers=("h1", "h2", "ok")) for i in range(5)]
        outbox.save(AlertState(), batches_for(down), T0)
        passing = asyncio.create_task(outbox.deliver_due(session, now=T0))
        try:
            await until(lambda: len(recorder.requests) == 5)
            await until(lambda: first.open + second.open == 3)
            assert sorted([first.open, second.open]) == [1, 2]  # own slots + the one shared
            assert not passing.done()
        finally:
            passing.cancel()
            await asyncio.gather(passing, return_exceptions=True)
            outbox.close()
        assert first.most_open + second.most_open == 3


async def test_one_receiver_sends_other_alerts_concurrently_up_to_its_bound(
    tmp_path: Path, hanging: Hanging, session: aiohttp.ClientSession
) -> None:
    outbox = Outbox(tmp_path / "a.db", hooks({"hung": hanging.url}), receiver_in_flight=3)
    down = [event(service_name=f"svc{i}", receivers=("hung",)) for i in range(6)]
    outbox.save(AlertState(), batches_for(down), T0)
    passing = asyncio.create_task(outbox.deliver_due(session, now=T0))
    try:
        await until(lambda: hanging.open == 3)
        assert hanging.received == 3
    finally:
        passing.cancel()
        await asyncio.gather(passing, return_exceptions=True)
        outbox.close()


class FlakyFirst:
    """Answers 503 to the first request about `service`, 200 to everything else; records the
    (service, status) sequence of what arrived."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.seen: list[tuple[str, str]] = []
        self.failed = False

    async def handle(self, request: web.Request) -> web.Response:
        alert = json.loads(await request.read())["alerts"][0]
        self.seen.append((alert["labels"]["service"], alert["status"]))
        if alert["labels"]["service"] == self.service and not self.failed:
            self.failed = True
            return web.Response(status=503)
        return web.Response(text="ok")


async def test_a_retried_firing_is_never_overtaken_by_its_resolve(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """Sends of other alerts run concurrently, but one alert's rows stay in order: its firing
    fails once, is retried, and only then does its resolve go out."""
    flaky = FlakyFirst("a")
    runner, url = await serve_posts(flaky.handle)
    outbox = Outbox(tmp_path / "a.db", hooks({"hook": url}), rng=random.Random(3))
    try:
        firing = [event("firing", name, receivers=("hook",)) for name in ("a", "b")]
        outbox.save(AlertState(), batches_for(firing), T0)
        resolved = event("resolved", "a", receivers=("hook",))
        outbox.save(AlertState(), batches_for([resolved]), T0)
        for _ in range(10):
            due = outbox.next_due()
            if due is None:
                break
            await outbox.deliver_due(session, now=due)
        assert outbox.counts() == {"delivered": 3}
        mine = [status for service, status in flaky.seen if service == "a"]
        assert mine == ["firing", "firing", "resolved"]
    finally:
        outbox.close()
        await runner.cleanup()


async def test_stop_with_a_send_hanging_is_cancelled_and_the_row_kept(
    tmp_path: Path, hanging: Hanging, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    """The daemon's stop sets `stop`, waits its grace, then cancels `run`: the cancel must reach
    the hanging send, and its row stays pending for the next start (at-least-once)."""
    outbox = Outbox(tmp_path / "a.db", hooks({"hung": hanging.url, "ok": recorder.url}))
    stop = asyncio.Event()
    outbox.save(AlertState(), batches_for([event(receivers=("hung", "ok"))]), T0)
    delivery = asyncio.create_task(outbox.run(session, stop, idle=0.5))
    await until(lambda: hanging.open == 1 and len(recorder.requests) == 1)
    stop.set()
    await asyncio.sleep(0)  # one turn: `run` sees `stop`, and must still wait on the hung send
    assert not delivery.done()  # the hanging send is still in flight
    delivery.cancel()
    done, _ = await asyncio.wait({delivery}, timeout=10)
    assert done == {delivery}
    assert outbox.counts() == {"pending": 1, "delivered": 1}
    outbox.close()


async def test_rows_for_a_receiver_no_longer_configured_are_dead(
    tmp_path: Path, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    results: list[tuple[str, str]] = []
    outbox = Outbox(
        tmp_path / "a.db",
        hooks({"ok": recorder.url}),
        on_result=lambda r, o: results.append((r, o)),
    )
    outbox.save(AlertState(), batches_for([event(receivers=("gone", "ok"))]), T0)
    stop = asyncio.Event()
    delivery = asyncio.create_task(outbox.run(session, stop, idle=0.5))
    try:
        await until(lambda: outbox.counts() == {"dead": 1, "delivered": 1})
    finally:
        stop.set()
        await asyncio.wait_for(delivery, timeout=10)
        outbox.close()
    assert sorted(results) == [("gone", "dead"), ("ok", "sent")]
