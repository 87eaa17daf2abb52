"""Head-of-line blocking in alert delivery (issue 21, item 4), measured on loopback.

Four services go down within 1.1 s; every alert is routed to two webhook receivers with the
default 10 s timeout. The first one routed hangs (takes the request, never answers); the
other answers at once. Printed: when each page reached the healthy receiver, in seconds after
the first alert was saved, and how long after its own save.

    python bench/delivery_hol.py            # --alerts 4 --spread 1.1 --timeout 10
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.alerting.outbox import Outbox, batches_for
from monitor.alerting.state import AlertEvent, AlertState, fingerprint
from monitor.receivers.webhook import WebhookConfig, WebhookReceiver
from tests.alerting_fixtures import serve_posts  # the loopback server the tests use


def down(service: str, at: datetime) -> AlertEvent:
    labels = {"alertname": "ServiceDown", "severity": "critical", "service": service}
    return AlertEvent(
        kind="firing",
        rule="ServiceDown",
        fingerprint=fingerprint(labels),
        labels=labels,
        annotations={"summary": f"{service} is down"},
        starts_at=at,
        at=at,
        receivers=["hung", "ok"],
    )


async def main(alerts: int, spread: float, timeout: float) -> None:
    release = asyncio.Event()
    arrived: list[float] = []

    async def hang(request: web.Request) -> web.Response:
        await request.read()
        await release.wait()
        return web.Response(text="late")

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        arrived.append(time.monotonic())
        return web.Response(text="ok")

    hung_runner, hung_url = await serve_posts(hang)
    ok_runner, ok_url = await serve_posts(answer)
    receivers = {
        name: WebhookReceiver(
            WebhookConfig.model_validate(
                {"type": "webhook", "name": name, "url": url, "timeout": timeout}
            )
        )
        for name, url in (("hung", hung_url), ("ok", ok_url))
    }
    with tempfile.TemporaryDirectory() as tmp:
        outbox = Outbox(Path(tmp) / "alerts.db", receivers)
        stop, wake = asyncio.Event(), asyncio.Event()
        async with aiohttp.ClientSession() as session:
            delivery = asyncio.create_task(outbox.run(session, stop, wake))
            saved: list[float] = []
            start = time.monotonic()
            for i in range(alerts):
                await asyncio.sleep(
                    max(0.0, start + i * spread / max(1, alerts - 1) - time.monotonic())
                )
                event = down(f"svc{i}", datetime.now(UTC))
                await asyncio.to_thread(outbox.save, AlertState(), batches_for([event]), event.at)
                saved.append(time.monotonic())
                wake.set()
            deadline = time.monotonic() + alerts * timeout * 1.5 + 5
            while len(arrived) < alerts and time.monotonic() < deadline:
                await asyncio.sleep(0.01)  # a benchmark's sampling, bounded by the deadline
            stop.set()
            release.set()
            delivery.cancel()
            await asyncio.gather(delivery, return_exceptions=True)
        outbox.close()
    await hung_runner.cleanup()
    await ok_runner.cleanup()
    import monitor

    print(f"monitor from {Path(monitor.__file__).parent.parent.name}")
    print(f"alerts={alerts} spread={spread}s receiver timeout={timeout}s, one receiver hanging")
    for i, (put, got) in enumerate(zip(saved, arrived, strict=False)):
        since = f"saved at {put - start:5.2f} s, +{got - put:.2f} s"
        print(f"page {i + 1}: at {got - start:6.2f} s ({since})")
    if len(arrived) < alerts:
        print(f"only {len(arrived)} of {alerts} pages arrived")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=4)
    parser.add_argument("--spread", type=float, default=1.1)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(main(args.alerts, args.spread, args.timeout))
