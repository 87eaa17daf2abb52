"""Durable delivery: an outbox and the alert state in one SQLite file (WAL).

`save(state, batches)` writes the new alert state and the notifications it decided in ONE
transaction, so after a crash either both exist or neither: a restart neither re-pages a
firing alert nor forgets a resolve. `deliver_due()` and `run()` (in `delivery.py`) send due
rows, each receiver on its own task, in order per receiver and alert; they retry network
errors / 429 / 5xx with exponential backoff and full jitter (honouring Retry-After) and give
up after `max_attempts` (row marked dead, counted, logged).

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
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import structlog
from pydantic import ValidationError

from monitor.alerting import delivery
from monitor.alerting.delivery import (
    RECEIVER_IN_FLIGHT,
    SHARED_IN_FLIGHT,
    DeliveryStats,
)
from monitor.alerting.grouping import AlertGroup
from monitor.alerting.maintenance import Deploy, MaintenanceWindow
from monitor.alerting.state import (
    AlertEvent,
    AlertRecord,
    AlertState,
    Batch,
    ServiceHistory,
    Silence,
    fingerprint,
    keyed_by_labels,
)
from monitor.receivers import Receiver
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
CREATE INDEX IF NOT EXISTS outbox_receiver_due ON outbox (receiver, state, next_attempt_at);
CREATE TABLE IF NOT EXISTS alerts (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (service TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS maintenance (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deploys (id TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def batches_for(events: Iterable[AlertEvent], external_url: str = "") -> list[Batch]:
    """One batch per (receiver, event): the simplest grouping, ordered like the events."""
    return [
        Batch(receiver=r, events=(e,), external_url=external_url)
        for e in events
        for r in e.receivers
    ]


def _order_key(batch: Batch) -> str:
    """Rows with the same order key go out one at a time, oldest first: one receiver, one
    group (or, in rows from before grouping, one alert). From the labels, not
    `AlertEvent.fingerprint`, so rows written before the fingerprint changed line up."""
    if batch.group_labels is not None:
        return batch.receiver + "|group|" + fingerprint(batch.group_labels)
    return batch.receiver + "|" + ",".join(sorted(fingerprint(e.labels) for e in batch.events))


_KEY_COLUMN = {"alerts": "key", "history": "service", "groups": "key"}


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
        self._saved: dict[tuple[str, str], str] = {}
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._rekey_pending()

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

    # ------------------------------------------------------------------ state + enqueue

    def load_state(self) -> AlertState:
        """The alert state as last saved (empty on a new file), keyed by today's fingerprints
        (`keyed_by_labels`): the next `save` moves rows written under older ones."""
        with self._lock:
            alerts = self._db.execute("SELECT key, value FROM alerts").fetchall()
            history = self._db.execute("SELECT service, value FROM history").fetchall()
        state = AlertState(
            alerts=keyed_by_labels({k: AlertRecord.model_validate_json(v) for k, v in alerts}),
            services={k: ServiceHistory.model_validate_json(v) for k, v in history},
        )
        self._saved = {("alerts", k): v for k, v in alerts}
        self._saved.update({("history", k): v for k, v in history})
        return state

    def load_groups(self) -> dict[str, AlertGroup]:
        """The notification groups as last saved (call after `load_state`)."""
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM groups").fetchall()
        groups: dict[str, AlertGroup] = {}
        for key, value in rows:
            try:
                groups[key] = AlertGroup.model_validate_json(value)
            except ValidationError:  # a row this version cannot read: its group starts anew
                continue
        self._saved.update({("groups", k): v for k, v in rows})
        return groups

    def save(
        self,
        state: AlertState,
        batches: Iterable[Batch],
        now: datetime,
        groups: Mapping[str, AlertGroup] | None = None,
    ) -> int:
        """Persist `state` (and the notification `groups`, when given) and enqueue `batches`
        atomically; return how many rows were new. Blocking: the daemon calls it through
        `asyncio.to_thread` (an fsync must not show up as loop lag)."""
        scrub = self.scrubber.scrub
        rows: dict[tuple[str, str], str] = {
            ("alerts", k): scrub(r.model_dump_json()) for k, r in state.alerts.items()
        }
        rows.update({("history", k): scrub(h.model_dump_json()) for k, h in state.services.items()})
        if groups is None:
            rows.update({k: v for k, v in self._saved.items() if k[0] == "groups"})
        else:
            rows.update({("groups", k): scrub(g.model_dump_json()) for k, g in groups.items()})
        added = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for (table, key), value in rows.items():
                    if self._saved.get((table, key)) != value:
                        column = _KEY_COLUMN[table]
                        self._db.execute(
                            f"INSERT OR REPLACE INTO {table} ({column}, value) VALUES (?, ?)",
                            (key, value),
                        )
                for table, key in set(self._saved) - set(rows):
                    column = _KEY_COLUMN[table]
                    self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (key,))
                for batch in batches:
                    order_key = _order_key(batch)
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

    def _replace(self, table: str, column: str, rows: list[tuple[str, str]]) -> None:
        """Replace every row of a small table of the API's objects, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(f"DELETE FROM {table}")
            self._db.executemany(f"INSERT INTO {table} ({column}, value) VALUES (?, ?)", rows)
            self._db.execute("COMMIT")

    def _values(self, table: str, column: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(f"SELECT value FROM {table} ORDER BY {column}").fetchall()
        return [value for (value,) in rows]

    def save_silences(self, silences: Iterable[Silence]) -> None:
        """Replace the stored run-time silences (the API's `SilenceSet.all()`)."""
        self._replace("silences", "id", [(s.id, s.model_dump_json()) for s in silences])

    def load_silences(self) -> list[Silence]:
        return [Silence.model_validate_json(v) for v in self._values("silences", "id")]

    def save_windows(self, windows: Iterable[MaintenanceWindow]) -> None:
        """Replace the stored run-time maintenance windows (the API's)."""
        self._replace("maintenance", "name", [(w.name, w.model_dump_json()) for w in windows])

    def load_windows(self) -> list[MaintenanceWindow]:
        return [
            MaintenanceWindow.model_validate_json(v) for v in self._values("maintenance", "name")
        ]

    def save_deploys(self, deploys: Iterable[Deploy]) -> None:
        """Replace the stored deploys: the page's timeline marks them after a restart too."""
        self._replace("deploys", "id", [(d.id, d.model_dump_json()) for d in deploys])

    def load_deploys(self) -> list[Deploy]:
        deploys = [Deploy.model_validate_json(v) for v in self._values("deploys", "id")]
        return sorted(deploys, key=lambda d: d.started_at)

    # ------------------------------------------------------------------ delivery

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

    async def deliver_due(
        self, session: aiohttp.ClientSession, now: datetime | None = None, limit: int = 50
    ) -> DeliveryStats:
        """One pass: send every due row once, each receiver on its own task."""
        return await delivery.deliver_due(self, session, now, limit)

    async def run(
        self,
        session: aiohttp.ClientSession,
        stop: asyncio.Event,
        wake: asyncio.Event | None = None,
        idle: float = 5.0,
    ) -> None:
        """Deliver until `stop` is set, one lane per receiver; `wake` (set after each save)
        cuts the sleep short. See `delivery.run` for what stop does to a send in flight."""
        await delivery.run(self, session, stop, wake or asyncio.Event(), idle)

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
