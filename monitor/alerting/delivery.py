"""Sending the outbox: one lane per receiver, bounded concurrency, backoff with full jitter.

Alertmanager notifies each receiver independently; so does this. A receiver that hangs holds
only its own sends (its first slot, plus what it borrowed from a shared pool), so the other
receivers' pages go out while it times out. Order is kept where it matters: one alert's rows
for one receiver (its `order_key`) go one at a time, oldest first, a resolve never before its
firing, even across retries. The outbox's SQLite calls run in a thread (an fsync is not loop
lag), serialized by its lock.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
from pydantic import ValidationError

from monitor.alerting.send_queue import SendQueue
from monitor.alerting.state import Batch
from monitor.receivers import DeliveryResult, Outcome

PASS_LIMIT = 50
"""Rows one receiver's pass takes from the outbox; the rest come in the next pass."""

BASE_DELAY = 1.0
MAX_DELAY = 300.0
MAX_RETRY_AFTER = 3600.0


def next_attempt(
    attempt: int,
    now: datetime,
    retry_after: float | None,
    rng: random.Random,
    base: float = BASE_DELAY,
    cap: float = MAX_DELAY,
) -> datetime:
    """When to try again after failed attempt number `attempt` (1-based). Pure.

    Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**attempt)]. A
    Retry-After from the server is a floor, itself capped at an hour so a hostile header
    cannot park a page forever.
    """
    ceiling = min(cap, base * 2 ** min(attempt, 32))
    delay = rng.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return now + timedelta(seconds=delay)


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """What one `deliver_due` pass did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0


async def deliver_due(
    outbox: SendQueue, session: aiohttp.ClientSession, now: datetime | None, limit: int
) -> DeliveryStats:
    """One pass: every receiver sends its due rows on its own task; wait for all of them.

    `now` (a simulated clock, for tests) is also the time outcomes are recorded at.
    """
    moment = now or datetime.now(UTC)
    await asyncio.to_thread(outbox.bury_unknown, moment)
    counts: Counter[str] = Counter()
    async with asyncio.TaskGroup() as group:
        for name in outbox.receivers:
            group.create_task(_deliver_receiver(outbox, session, name, moment, now, limit, counts))
    return DeliveryStats(counts["sent"], counts["retried"], counts["dead"])


async def run(
    outbox: SendQueue,
    session: aiohttp.ClientSession,
    stop: asyncio.Event,
    wake: asyncio.Event,
    idle: float,
) -> None:
    """Deliver until `stop` is set: a lane per receiver; `wake` cuts every lane's sleep short.

    On stop, lanes start no new send. One in flight ends with the receiver's timeout or when
    the caller cancels this task (the daemon's stop grace); its row stays pending and is sent
    again after a restart (at-least-once).
    """
    kicks = {name: asyncio.Event() for name in outbox.receivers}
    async with asyncio.TaskGroup() as group:
        for name, kick in kicks.items():
            lane = _lane(outbox, session, name, stop, kick, idle)
            group.create_task(lane, name=f"outbox:{name}")
        while not stop.is_set():
            await asyncio.to_thread(outbox.bury_unknown, datetime.now(UTC))
            await _either(stop, wake, idle)
            wake.clear()
            for kick in kicks.values():
                kick.set()


async def _lane(
    outbox: SendQueue,
    session: aiohttp.ClientSession,
    name: str,
    stop: asyncio.Event,
    kick: asyncio.Event,
    idle: float,
) -> None:
    """One receiver's loop: send what is due, then sleep until its next row is due."""
    counts: Counter[str] = Counter()
    while not stop.is_set():
        kick.clear()
        try:
            now = datetime.now(UTC)
            await _deliver_receiver(outbox, session, name, now, None, PASS_LIMIT, counts, stop)
            due = await asyncio.to_thread(outbox.next_due, name)
        except Exception as exc:  # e.g. a full disk: log it, keep the lane alive
            outbox.log.error("outbox.delivery_failed", receiver=name, error=repr(exc)[:300])
            due = None
        delay = idle if due is None else (due - datetime.now(UTC)).total_seconds()
        await _either(stop, kick, min(max(delay, 0.01), idle))


async def _deliver_receiver(
    outbox: SendQueue,
    session: aiohttp.ClientSession,
    name: str,
    moment: datetime,
    clock: datetime | None,
    limit: int,
    counts: Counter[str],
    stop: asyncio.Event | None = None,
) -> None:
    """Send one receiver's due rows, up to `receiver_in_flight` at once (each the oldest
    pending row of another alert). The first sender is the receiver's own slot; the others
    borrow from the shared pool, so receivers that hang never hold another one's turn."""
    queue = deque(await asyncio.to_thread(outbox.due, name, moment, limit))

    def more() -> bool:
        return bool(queue) and not (stop is not None and stop.is_set())

    async def sender(borrow: bool) -> None:
        while more():
            if not borrow:
                counts[await _send_row(outbox, session, name, queue.popleft(), clock)] += 1
                continue
            async with outbox.shared_slots:
                if not more():
                    return
                counts[await _send_row(outbox, session, name, queue.popleft(), clock)] += 1

    async with asyncio.TaskGroup() as group:
        for i in range(min(outbox.receiver_in_flight, len(queue))):
            group.create_task(sender(borrow=i > 0))


async def _send_row(
    outbox: SendQueue,
    session: aiohttp.ClientSession,
    name: str,
    row: tuple[int, str, int],
    clock: datetime | None,
) -> str:
    """Send one row and record its outcome: "sent", "retried" or "dead"."""
    row_id, payload, attempts = row
    try:
        batch = Batch.model_validate_json(payload)
    except ValidationError:  # a row this version cannot read must not block the lane
        await asyncio.to_thread(
            outbox.finish, row_id, "dead", clock or datetime.now(UTC), None, "unreadable", attempts
        )
        outbox.gave_up(name, None, "unreadable payload")
        return "dead"
    try:
        result = await outbox.receivers[name].send(session, batch)
    except Exception as exc:  # a receiver's bug must not stop the others' delivery
        result = DeliveryResult(Outcome.RETRY, None, None, type(exc).__name__)
    attempts += 1
    finished = datetime.now(UTC) if clock is None else clock
    if result.outcome is Outcome.DELIVERED:
        outcome, state, at = "sent", "delivered", None
    elif result.outcome is Outcome.RETRY and attempts < outbox.max_attempts:
        outcome, state = "retried", "pending"
        at = next_attempt(attempts, finished, result.retry_after, outbox.rng)
    else:
        outcome, state, at = "dead", "dead", None
    detail = "" if state == "delivered" else result.detail
    await asyncio.to_thread(
        outbox.finish, row_id, state, finished, result.status, detail, attempts, at
    )
    if outcome == "dead":
        outbox.gave_up(name, batch, result.detail, result.status, attempts)
    else:
        outbox.on_result(name, outcome)
    return outcome


async def _either(first: asyncio.Event, second: asyncio.Event, timeout: float) -> None:
    """Wait until either event is set or `timeout` seconds pass."""
    waiters = {asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())}
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()
