"""What waits for the store: the states of checks marked dirty and the status changes, written
together in one transaction off the event loop (once a second, and at stop). A check marks its
record rather than queueing its state, so a check that changes ten times between two writes is
written once, with its last state; a failed write keeps everything for the next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from monitor.config import Check
from monitor.runtime.store import StatusChange, Store
from monitor.runtime.tracked import TrackedCheck
from monitor.state import CheckState

__all__ = ["StoreWriter", "dirty_states"]


class StoreWriter:
    def __init__(self, store: Store, log: Any) -> None:
        self.store = store
        self.log = log
        self._dirty: list[TrackedCheck] = []
        self._changes: list[StatusChange] = []

    def mark(self, record: TrackedCheck) -> None:
        """The record's state is to be written (again) at the next flush."""
        if not record.dirty:
            record.dirty = True
            self._dirty.append(record)

    def change(self, check: Check, previous: CheckState | None, state: CheckState) -> None:
        """The check's status changed from `previous` to `state`: a row of its history."""
        verdict = state.verdict
        self._changes.append(
            StatusChange(
                check.id,
                check.service,
                state.checked_at,
                previous.verdict.status if previous else None,
                verdict.status,
                verdict.reason.value,
                verdict.detail,
            )
        )

    async def flush(self, tracked: Mapping[str, TrackedCheck]) -> None:
        """Write what waits, in one transaction; `tracked` are the checks still configured."""
        if not (self._dirty or self._changes):
            return
        dirty, changes = self._dirty, self._changes
        self._dirty, self._changes = [], []
        try:
            await asyncio.to_thread(self.store.save, dirty_states(dirty, tracked), changes)
        except Exception as exc:  # keep them for the next flush rather than lose them
            self.log.error("store.write_failed", error=str(exc)[:200])
            for record in dirty:
                self.mark(record)
            self._changes = changes + self._changes


def dirty_states(
    records: Iterable[TrackedCheck], tracked: Mapping[str, TrackedCheck]
) -> dict[str, CheckState]:
    """The states to save for `records` marked dirty, clearing their marks; a record no longer
    in `tracked` (its check was removed by a reload) is not saved."""
    states: dict[str, CheckState] = {}
    for record in records:
        record.dirty = False
        check_id = record.check.id
        if record.state is not None and tracked.get(check_id) is record:
            states[check_id] = record.state
    return states
