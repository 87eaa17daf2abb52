"""The durable outbox: backoff maths, retries against a loopback receiver, the give-up bound,
ordering, and exactly-once-ish delivery across a SIGKILL."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog

from monitor.alerting.delivery import MAX_RETRY_AFTER, next_attempt
from monitor.alerting.evaluate import evaluate
from monitor.alerting.outbox import Outbox, batches_for
from monitor.alerting.state import AlertEvent, AlertState, Batch, Phase, RuleInput
from monitor.receivers import Receiver
from monitor.receivers.webhook import WebhookConfig, WebhookReceiver
from tests.alerting_fixtures import INTERVAL, T0, H, Recorder, U, event, rules, service


@pytest.mark.parametrize(
    ("attempt", "retry_after", "low", "high"),
    [
        (1, None, 0.0, 2.0),
        (3, None, 0.0, 8.0),
        (10, None, 0.0, 300.0),
        (10_000, None, 0.0, 300.0),
        (1, 30.0, 30.0, 30.0),
        (1, 1e9, MAX_RETRY_AFTER, MAX_RETRY_AFTER),
    ],
)
def test_next_attempt_is_bounded_full_jitter(
    attempt: int, retry_after: float | None, low: float, high: float
) -> None:
    rng = random.Random(4)
    delays = [
        (next_attempt(attempt, T0, retry_after, rng) - T0).total_seconds() for _ in range(200)
    ]
    assert all(low <= d <= high for d in delays)
    if retry_after is None:
        assert max(delays) > 0.5 * high  # jitter spreads over the range, not a fixed delay


def webhook(url: str) -> dict[str, Receiver]:
    return {
        "hook": WebhookReceiver(
            WebhookConfig.model_validate(
                {"type": "webhook", "name": "hook", "url": url + "/hook", "timeout": "5s"}
            )
        )
    }


Paging = Callable[..., Outbox]


@pytest.fixture
def paging(recorder: Recorder, tmp_path: Path) -> Iterator[Paging]:
    """Makes an outbox holding one firing page for `recorder`'s webhook, which answers with
    the script given; its jitter seeded, so retry times repeat. Closed after the test."""
    made: list[Outbox] = []

    def make(script: list[tuple[int, dict[str, str]]], **options: Any) -> Outbox:
        recorder.script = script
        options.setdefault("rng", random.Random(1))
        made.append(Outbox(tmp_path / "a.db", webhook(recorder.url), **options))
        enqueue(made[-1], event())
        return made[-1]

    yield make
    for outbox in made:
        outbox.close()


def enqueue(outbox: Outbox, page: AlertEvent) -> None:
    outbox.save(AlertState(), [Batch(receiver="hook", events=(page,))], T0)


async def drain(outbox: Outbox, session: aiohttp.ClientSession, passes: int = 20) -> None:
    """Run delivery passes at each next due time (a simulated clock: no sleeping)."""
    for _ in range(passes):
        due = outbox.next_due()
        if due is None:
            return
        await outbox.deliver_due(session, now=due)


async def test_503_three_times_then_200_is_delivered_once(
    paging: Paging, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    results: list[tuple[str, str]] = []
    outbox = paging(
        [(503, {}), (503, {"Retry-After": "2"}), (503, {}), (200, {})],
        on_result=lambda r, o: results.append((r, o)),
    )
    assert outbox.depth() == 1
    await drain(outbox, session)
    assert len(recorder.requests) == 4
    assert len({body for _, _, body in recorder.requests}) == 1  # the same payload every time
    assert results == [("hook", "retried")] * 3 + [("hook", "sent")]
    (row,) = outbox.rows()
    assert (row["state"], row["attempts"], row["last_status"]) == ("delivered", 4, 200)
    assert outbox.depth() == 0 and outbox.next_due() is None


async def test_retry_after_is_honoured(
    paging: Paging, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    outbox = paging([(429, {"Retry-After": "120"})])
    await outbox.deliver_due(session, now=T0)
    assert outbox.next_due() == T0 + timedelta(seconds=120)
    await outbox.deliver_due(session, now=T0 + timedelta(seconds=119))
    assert len(recorder.requests) == 1


async def test_gives_up_after_the_bound(
    paging: Paging, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    results: list[str] = []
    outbox = paging(
        [(503, {})] * 10,
        max_attempts=3,
        on_result=lambda r, o: results.append(o),
    )
    with structlog.testing.capture_logs() as logs:
        await drain(outbox, session)
    assert len(recorder.requests) == 3
    assert results == ["retried", "retried", "dead"]
    assert outbox.counts() == {"dead": 1}
    assert [entry["event"] for entry in logs] == ["alert_notification_dead"]
    assert logs[0]["receiver"] == "hook" and logs[0]["attempts"] == 3


async def test_a_400_is_final(
    paging: Paging, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    outbox = paging([(400, {})])
    await drain(outbox, session)
    assert len(recorder.requests) == 1 and outbox.counts() == {"dead": 1}


async def test_a_resolve_never_overtakes_its_firing(
    paging: Paging, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    outbox = paging([(503, {"Retry-After": "60"})])
    await outbox.deliver_due(session, now=T0)
    enqueue(outbox, event("resolved"))
    await outbox.deliver_due(session, now=T0 + timedelta(seconds=30))
    assert len(recorder.requests) == 1  # the resolve waits behind the firing in backoff
    await drain(outbox, session)
    statuses = [json.loads(body)["status"] for _, _, body in recorder.requests]
    assert statuses == ["firing", "firing", "resolved"]


async def test_the_same_batch_is_enqueued_once(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "a.db", {})
    batch = Batch(receiver="hook", events=(event(),))
    assert outbox.save(AlertState(), [batch], T0) == 1
    assert outbox.save(AlertState(), [batch], T0) == 0
    assert outbox.depth() == 1
    outbox.close()


CRASH = textwrap.dedent("""
    import os, signal, sys
    sys.path[:0] = [{root!r}]
    from tests.alerting_fixtures import T0, event
    from monitor.alerting.outbox import Outbox
    from monitor.alerting.state import AlertState, Batch
    outbox = Outbox({db!r}, {{}})
    batch = Batch(receiver="hook", events=(event(),))
    outbox.save(AlertState(), [batch], T0)
    print(batch.dedup_key, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


async def test_sigkill_with_an_undelivered_page_delivers_it_exactly_once_after_restart(
    tmp_path: Path, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    db = str(tmp_path / "alerts.db")
    tests = str(Path(__file__).parent)
    script = CRASH.format(root=str(Path(tests).parent), db=db)
    crashed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    dedup_key = crashed.stdout.strip()

    for _restart in range(2):
        outbox = Outbox(db, webhook(recorder.url))
        await drain(outbox, session)
        outbox.close()
    assert len(recorder.requests) == 1
    (row,) = Outbox(db, {}).rows()
    assert row["dedup_key"] == dedup_key and row["state"] == "delivered"
    assert recorder.json()["alerts"][0]["fingerprint"] == event().fingerprint


async def test_a_restart_neither_re_pages_nor_forgets_to_resolve(tmp_path: Path) -> None:
    config = rules("rules:\n  - {name: Down, kind: status, route: [page]}\n")
    db = tmp_path / "alerts.db"
    outbox = Outbox(db, {})
    state = AlertState()
    for tick in range(3):
        now = T0 + tick * INTERVAL
        state, events = evaluate(config, state, RuleInput({"svc": service("svc", U, now)}, T0), now)
        outbox.save(state, batches_for(events), now)
    assert outbox.depth() == 1
    outbox.close()

    outbox = Outbox(db, {})  # the daemon restarts
    state = outbox.load_state()
    assert [r.phase for r in state.alerts.values()] == [Phase.FIRING]
    kinds = []
    for tick, status in enumerate([U, U, H, H], start=3):
        now = T0 + tick * INTERVAL
        state, events = evaluate(
            config, state, RuleInput({"svc": service("svc", status, now)}, T0), now
        )
        outbox.save(state, batches_for(events), now)
        kinds += [e.kind for e in events]
    assert kinds == ["resolved"]
    assert outbox.depth() == 2
    outbox.close()


async def test_prune_keeps_pending_rows(
    tmp_path: Path, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    outbox = Outbox(tmp_path / "a.db", webhook(recorder.url))
    outbox.save(
        AlertState(),
        [Batch(receiver="hook", events=(event(),)), Batch(receiver="gone", events=(event(),))],
        T0,
    )
    await outbox.deliver_due(session, now=T0)
    assert outbox.counts() == {"delivered": 1, "dead": 1}
    assert outbox.prune(T0 + timedelta(days=1)) == 2
    assert outbox.counts() == {}
    outbox.close()


def test_a_failed_replace_is_rolled_back_and_later_saves_still_commit(tmp_path: Path) -> None:
    """A write that fails half way (here: two deploys with one id; in the field a full disk)
    must leave no open transaction behind, or every later save is refused."""
    from monitor.alerting.maintenance import Deploy

    outbox = Outbox(tmp_path / "a.db", {})
    kept = Deploy(id="d1", services=("svc",), version="1", started_at=T0)
    outbox.save_deploys([kept])
    twice = Deploy(id="d2", services=("svc",), version="2", started_at=T0)
    with pytest.raises(sqlite3.IntegrityError):
        outbox.save_deploys([twice, twice])
    assert outbox.load_deploys() == [kept]
    assert outbox.save(AlertState(), [Batch(receiver="hook", events=(event(),))], T0) == 1
    outbox.close()
    assert Outbox(tmp_path / "a.db", {}).depth() == 1


def test_rows_this_version_cannot_read_are_skipped_not_fatal(tmp_path: Path) -> None:
    """A file written by another version (or damaged) must not stop the daemon from starting:
    each unreadable row is skipped, the readable ones load. Before, one bad silence, window,
    deploy or alert row raised out of the alerting service's restore."""
    from monitor.alerting.maintenance import Deploy

    outbox = Outbox(tmp_path / "a.db", {})
    kept = Deploy(id="d1", services=("svc",), version="1", started_at=T0)
    outbox.save_deploys([kept])
    db = sqlite3.connect(tmp_path / "a.db")
    for table, key in (("silences", "id"), ("maintenance", "name"), ("deploys", "id")):
        db.execute(f"INSERT INTO {table} ({key}, value) VALUES ('bad', '{{\"from\": 2}}')")
    db.execute("INSERT INTO alerts (key, value) VALUES ('bad', 'not json')")
    db.execute("INSERT INTO history (service, value) VALUES ('svc', '[]')")
    db.commit()
    db.close()
    assert outbox.load_silences() == []
    assert outbox.load_windows() == []
    assert outbox.load_deploys() == [kept]
    state = outbox.load_state()
    assert (state.alerts, state.services) == ({}, {})
    outbox.close()
