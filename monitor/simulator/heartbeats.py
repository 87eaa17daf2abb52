"""The seed fleet's jobs that report in: do-schedule's cron trigger (every minute, a short
run between `/start` and its finish) and the queue consumer (a ping every 10 s while it
drains). The cron trigger stops after `CRON_STOPS_AFTER`, so `monitor demo` shows a heartbeat
turning `late` and its alert (do-schedule depends on nothing, so nothing holds its page back;
the queue's would wait while do-db fails). They ping the demo's daemon over real HTTP, as a
Worker's `fetch` would."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from croniter import croniter

CRON_STOPS_AFTER = 150.0
"""Seconds before the simulated cron trigger stops firing (and pinging)."""


@dataclass(frozen=True, slots=True)
class Heartbeat:
    service: str
    name: str
    grace: str
    schedule: str | None = None
    every: float | None = None
    run_s: float = 0.0
    """A run between `/start` and its finish; 0 pings success alone."""
    stops_after: float | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)

    def config(self) -> dict[str, object]:
        """This check's entry under its service's `push:`."""
        entry: dict[str, object] = {"name": self.name, "grace": self.grace, "token": self.token}
        if self.schedule is not None:
            entry["schedule"] = self.schedule
        else:
            entry["every"] = f"{self.every:g}s"
        return entry


def seed_heartbeats() -> list[Heartbeat]:
    return [
        Heartbeat(
            "do-schedule",
            "minutely-sync",
            grace="20s",
            schedule="* * * * *",
            run_s=2.0,
            stops_after=CRON_STOPS_AFTER,
        ),
        Heartbeat("queue", "consumer", grace="10s", every=10.0),
    ]


async def _beat(session: aiohttp.ClientSession, base: str, beat: Heartbeat) -> None:
    url = f"{base}/push/{beat.token}"
    loop = asyncio.get_running_loop()
    started = loop.time()
    runs = croniter(beat.schedule, datetime.now(UTC)) if beat.schedule else None
    while beat.stops_after is None or loop.time() - started < beat.stops_after:
        if runs is not None:
            due: datetime = runs.get_next(datetime)
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        if beat.run_s:
            await _ping(session, url + "/start")
            await asyncio.sleep(beat.run_s)
            await _ping(session, url + "/0", b"synced 120 rows")
        else:
            await _ping(session, url)
        if runs is None and beat.every is not None:
            await asyncio.sleep(beat.every)


async def _ping(session: aiohttp.ClientSession, url: str, body: bytes = b"") -> None:
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        async with session.post(url, data=body, timeout=aiohttp.ClientTimeout(total=5)) as r:
            await r.read()


async def run_heartbeats(base: str, beats: list[Heartbeat]) -> None:
    """Ping `base` (the daemon's URL) on each heartbeat's schedule until cancelled."""
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(_beat(session, base, beat) for beat in beats))
