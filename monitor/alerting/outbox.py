"""Durable delivery: an outbox and the alert state in one SQLite file (WAL).

`save(state, batches)` writes the new alert state and the notifications it decided in ONE
transaction, so after a crash either both exist or neither: a restart neither re-pages a
firing alert nor forgets a resolve. `deliver_due()` sends due rows in order per receiver and
alert, retries network errors / 429 / 5xx with exponential backoff and full jitter (honouring
Retry-After) and gives up after `max_attempts` (row marked dead, counted, logged).

Delivery is at-least-once: a SIGKILL between a 2xx and the row update re-sends the row once on
restart, with the same dedup key (PagerDuty / Alertmanager de-duplicate on it).

Metrics stay with the caller: pass `on_result(receiver, outcome)` (outcome: "sent",
"retried", "dead") and read `depth()` from a gauge callback.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import structlog

from monitor.alerting.state import (
    AlertEvent,
    AlertRecord,
    AlertState,
    Batch,
    ServiceHistory,
    Silence,
)
from monitor.receivers import Outcome, Receiver
from monitor.receivers._base import DETAIL_CHARS
from monitor.secrets_scrub import NO_SECRETS, Scrubber

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    receiver TEXT NOT NULL,
    dedup_key TEXT NOT NULL UNIQUE,
    order_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    last_status INTEGER,
    last_error TEXT,
    done_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_order ON outbox (order_key, state, id);
CREATE TABLE IF NOT EXISTS alerts (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (service TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

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


def batches_for(events: Iterable[AlertEvent], external_url: str = "") -> list[Batch]:
    """One batch per (receiver, event): the simplest grouping, ordered like the events."""
    return [
        Batch(receiver=r, events=(e,), external_url=external_url)
        for e in events
        for r in e.receivers
    ]


def _ts(moment: datetime) -> float:
    return moment.timestamp()


class Outbox:
    """The SQLite file. Blocking calls are short; the async wrappers run them in a thread."""

    def __init__(
        self,
        path: str | Path,
        receivers: Mapping[str, Receiver],
        *,
        max_attempts: int = 12,
        rng: random.Random | None = None,
        on_result: Callable[[str, str], None] | None = None,
        scrubber: Scrubber = NO_SECRETS,
    ) -> None:
        self.path = str(path)
        self.scrubber = scrubber
        """Applied to payloads, state rows and errors before they are written: a receiver's
        answer may quote its URL or key, a payload the evidence of a service."""
        self.receivers = dict(receivers)
        self.max_attempts = max_attempts
        self._rng = rng or random.Random()
        self._on_result = on_result or (lambda receiver, outcome: None)
        self._lock = threading.Lock()
        self._log = structlog.get_logger("monitor.outbox")
        self._saved: dict[tuple[str, str], str] = {}
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ state + enqueue

    def load_state(self) -> AlertState:
        """The alert state as last saved (empty on a new file)."""
        with self._lock:
            alerts = self._db.execute("SELECT key, value FROM alerts").fetchall()
            history = self._db.execute("SELECT service, value FROM history").fetchall()
        state = AlertState(
            alerts={k: AlertRecord.model_validate_json(v) for k, v in alerts},
            services={k: ServiceHistory.model_validate_json(v) for k, v in history},
        )
        self._saved = {("alerts", k): v for k, v in alerts}
        self._saved.update({("history", k): v for k, v in history})
        return state

    def save(self, state: AlertState, batches: Iterable[Batch], now: datetime) -> int:
        """Persist `state` and enqueue `batches` atomically; return how many rows were new."""
        scrub = self.scrubber.scrub
        rows: dict[tuple[str, str], str] = {
            ("alerts", k): scrub(r.model_dump_json()) for k, r in state.alerts.items()
        }
        rows.update({("history", k): scrub(h.model_dump_json()) for k, h in state.services.items()})
        added = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for (table, key), value in rows.items():
                    if self._saved.get((table, key)) != value:
                        column = "key" if table == "alerts" else "service"
                        self._db.execute(
                            f"INSERT OR REPLACE INTO {table} ({column}, value) VALUES (?, ?)",
                            (key, value),
                        )
                for table, key in set(self._saved) - set(rows):
                    column = "key" if table == "alerts" else "service"
                    self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (key,))
                for batch in batches:
                    order_key = (
                        batch.receiver + "|" + ",".join(sorted(e.fingerprint for e in batch.events))
                    )
                    cursor = self._db.execute(
                        "INSERT OR IGNORE INTO outbox (receiver, dedup_key, order_key, payload,"
                        " created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            batch.receiver,
                            batch.dedup_key,
                            order_key,
                            scrub(batch.model_dump_json()),
                            _ts(now),
                            _ts(now),
                        ),
                    )
                    added += cursor.rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        self._saved = rows
        return added

    async def asave(self, state: AlertState, batches: Iterable[Batch], now: datetime) -> int:
        """`save` off the event loop (an fsync must not show up as loop lag)."""
        return await asyncio.to_thread(self.save, state, list(batches), now)

    def save_silences(self, silences: Iterable[Silence]) -> None:
        """Replace the stored run-time silences (the API's `SilenceSet.all()`)."""
        rows = [(s.id, s.model_dump_json()) for s in silences]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM silences")
            self._db.executemany("INSERT INTO silences (id, value) VALUES (?, ?)", rows)
            self._db.execute("COMMIT")

    def load_silences(self) -> list[Silence]:
        with self._lock:
            rows = self._db.execute("SELECT value FROM silences ORDER BY id").fetchall()
        return [Silence.model_validate_json(value) for (value,) in rows]

    # ------------------------------------------------------------------ delivery

    def _due(self, now: datetime, limit: int) -> list[tuple[int, str, str, int]]:
        with self._lock:
            return self._db.execute(
                "SELECT id, receiver, payload, attempts FROM outbox o WHERE state = 'pending'"
                " AND next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM outbox p WHERE"
                " p.order_key = o.order_key AND p.state = 'pending' AND p.id < o.id)"
                " ORDER BY id LIMIT ?",
                (_ts(now), limit),
            ).fetchall()

    def _finish(
        self,
        row_id: int,
        state: str,
        now: datetime,
        status: int | None,
        error: str,
        attempts: int,
        next_at: datetime | None = None,
    ) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state = ?, attempts = ?, last_status = ?, last_error = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at), done_at = ? WHERE id = ?",
                (
                    state,
                    attempts,
                    status,
                    self.scrubber.scrub(error, cut=len(error) >= DETAIL_CHARS)[:500],
                    None if next_at is None else _ts(next_at),
                    None if state == "pending" else _ts(now),
                    row_id,
                ),
            )

    async def deliver_due(
        self, session: aiohttp.ClientSession, now: datetime | None = None, limit: int = 50
    ) -> DeliveryStats:
        """Send every due row once; update each row with the outcome."""
        moment = now or datetime.now(UTC)
        sent = retried = dead = 0
        for row_id, receiver_name, payload, attempts in self._due(moment, limit):
            receiver = self.receivers.get(receiver_name)
            batch = Batch.model_validate_json(payload)
            if receiver is None:
                self._finish(row_id, "dead", moment, None, "unknown receiver", attempts)
                dead += 1
                self._gave_up(receiver_name, batch, "unknown receiver")
                continue
            result = await receiver.send(session, batch)
            attempts += 1
            finished = datetime.now(UTC) if now is None else moment
            if result.outcome is Outcome.DELIVERED:
                self._finish(row_id, "delivered", finished, result.status, "", attempts)
                sent += 1
                self._on_result(receiver_name, "sent")
            elif result.outcome is Outcome.RETRY and attempts < self.max_attempts:
                at = next_attempt(attempts, finished, result.retry_after, self._rng)
                self._finish(
                    row_id, "pending", finished, result.status, result.detail, attempts, at
                )
                retried += 1
                self._on_result(receiver_name, "retried")
            else:
                self._finish(row_id, "dead", finished, result.status, result.detail, attempts)
                dead += 1
                self._gave_up(receiver_name, batch, result.detail, result.status, attempts)
        return DeliveryStats(sent, retried, dead)

    def _gave_up(
        self, receiver: str, batch: Batch, detail: str, status: int | None = None, attempts: int = 0
    ) -> None:
        self._on_result(receiver, "dead")
        self._log.error(
            "alert_notification_dead",
            receiver=receiver,
            status=status,
            attempts=attempts,
            detail=detail,
            alerts=[f"{e.rule}/{e.fingerprint}:{e.kind}" for e in batch.events],
        )

    def next_due(self) -> datetime | None:
        """When the earliest sendable row is due (rows waiting behind an older row of the
        same alert and receiver do not count), to sleep exactly that long."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_attempt_at) FROM outbox o WHERE state = 'pending' AND NOT EXISTS"
                " (SELECT 1 FROM outbox p WHERE p.order_key = o.order_key AND p.state = 'pending'"
                " AND p.id < o.id)"
            ).fetchone()
        return None if row[0] is None else datetime.fromtimestamp(row[0], UTC)

    async def run(
        self,
        session: aiohttp.ClientSession,
        stop: asyncio.Event,
        wake: asyncio.Event | None = None,
        idle: float = 5.0,
    ) -> None:
        """Deliver until `stop` is set; `wake` (set after each save) cuts the sleep short."""
        wake = wake or asyncio.Event()
        while not stop.is_set():
            await self.deliver_due(session)
            due = self.next_due()
            delay = idle if due is None else (due - datetime.now(UTC)).total_seconds()
            wake.clear()
            waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())}
            _, pending = await asyncio.wait(
                waiters, timeout=min(max(delay, 0.01), idle), return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending | waiters:
                task.cancel()

    # ------------------------------------------------------------------ inspection

    def depth(self) -> int:
        """Rows still to deliver (the `monitor_alert_outbox_depth` gauge)."""
        return self.counts().get("pending", 0)

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
        return {state: n for state, n in rows}

    def rows(self) -> list[dict[str, object]]:
        """Every row, oldest first, without payload secrets (payloads hold none): for tests/API."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT id, receiver, dedup_key, state, attempts, last_status, last_error"
                " FROM outbox ORDER BY id"
            )
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def prune(self, before: datetime) -> int:
        """Delete delivered and dead rows finished before `before`; return how many."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM outbox WHERE state != 'pending' AND done_at < ?", (_ts(before),)
            )
        return cursor.rowcount
