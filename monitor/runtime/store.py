"""The embedded store: last state of every check and the history of status changes, in SQLite.

Writes are batched: the daemon marks states dirty and a flush (once a second, and at
shutdown) writes them in one transaction off the event loop. A SIGKILL loses at most the last
unflushed second; nothing committed is lost, and `since` survives restarts so an old incident
is not reported as new.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import structlog

from monitor.model import Status, Verdict
from monitor.secrets_scrub import NO_SECRETS, Scrubber
from monitor.state import CheckState

SCHEMA = """
CREATE TABLE IF NOT EXISTS check_state (
    check_id     TEXT PRIMARY KEY,
    verdict      TEXT NOT NULL,
    checked_at   TEXT NOT NULL,
    since        TEXT NOT NULL,
    consecutive  INTEGER NOT NULL,
    duration_s   REAL NOT NULL,
    previous     TEXT
);
CREATE TABLE IF NOT EXISTS status_change (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    check_id     TEXT NOT NULL,
    service      TEXT NOT NULL,
    at           TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS status_change_service_at ON status_change (service, at);
"""


@dataclass(frozen=True, slots=True)
class StatusChange:
    check_id: str
    service: str
    at: datetime
    from_status: Status | None
    to_status: Status
    reason: str
    detail: str


def open_sqlite(path: str, schema: str) -> sqlite3.Connection:
    """A connection to the daemon's SQLite file as every writer of it opens one: WAL (readers
    never block the writer), autocommit (transactions are explicit), a wait for a busy file."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.executescript(schema)
    return db


_Row = TypeVar("_Row")
_Read = TypeVar("_Read")


def readable(rows: Iterable[_Row], parse: Callable[[_Row], _Read], what: str) -> Iterator[_Read]:
    """`parse` of each row this version can read. A row it cannot (written by an older or
    newer version, or damaged) is skipped with one warning naming `what`: that record starts
    anew instead of the daemon refusing to start. Pydantic's ValidationError is a ValueError."""
    skipped = 0
    for row in rows:
        try:
            yield parse(row)
        except (ValueError, TypeError, KeyError):
            skipped += 1
    if skipped:
        structlog.get_logger("monitor").warning("store.rows_unreadable", what=what, rows=skipped)


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.Lock) -> Iterator[None]:
    """One write under `lock`, committed whole or rolled back on any error: a transaction
    left open would refuse every later one ("cannot start a transaction within a
    transaction"). IMMEDIATE takes the write lock up front, so a busy file waits at BEGIN."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


class Store:
    """One SQLite file. Methods are blocking and thread-safe; call them via `asyncio.to_thread`."""

    def __init__(self, path: str | Path, scrubber: Scrubber = NO_SECRETS) -> None:
        self.path = str(path)
        self.scrubber = scrubber
        """Applied to every text written: the file outlives the config and gets copied."""
        self._lock = threading.Lock()
        self._db = open_sqlite(self.path, SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def save(self, states: Mapping[str, CheckState], changes: Iterable[StatusChange]) -> None:
        """Write states and changes in one transaction: both land or neither does."""
        scrub = self.scrubber.scrub
        rows = [
            (
                check_id,
                scrub(s.verdict.model_dump_json()),
                s.checked_at.isoformat(),
                s.since.isoformat(),
                s.consecutive,
                s.duration_s,
                s.previous.value if s.previous else None,
            )
            for check_id, s in states.items()
        ]
        change_rows = [
            (
                c.check_id,
                c.service,
                c.at.isoformat(),
                c.from_status.value if c.from_status else None,
                c.to_status.value,
                c.reason,
                scrub(c.detail),
            )
            for c in changes
        ]
        with transaction(self._db, self._lock):
            self._db.executemany(
                "INSERT INTO check_state VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(check_id) DO "
                "UPDATE SET verdict=excluded.verdict, checked_at=excluded.checked_at, "
                "since=excluded.since, consecutive=excluded.consecutive, "
                "duration_s=excluded.duration_s, previous=excluded.previous",
                rows,
            )
            self._db.executemany(
                "INSERT INTO status_change (check_id, service, at, from_status, to_status, "
                "reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                change_rows,
            )

    def load_states(self) -> dict[str, CheckState]:
        """Every stored state; rows that no longer parse are skipped, not fatal."""
        with self._lock:
            rows = self._db.execute(
                "SELECT check_id, verdict, checked_at, since, consecutive, duration_s, previous "
                "FROM check_state"
            ).fetchall()
        verdicts: dict[str, Verdict] = {}  # frozen; a fleet's rows share a few texts

        def state(row: tuple[str, str, str, str, int, float, str | None]) -> tuple[str, CheckState]:
            check_id, verdict, checked_at, since, consecutive, duration_s, previous = row
            judged = verdicts.get(verdict)
            if judged is None:
                # rows written before a secret was known (or by an older version) too
                judged = Verdict.model_validate_json(self.scrubber.scrub(verdict))
                verdicts[verdict] = judged
            return check_id, CheckState(
                verdict=judged,
                checked_at=datetime.fromisoformat(checked_at),
                since=datetime.fromisoformat(since),
                consecutive=int(consecutive),
                duration_s=float(duration_s),
                previous=Status(previous) if previous else None,
            )

        return dict(readable(rows, state, "check states"))

    def forget(self, check_ids: Iterable[str]) -> None:
        with self._lock:
            self._db.executemany(
                "DELETE FROM check_state WHERE check_id = ?", [(c,) for c in check_ids]
            )

    def changes(
        self, service: str | None = None, since: datetime | None = None, limit: int = 500
    ) -> list[StatusChange]:
        """Status changes, newest first."""
        query = (
            "SELECT check_id, service, at, from_status, to_status, reason, detail "
            "FROM status_change WHERE 1=1"
        )
        args: list[object] = []
        if service is not None:
            query += " AND service = ?"
            args.append(service)
        if since is not None:
            query += " AND at >= ?"
            args.append(since.isoformat())
        query += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [_change(r) for r in rows]

    def history(self, since: datetime, limit: int = 20_000) -> list[StatusChange]:
        """Changes at or after `since` plus each check's last change before it (its status at
        `since`), oldest first: what the status page needs for uptime and incidents. At most
        `limit` rows, the newest kept (a flapping check cannot make the page unbounded)."""
        query = (
            "SELECT check_id, service, at, from_status, to_status, reason, detail FROM ("
            "SELECT * FROM status_change WHERE at >= ? OR id IN (SELECT id FROM "
            "(SELECT id, MAX(at) FROM status_change WHERE at < ? GROUP BY check_id)) "
            "ORDER BY at DESC, id DESC LIMIT ?) ORDER BY at, id"
        )
        with self._lock:
            rows = self._db.execute(query, (since.isoformat(), since.isoformat(), limit)).fetchall()
        return [_change(r) for r in rows]

    def prune(self, now: datetime, retention: timedelta) -> int:
        """Drop status changes older than the retention; returns how many went."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM status_change WHERE at < ?", ((now - retention).isoformat(),)
            )
            return cursor.rowcount


def _change(row: tuple[str, str, str, str | None, str, str, str]) -> StatusChange:
    return StatusChange(
        row[0],
        row[1],
        datetime.fromisoformat(row[2]),
        Status(row[3]) if row[3] else None,
        Status(row[4]),
        row[5],
        row[6],
    )
