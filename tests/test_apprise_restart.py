"""An apprise page and a SIGKILL of the daemon (issue 17): `monitor run` as a real process, an
apprise `json://` receiver on loopback, the outbox in SQLite between the two lives.

What the product guarantees (docs/alerting.md, "Delivery: the outbox"): a page the outbox saved
is never lost; killed before the receiver accepted it, it is delivered exactly once after the
restart; killed after the receiver accepted it but before the outbox marked it, it is sent once
more, with the same `Idempotency-Key`, so a receiver that keeps the keys it saw takes it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.simulator import Behavior, SimulatedFleet, fleet_config
from tests.alerting_fixtures import serve_posts
from tests.polling import until, until_value

TOKEN = "ap-7c1d9e40b2f58a36"
RULES = """
grouping: {group_wait: 0s, group_interval: 0s}
route: [ap]
receivers:
  - {name: ap, type: apprise, urls: ["${APPRISE_URL}"], timeout: 10s}
rules:
  - {name: ServiceDown, kind: status, status: [unhealthy], for: 3, severity: critical}
"""


@dataclass
class Endpoint:
    """The receiver's service: `down` answers 503; `hold` keeps the page and answers only when
    `release` is set (the daemon is killed first); otherwise it keeps the page and says 200."""

    url: str = ""
    down: bool = False
    hold: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)
    refused: int = 0
    pages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.down:
            self.refused += 1
            return web.Response(status=503)
        self.pages.append((request.headers.get("Idempotency-Key", ""), body))
        if self.hold:
            await self.release.wait()
        return web.Response(text="ok")


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    served = Endpoint()
    runner, base = await serve_posts(served.handle)
    served.url = base.replace("http://", "json://") + f"/page/{TOKEN}"
    yield served
    served.release.set()
    await runner.cleanup()


class Daemon:
    """`monitor run` with the fleet's config and RULES, restartable on the same data dir."""

    def __init__(self, fleet: SimulatedFleet, data: Path, endpoint: Endpoint) -> None:
        config = fleet_config(fleet, interval="300ms", timeout="250ms")
        config["defaults"]["recheck_interval"] = "100ms"
        # one service, down throughout: one alert, one outbox row (the seed's other unhealthy
        # services would page in batches of their own, as each is confirmed)
        config["services"] = [s for s in config["services"] if s["name"] == "queue"]
        config["services"][0].pop("depends_on", None)
        (data / "monitor.yaml").write_text(json.dumps(config))
        (data / "alerts.yaml").write_text(RULES)
        self.data = data
        self.env = {**os.environ, "APPRISE_URL": endpoint.url}
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "monitor", "run", "--data-dir", str(self.data)),
            *("--config", str(self.data / "monitor.yaml")),
            *("--alerts", str(self.data / "alerts.yaml")),
            *("--listen", "127.0.0.1:0"),  # read through the outbox file, never this port
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=self.env,
        )

    async def stop(self, sig: int) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), timeout=20)

    def rows(self) -> list[tuple[str, str, int]]:
        """The outbox as the file holds it: (dedup_key, state, attempts), oldest first."""
        path = self.data / "alerts.sqlite3"
        if not path.exists():
            return []
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            try:
                query = "SELECT dedup_key, state, attempts FROM outbox ORDER BY id"
                return list(db.execute(query).fetchall())
            except sqlite3.OperationalError:  # not created yet
                return []

    async def until_state(self, state: str) -> list[tuple[str, str, int]]:
        async def rows() -> list[tuple[str, str, int]] | None:
            found = self.rows()
            return found if found and all(row[1] == state for row in found) else None

        return await until_value(rows, timeout=30)


@pytest.fixture
async def daemon(
    fleet: SimulatedFleet, tmp_path: Path, endpoint: Endpoint
) -> AsyncIterator[Daemon]:
    fleet.set_behavior("queue", Behavior(status=503, body='{"status": "down"}'))
    running = Daemon(fleet, tmp_path, endpoint)
    yield running
    if running.proc is not None and running.proc.returncode is None:
        await running.stop(signal.SIGKILL)


async def test_a_page_saved_while_the_receiver_is_down_survives_sigkill_and_arrives_once(
    daemon: Daemon, endpoint: Endpoint
) -> None:
    endpoint.down = True
    await daemon.start()
    await until(lambda: endpoint.refused >= 1, timeout=30)  # saved, and its first send failed
    assert await daemon.stop(signal.SIGKILL) == -signal.SIGKILL
    ((key, state, _),) = daemon.rows()
    assert state == "pending"

    endpoint.down = False
    await daemon.start()
    await daemon.until_state("delivered")  # after this, a second send would be a new row
    assert await daemon.stop(signal.SIGTERM) == 0
    assert [row[0] for row in daemon.rows()] == [key], "the restart paged nothing new"
    ((sent_key, page),) = endpoint.pages
    assert sent_key == key and page["type"] == "failure" and "queue" in page["message"]


async def test_a_kill_after_the_receiver_took_the_page_resends_it_once_with_the_same_key(
    daemon: Daemon, endpoint: Endpoint
) -> None:
    endpoint.hold = True  # the receiver has the page; the daemon never hears back
    await daemon.start()
    await until(lambda: len(endpoint.pages) == 1, timeout=30)
    assert await daemon.stop(signal.SIGKILL) == -signal.SIGKILL
    ((key, state, _),) = daemon.rows()
    assert state == "pending", "the outbox did not see the answer: at-least-once re-sends"
    # apprise gives up reading after 4 s and the outbox retries: on a stalled machine the first
    # life may have sent it twice before the kill landed; the second life sends it once
    first_life = len(endpoint.pages)

    endpoint.hold = False
    endpoint.release.set()
    await daemon.start()
    await daemon.until_state("delivered")
    assert await daemon.stop(signal.SIGTERM) == 0
    assert len(endpoint.pages) == first_life + 1
    assert [row[0] for row in daemon.rows()] == [key], "the restart paged nothing new"
    assert {sent_key for sent_key, _ in endpoint.pages} == {key}, "a receiver dedupes to one"
    assert all(page == endpoint.pages[0][1] for _, page in endpoint.pages), "the same page"
