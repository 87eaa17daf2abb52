"""Durable delivery: an outbox and the alert state in one SQLite file (WAL).

`save(state, batches)` writes the new alert state and the notifications it decided in ONE
transaction, so after a crash either both exist or neither: a restart neither re-pages a
firing alert nor forgets a resolve. `deliver_due()` and `run()` (in `delivery.py`) send due
rows, each receiver on its own task, in order per receiver and alert; they retry network
errors / 429 / 5xx with exponential backoff and full jitter (honouring Retry-After) and give
up after `max_attempts` (row marked dead, counted, logged).

Delivery is at-least-once: a SIGKILL between a 2xx and the row update re-sends the row once on
restart, with the same dedup key (PagerDuty / Alertmanager de-duplicate on it).

The outbox rows themselves (what is due, outcomes, depth, pruning) are `send_queue.py`'s.

Metrics stay with the caller: pass `on_result(receiver, outcome)` (outcome: "sent",
"retried", "dead") and read `depth()` from a gauge callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TypeVar

import aiohttp
from pydantic import BaseModel

from monitor.alerting import delivery
from monitor.alerting.delivery import DeliveryStats
from monitor.alerting.grouping import AlertGroup
from monitor.alerting.maintenance import Deploy, MaintenanceWindow
from monitor.alerting.send_queue import SendQueue
from monitor.alerting.state import (
    AlertEvent,
    AlertRecord,
    AlertState,
    Batch,
    ServiceHistory,
    Silence,
    keyed_by_labels,
)
from monitor.runtime.store import readable

_SCHEMA = """
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


_Model = TypeVar("_Model", bound=BaseModel)


def _by_key(rows: Iterable[tuple[str, str]], model: type[_Model], what: str) -> dict[str, _Model]:
    return dict(readable(rows, lambda row: (row[0], model.model_validate_json(row[1])), what))


def _models(texts: Iterable[str], model: type[_Model], what: str) -> list[_Model]:
    return list(readable(texts, model.model_validate_json, what))


_KEY_COLUMN = {"alerts": "key", "history": "service", "groups": "key"}


class Outbox(SendQueue):
    """The SQLite file: the outbox rows (`SendQueue`) and the alert state they came from."""

    def _opened(self) -> None:
        self._saved: dict[tuple[str, str], str] = {}
        self._db.executescript(_SCHEMA)

    # ------------------------------------------------------------------ state + enqueue

    def load_state(self) -> AlertState:
        """The alert state as last saved (empty on a new file), keyed by today's fingerprints
        (`keyed_by_labels`): the next `save` moves rows written under older ones."""
        with self._lock:
            alerts = self._db.execute("SELECT key, value FROM alerts").fetchall()
            history = self._db.execute("SELECT service, value FROM history").fetchall()
        state = AlertState(
            alerts=keyed_by_labels(_by_key(alerts, AlertRecord, "alerts")),
            services=_by_key(history, ServiceHistory, "history"),
        )
        self._saved = {("alerts", k): v for k, v in alerts}
        self._saved.update({("history", k): v for k, v in history})
        return state

    def load_groups(self) -> dict[str, AlertGroup]:
        """The notification groups as last saved (call after `load_state`)."""
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM groups").fetchall()
        groups = _by_key(rows, AlertGroup, "groups")
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
        with self._transaction():
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
                added += self._enqueue(batch, now)
        self._saved = rows
        return added

    def _replace(self, table: str, column: str, rows: list[tuple[str, str]]) -> None:
        """Replace every row of a small table of the API's objects, in one transaction."""
        with self._transaction():
            self._db.execute(f"DELETE FROM {table}")
            self._db.executemany(f"INSERT INTO {table} ({column}, value) VALUES (?, ?)", rows)

    def _values(self, table: str, column: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(f"SELECT value FROM {table} ORDER BY {column}").fetchall()
        return [value for (value,) in rows]

    def save_silences(self, silences: Iterable[Silence]) -> None:
        """Replace the stored run-time silences (the API's `SilenceSet.all()`)."""
        self._replace("silences", "id", [(s.id, s.model_dump_json()) for s in silences])

    def load_silences(self) -> list[Silence]:
        return _models(self._values("silences", "id"), Silence, "silences")

    def save_windows(self, windows: Iterable[MaintenanceWindow]) -> None:
        """Replace the stored run-time maintenance windows (the API's)."""
        self._replace("maintenance", "name", [(w.name, w.model_dump_json()) for w in windows])

    def load_windows(self) -> list[MaintenanceWindow]:
        return _models(self._values("maintenance", "name"), MaintenanceWindow, "windows")

    def save_deploys(self, deploys: Iterable[Deploy]) -> None:
        """Replace the stored deploys: the page's timeline marks them after a restart too."""
        self._replace("deploys", "id", [(d.id, d.model_dump_json()) for d in deploys])

    def load_deploys(self) -> list[Deploy]:
        deploys = _models(self._values("deploys", "id"), Deploy, "deploys")
        return sorted(deploys, key=lambda d: d.started_at)

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
