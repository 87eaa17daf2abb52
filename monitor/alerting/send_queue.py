"""The outbox table: notifications waiting to be sent, in order per receiver and alert.

What `delivery.py` reads and marks (due rows, their outcome, when the next is due) and what the
API and the depth gauge count. `outbox.py` builds on it: the alert state is written in the same
transaction as the rows it enqueues, so both share one SQLite connection and one lock.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import structlog
from pydantic import ValidationError

from monitor.alerting.state import Batch, fingerprint
from monitor.receivers import Receiver
from monitor.receivers._base import DETAIL_CHARS
from monitor.runtime.store import open_sqlite, transaction
from monitor.secrets_scrub import NO_SECRETS, Scrubber

RECEIVER_IN_FLIGHT = 4
"""Sends one receiver may have in flight at once, each for another alert."""
SHARED_IN_FLIGHT = 16
"""Sends beyond each receiver's first that all receivers together may have in flight."""

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
CREATE INDEX IF NOT EXISTS outbox_receiver_due ON outbox (receiver, state, next_attempt_at);
"""


def _order_key(batch: Batch) -> str:
    """Rows with the same order key go out one at a time, oldest first: one receiver, one
    group (or, in rows from before grouping, one alert). From the labels, not
    `AlertEvent.fingerprint`, so rows written before the fingerprint changed line up."""
    if batch.group_labels is not None:
        return batch.receiver + "|group|" + fingerprint(batch.group_labels)
    return batch.receiver + "|" + ",".join(sorted(fingerprint(e.labels) for e in batch.events))


def _ts(moment: datetime) -> float:
    return moment.timestamp()


class SendQueue:
    """The SQLite file's outbox rows. Blocking calls are short; delivery runs them in a thread."""

    def __init__(
        self,
        path: str | Path,
        receivers: Mapping[str, Receiver],
        *,
        max_attempts: int = 12,
        rng: random.Random | None = None,
        on_result: Callable[[str, str], None] | None = None,
        receiver_in_flight: int = RECEIVER_IN_FLIGHT,
        shared_in_flight: int = SHARED_IN_FLIGHT,
        scrubber: Scrubber = NO_SECRETS,
    ) -> None:
        self.path = str(path)
        self.scrubber = scrubber
        """Applied to payloads, state rows and errors before they are written: a receiver's
        answer may quote its URL or key, a payload the evidence of a service."""
        self.receivers = dict(receivers)
        self.max_attempts = max_attempts
        self.receiver_in_flight = max(1, receiver_in_flight)
        self.shared_slots = asyncio.Semaphore(shared_in_flight)
        self.rng = rng or random.Random()
        self.on_result = on_result or (lambda receiver, outcome: None)
        self._lock = threading.Lock()
        self.log = structlog.get_logger("monitor.outbox")
        self._db = open_sqlite(self.path, _SCHEMA)
        self._db.execute("PRAGMA synchronous=FULL")  # a saved page survives a power cut too
        self._opened()
        self._rekey_pending()

    def _opened(self) -> None:
        """Create the tables a subclass keeps beside the outbox, in the same file."""

    def _rekey_pending(self) -> None:
        """Give pending rows today's order key (older versions keyed them by another
        fingerprint), so a resolve queued after an upgrade still waits for its firing."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, order_key, payload FROM outbox WHERE state = 'pending'"
            ).fetchall()
            for row_id, order_key, payload in rows:
                try:
                    key = _order_key(Batch.model_validate_json(payload))
                except ValidationError:  # sent as it is; delivery marks it dead if it must
                    continue
                if key != order_key:
                    self._db.execute("UPDATE outbox SET order_key = ? WHERE id = ?", (key, row_id))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self) -> AbstractContextManager[None]:
        return transaction(self._db, self._lock)

    def _enqueue(self, batch: Batch, now: datetime) -> int:
        """Insert one row unless its dedup key is already queued; 1 if it was new. Call it
        inside the caller's `_transaction`."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO outbox (receiver, dedup_key, order_key, payload,"
            " created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                batch.receiver,
                batch.dedup_key,
                _order_key(batch),
                self.scrubber.scrub(batch.model_dump_json()),
                _ts(now),
                _ts(now),
            ),
        )
        return cursor.rowcount

    def due(self, receiver: str, now: datetime, limit: int) -> list[tuple[int, str, int]]:
        """The receiver's due rows, each the oldest pending row of its alert (order_key)."""
        with self._lock:
            return self._db.execute(
                "SELECT id, payload, attempts FROM outbox o WHERE receiver = ? AND"
                " state = 'pending' AND next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM"
                " outbox p WHERE p.order_key = o.order_key AND p.state = 'pending' AND p.id < o.id)"
                " ORDER BY id LIMIT ?",
                (receiver, _ts(now), limit),
            ).fetchall()

    def bury_unknown(self, now: datetime) -> None:
        """Mark pending rows for receivers no longer in the config dead, and say so."""
        names = list(self.receivers)
        marks = ",".join("?" * len(names))
        where = f"state = 'pending' AND receiver NOT IN ({marks})"
        with self._lock:
            rows = self._db.execute(f"SELECT receiver, payload FROM outbox WHERE {where}", names)
            buried = rows.fetchall()
            if buried:
                self._db.execute(
                    "UPDATE outbox SET state = 'dead', last_error = 'unknown receiver',"
                    f" done_at = ? WHERE {where}",
                    (_ts(now), *names),
                )
        for receiver, payload in buried:
            try:
                batch: Batch | None = Batch.model_validate_json(payload)
            except ValidationError:
                batch = None
            self.gave_up(receiver, batch, "unknown receiver")

    def finish(
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

    def gave_up(
        self,
        receiver: str,
        batch: Batch | None,
        detail: str,
        status: int | None = None,
        attempts: int = 0,
    ) -> None:
        self.on_result(receiver, "dead")
        self.log.error(
            "alert_notification_dead",
            receiver=receiver,
            status=status,
            attempts=attempts,
            detail=detail,
            alerts=[f"{e.rule}/{e.fingerprint}:{e.kind}" for e in batch.events] if batch else [],
        )

    def next_due(self, receiver: str | None = None) -> datetime | None:
        """When the earliest sendable row (of `receiver`, or of any) is due; rows waiting
        behind an older row of the same alert and receiver do not count."""
        mine = "" if receiver is None else "receiver = ? AND "
        with self._lock:
            row = self._db.execute(
                f"SELECT MIN(next_attempt_at) FROM outbox o WHERE {mine}state = 'pending' AND"
                " NOT EXISTS (SELECT 1 FROM outbox p WHERE p.order_key = o.order_key AND"
                " p.state = 'pending' AND p.id < o.id)",
                () if receiver is None else (receiver,),
            ).fetchone()
        return None if row[0] is None else datetime.fromtimestamp(row[0], UTC)

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
