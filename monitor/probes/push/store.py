"""Push records in the daemon's SQLite file: the last pings of every push check, so a restart
neither resets a clock nor forgets a run in progress. Of the token only its SHA-256 is kept:
a record whose check now has another token still counts (a rotated token is not a new job),
and the file gives away no credential."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.probes.push.schedule import PushRecord, Signal
from monitor.runtime.store import open_sqlite, readable, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS push_record (
    check_id      TEXT PRIMARY KEY,
    token_sha256  TEXT NOT NULL,
    record        TEXT NOT NULL
);
"""


class PushStore:
    """Blocking and thread-safe; call through `asyncio.to_thread`."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = open_sqlite(self.path, SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def save(self, records: Mapping[str, tuple[str, PushRecord]]) -> None:
        """`check_id -> (token sha256 hex, record)`, in one transaction."""
        rows = [(cid, digest, _dump(r)) for cid, (digest, r) in records.items()]
        with transaction(self._db, self._lock):
            self._db.executemany("INSERT OR REPLACE INTO push_record VALUES (?, ?, ?)", rows)

    def load(self) -> dict[str, PushRecord]:
        with self._lock:
            rows = self._db.execute("SELECT check_id, record FROM push_record").fetchall()
        return dict(readable(rows, lambda r: (r[0], _load(json.loads(r[1]))), "push records"))

    def forget(self, check_ids: list[str]) -> None:
        with self._lock:
            self._db.executemany(
                "DELETE FROM push_record WHERE check_id = ?", [(c,) for c in check_ids]
            )


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _dump(r: PushRecord) -> str:
    return json.dumps(
        {
            "last_ping_at": _time(r.last_ping_at),
            "last_signal": None if r.last_signal is None else r.last_signal.value,
            "finished_at": _time(r.finished_at),
            "failed": r.failed,
            "exit_code": r.exit_code,
            "started_at": _time(r.started_at),
            "last_run_s": r.last_run_s,
            "evidence": r.evidence,
        }
    )


def _load(d: dict[str, Any]) -> PushRecord:
    return PushRecord(
        last_ping_at=_parse(d["last_ping_at"]),
        last_signal=None if d["last_signal"] is None else Signal(d["last_signal"]),
        finished_at=_parse(d["finished_at"]),
        failed=bool(d["failed"]),
        exit_code=d["exit_code"],
        started_at=_parse(d["started_at"]),
        last_run_s=d["last_run_s"],
        evidence=str(d["evidence"]),
    )
