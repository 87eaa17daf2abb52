"""The SQLite store: states and changes survive a reopen, in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.model import Component, Reason, Status, Verdict
from monitor.runtime.store import StatusChange, Store
from monitor.state import CheckState

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def state(status: Status, since: datetime) -> CheckState:
    verdict = Verdict(
        status=status,
        reason=Reason.REPORTED_DEGRADED,
        detail="d",
        http_status=200,
        components={"postgres": Component(status=Status.UNHEALTHY, detail="x")},
    )
    return CheckState(verdict, since + timedelta(minutes=5), since, 30, 0.0021, Status.HEALTHY)


def test_states_and_changes_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    store = Store(path)
    change = StatusChange(
        "db/health/health",
        "db",
        T0,
        Status.HEALTHY,
        Status.DEGRADED,
        "reported_degraded",
        "postgres down",
    )
    store.save({"db/health/health": state(Status.DEGRADED, T0)}, [change])
    store.save({"db/health/health": state(Status.DEGRADED, T0)}, [])  # upsert, no duplicate
    store.close()
    reopened = Store(path)
    loaded = reopened.load_states()
    assert loaded == {"db/health/health": state(Status.DEGRADED, T0)}
    assert reopened.changes() == [change]
    assert reopened.changes(service="other") == []
    reopened.close()


def test_prune_keeps_recent_changes(tmp_path: Path) -> None:
    store = Store(tmp_path / "m.sqlite3")
    old = StatusChange(
        "a/health/health", "a", T0 - timedelta(days=10), None, Status.HEALTHY, "ok", ""
    )
    new = StatusChange("a/health/health", "a", T0, Status.HEALTHY, Status.UNHEALTHY, "timeout", "")
    store.save({}, [old, new])
    assert store.prune(T0, timedelta(days=7)) == 1
    assert store.changes() == [new]


def test_unparseable_rows_are_skipped(tmp_path: Path) -> None:
    store = Store(tmp_path / "m.sqlite3")
    store.save({"a/health/health": state(Status.HEALTHY, T0)}, [])
    store._db.execute("UPDATE check_state SET verdict = '{broken'")
    assert store.load_states() == {}


def test_forget(tmp_path: Path) -> None:
    store = Store(tmp_path / "m.sqlite3")
    store.save(
        {
            "a/health/health": state(Status.HEALTHY, T0),
            "b/health/health": state(Status.HEALTHY, T0),
        },
        [],
    )
    store.forget(["a/health/health"])
    assert set(store.load_states()) == {"b/health/health"}


def test_history_returns_the_window_and_each_checks_state_at_its_start(tmp_path: Path) -> None:
    store = Store(tmp_path / "m.sqlite3")

    def at(hours: float, cid: str, to: Status) -> StatusChange:
        return StatusChange(cid, cid.split("/")[0], T0 - timedelta(hours=hours), None, to, "r", "")

    old_a = at(50, "a/health/health", Status.HEALTHY)
    anchor_a = at(30, "a/health/health", Status.UNHEALTHY)
    inside_a = at(2, "a/health/health", Status.HEALTHY)
    anchor_b = at(40, "b/health/health", Status.DEGRADED)
    store.save({}, [inside_a, old_a, anchor_b, anchor_a])
    got = store.history(T0 - timedelta(hours=24))
    assert got == [anchor_b, anchor_a, inside_a]  # oldest first; old_a is superseded
    assert store.history(T0 - timedelta(hours=24), limit=1) == [inside_a]  # the newest kept
    store.close()
