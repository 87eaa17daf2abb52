"""The push kind's "probe": it receives pings and watches deadlines, where a polled kind sends
requests. Every verdict it reaches goes to the daemon through one callback, the same path a
polled check's verdict takes, so states, rules, silences, metrics and the page see no
difference.

Lateness is found by a deadline heap: one timer armed at the earliest deadline (re-armed by a
ping that brings an earlier one), and never asleep longer than `MAX_NAP` so a wall clock that
steps (NTP, a suspended VM, a test's clock) is noticed within it. Nothing is polled per check:
100,000 push checks cost a heap of 100,000 entries and one timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import heapq
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime

import structlog

from monitor.config import Check, PushSpec
from monitor.model import CheckKind, Verdict
from monitor.probes.push.metrics import PushMetrics
from monitor.probes.push.schedule import (
    PushRecord,
    Signal,
    next_deadline,
    parse_signal,
    push_verdict,
    record_ping,
)
from monitor.probes.push.store import PushStore

Apply = Callable[[Check, Verdict, datetime], object]
"""The daemon's verdict path: advance the check's state, export, alert."""

MAX_NAP = 0.5
"""Seconds the deadline timer sleeps at most: a stepped wall clock is seen within this."""
BATCH = 2000
"""Deadlines handled between yields to the event loop (a restart after a long outage may find
every deadline passed at once)."""
RATE_BURST = 20
RATE_PER_S = 2.0
"""Per-token limit: bursts of 20 pings, 2 a second sustained; a heartbeat needs far less, and
a loop pinging per message must not cost the monitor its event loop."""


class PingOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    """Unknown token or suffix: answered 404, indistinguishable from any other miss."""
    RATE_LIMITED = "rate_limited"
    FOREIGN = "foreign"
    """A known token of a check another replica owns: the ping is theirs to record."""


def token_digest(token: str) -> bytes:
    """What indexes a token (and is all the store ever holds of it)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class PushWatcher:
    """Pings in, verdicts out, one record and one deadline per push check."""

    def __init__(
        self,
        apply: Apply,
        metrics: PushMetrics,
        clock: Callable[[], datetime],
        *,
        store: PushStore | None = None,
        scrub: Callable[[str], str] = lambda text: text,
        monotonic: Callable[[], float] = time.monotonic,
        batch: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        """`scrub` removes the config's secrets by value from a ping's evidence (a job that
        prints its own token, or another's, publishes nothing); `batch` wraps each batch of
        verdicts (the daemon recomputes each touched service once, at its end)."""
        self._apply = apply
        self._batch = batch
        self.store = store
        self._scrub = scrub
        self.metrics = metrics
        self.clock = clock
        self._monotonic = monotonic
        self.checks: dict[str, Check] = {}
        self.records: dict[str, PushRecord] = {}
        self.dirty: dict[str, PushRecord] = {}
        """Records changed since the last store flush (drained by the daemon's flush)."""
        self._by_digest: dict[bytes, str] = {}
        self._foreign: dict[str, Check] = {}
        self.peers_of: Callable[[Check], list[str]] = lambda check: []
        """Base URLs of the other replicas owning a check (set by a sharded daemon)."""
        self._deadline: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._bucket: dict[str, tuple[float, float]] = {}
        self._wake = asyncio.Event()
        self._armed_at = float("inf")
        self._task: asyncio.Task[None] | None = None

    # -- configuration -------------------------------------------------------------------

    def configure(self, checks: Iterable[Check], foreign: Iterable[Check] = ()) -> list[Check]:
        """Take the push checks among `checks` (this replica's own) and know the tokens of
        `foreign` ones (other replicas own them); records of unchanged checks are kept (a reload
        never resets a clock). Returns the push checks that are new or changed."""
        previous = self.checks
        self.checks = {c.id: c for c in checks if c.kind is CheckKind.PUSH and c.push}
        self._foreign = {
            c.id: c
            for c in foreign
            if c.kind is CheckKind.PUSH and c.push and c.id not in self.checks
        }
        self._by_digest = {
            token_digest(_spec(c).token.get_secret_value()): c.id
            for c in (*self.checks.values(), *self._foreign.values())
        }
        gone = [cid for cid in previous if cid not in self.checks]
        for check_id in gone:
            self.records.pop(check_id, None)
            self.dirty.pop(check_id, None)
            self._deadline.pop(check_id, None)
            self._bucket.pop(check_id, None)
            self.metrics.forget(previous[check_id])
        if gone and self.store is not None:  # a reload removed them: their pings go too
            self.store.forget(gone)
        fresh = [c for cid, c in self.checks.items() if previous.get(cid) != c]
        self.metrics.declare_many(fresh)
        return fresh

    def restore(self, records: Mapping[str, PushRecord]) -> None:
        """Records brought back from the store (before `start`)."""
        for check_id, record in records.items():
            if check_id in self.checks:
                self.records[check_id] = record
                if record.last_ping_at is not None:
                    self.metrics.restore(self.checks[check_id], record.last_ping_at)

    async def start(self) -> None:
        """Restore the pings, judge every push check now (a restart finds the late ones late
        at once, and the others keep their deadlines), then watch."""
        if self.store is not None and self.checks:
            self.restore(await asyncio.to_thread(self.store.load))
        await self.judge(list(self.checks.values()))
        self._task = asyncio.create_task(self._watch(), name="push-deadlines")

    def rejudge(self, checks: list[Check]) -> None:
        """Checks new or changed by a reload: their verdict under the new schedule, now."""
        if self._task is None:
            return
        now = self.clock()
        for check in checks:
            if check.id in self.checks:
                self._judge(check, now)

    def recheck(self, checks: Iterable[Check], after: float) -> None:
        """Failing push checks of a service whose alert waits for confirmation: observe their
        verdict again within `after` seconds, as a failing polled check is re-run, so a rule
        that counts observations (`for: 3`) confirms a silence as it confirms an outage."""
        at = self.clock().timestamp() + after
        for check in checks:
            current = self._deadline.get(check.id)
            if check.id in self.checks and (current is None or current > at):
                self._deadline[check.id] = at
                heapq.heappush(self._heap, (at, check.id))
                if at < self._armed_at:
                    self._wake.set()

    async def flush(self) -> None:
        """Write the records changed since the last flush; kept for the next on failure."""
        if self.store is None or not self.dirty:
            return
        dirty, self.dirty = self.dirty, {}
        rows = {
            cid: (token_digest(_spec(self.checks[cid]).token.get_secret_value()).hex(), record)
            for cid, record in dirty.items()
            if cid in self.checks
        }
        try:
            await asyncio.to_thread(self.store.save, rows)
        except Exception as exc:  # the pings wait for the next flush
            self.dirty = {**dirty, **self.dirty}
            structlog.get_logger("monitor").error("store.write_failed", error=str(exc)[:200])

    async def judge(self, checks: list[Check]) -> None:
        """Apply each check's verdict at the current time and arm its next deadline."""
        for start in range(0, len(checks), BATCH):
            now = self.clock()
            with self._batch():
                for check in checks[start : start + BATCH]:
                    self._judge(check, now)
            await asyncio.sleep(0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- pings ---------------------------------------------------------------------------

    def receive(
        self, token: str, suffix: str, evidence: str = ""
    ) -> tuple[PingOutcome, Check | None]:
        """One ping, and the check it is for (None when unknown). Never raises for what a
        client sends."""
        check_id = self._by_digest.get(token_digest(token))
        parsed = parse_signal(suffix)
        if check_id is None or parsed is None:
            self.metrics.unknown_token()
            return PingOutcome.UNKNOWN, None
        check = self.checks.get(check_id) or self._foreign[check_id]
        spec = _spec(check)
        if not hmac.compare_digest(token.encode(), spec.token.get_secret_value().encode()):
            self.metrics.unknown_token()  # a digest collision: not a real possibility
            return PingOutcome.UNKNOWN, None
        if not self._take(check_id):
            if check_id in self.checks:
                self.metrics.ping(check, "rate_limited")
            return PingOutcome.RATE_LIMITED, check
        if check_id not in self.checks:
            return PingOutcome.FOREIGN, check
        signal, exit_code = parsed
        now = self.clock()
        record, run_s = record_ping(
            self.records.get(check_id, PushRecord()), signal, now, exit_code, self._scrub(evidence)
        )
        self.records[check_id] = self.dirty[check_id] = record
        self.metrics.ping(check, _outcome(signal), now, run_s)
        self._judge(check, now)
        return PingOutcome.ACCEPTED, check

    def _take(self, check_id: str) -> bool:
        """Token bucket per check on the monotonic clock."""
        mono = self._monotonic()
        tokens, at = self._bucket.get(check_id, (float(RATE_BURST), mono))
        tokens = min(float(RATE_BURST), tokens + (mono - at) * RATE_PER_S)
        if tokens < 1.0:
            self._bucket[check_id] = (tokens, mono)
            return False
        self._bucket[check_id] = (tokens - 1.0, mono)
        return True

    # -- deadlines -----------------------------------------------------------------------

    def _judge(self, check: Check, now: datetime) -> None:
        spec = _spec(check)
        record = self.records.get(check.id, PushRecord())
        self._apply(check, push_verdict(spec, record, now), now)
        deadline = next_deadline(spec, record, now)
        if deadline is None:
            self._deadline.pop(check.id, None)
            return
        at = deadline.timestamp()
        self._deadline[check.id] = at
        heapq.heappush(self._heap, (at, check.id))
        if len(self._heap) > 2 * len(self._deadline) + 1024:  # superseded entries pile up
            self._heap = [(t, c) for c, t in self._deadline.items()]
            heapq.heapify(self._heap)
        if at < self._armed_at:
            self._wake.set()

    def pending(self) -> int:
        """Push checks with a deadline ahead (for /healthz and the bench)."""
        return len(self._deadline)

    async def _watch(self) -> None:
        while True:
            now = self.clock()
            stamp = now.timestamp()
            handled = 0
            while self._heap and self._heap[0][0] <= stamp:
                with self._batch():
                    while self._heap and self._heap[0][0] <= stamp:
                        at, check_id = heapq.heappop(self._heap)
                        if self._deadline.get(check_id) != at:
                            continue  # superseded by a later ping, or the check is gone
                        del self._deadline[check_id]
                        self._judge(self.checks[check_id], now)
                        handled += 1
                        if handled % BATCH == 0:
                            break
                if handled % BATCH == 0 and handled:
                    await asyncio.sleep(0)
                    now = self.clock()
                    stamp = now.timestamp()
            nap = MAX_NAP if not self._heap else min(MAX_NAP, max(0.0, self._heap[0][0] - stamp))
            self._armed_at = stamp + nap
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), nap)
            self._armed_at = float("inf")


def _spec(check: Check) -> PushSpec:
    assert check.push is not None, "push checks carry a PushSpec"
    return check.push


def _outcome(signal: Signal) -> str:
    return {Signal.SUCCESS: "success", Signal.FAIL: "fail", Signal.START: "start"}[signal]
