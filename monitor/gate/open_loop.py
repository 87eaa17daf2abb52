"""The open-loop load generator: requests leave on a fixed schedule whatever earlier ones do.

Keeping the schedule is the whole job, so the sender is a loop callback, not a task per
request. asyncio (and uvloop) wake timers with ~1 ms resolution, late as often as not, and a
request that leaves 0.6 ms late is 0.6 ms of latency charged to the server. So the sender asks
to be woken `WAKE_EARLY_S` before the next request is due and sleeps the rest precisely
(`time.sleep`, nanosecond clock, no spinning). Between two sends it yields once, so the loop
reads the answers that came in; those are stamped by the kernel as they arrive
(StampedTransport), so reading them a little later costs nothing in accuracy.

When no connection is idle a new one is opened, up to `plan.connections`; beyond that the
request waits for the first free one (still timed from its intended time) and is counted as
having waited: a run whose p99 send lag exceeds the slack fails as "connections exhausted"
or "short of CPU" (gate/load.py). Every answer is judged by the normalizer; identical answers
(same head but for Date, same body) are judged once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import re
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from monitor.answer import Answer, TransportError
from monitor.gate.connection import Exchange, Http1Connection, build_request
from monitor.gate.load import LoadPlan, LoadRecorder
from monitor.model import Status
from monitor.normalize import normalize_response
from monitor.probes.stamped_transport import stamped_connection
from monitor.probes.timing import tls_connection

WAKE_EARLY_S = 0.0015
"""Timers fire up to ~1 ms late: wake this much before a request is due, sleep the rest."""
HOUSEKEEPING_S = 0.05
"""How often timeouts are checked and the progress callback runs."""
_VERDICT_CACHE = 1024
_DATE = re.compile(r"(?im)^date:.*$")


class LoadTargetError(Exception):
    """The target cannot be load tested at all (bad URL, no address): exit 2."""


class OpenLoopGenerator:
    """Runs one plan. `progress(recorder, elapsed_s)` is called about every 50 ms."""

    def __init__(
        self,
        plan: LoadPlan,
        *,
        progress: Callable[[LoadRecorder, float], None] = lambda _r, _e: None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(plan.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LoadTargetError(f"expected an http:// or https:// URL, got {plan.url!r}")
        self.plan = plan
        self.progress = progress
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.tls = (tls or ssl.create_default_context()) if parts.scheme == "https" else None
        try:
            self.request = build_request(plan.url, plan.method, plan.headers, plan.body)
        except ValueError as exc:
            raise LoadTargetError(str(exc)) from None
        self.idle: list[Http1Connection] = []
        self.busy: dict[Http1Connection, None] = {}  # insertion order: oldest request first
        self.opening = 0
        self.connections_used = 0
        self.waiting: collections.deque[tuple[int, float, bool]] = collections.deque()
        """Requests due with no idle connection: (index, intended, the pool was full)."""
        self.start = 0.0
        self.recorder = LoadRecorder(0.0)
        self._verdicts: dict[tuple[int | None, str, bytes, bool], str | None] = {}
        self._next = 0
        self._end = plan.warmup_requests + plan.measured_requests
        self._addr: tuple[Any, ...] = ()
        self._family = socket.AF_INET
        self._done: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the run -----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> tuple[float, bool]:
        """Send the plan; returns (measured seconds elapsed, interrupted). `stop` ends it early:
        no new request leaves, those in flight get up to the timeout to answer."""
        loop = self._loop = asyncio.get_running_loop()
        await self._resolve(loop)
        ready = min(self.plan.connections, max(4, round(self.plan.rate * 0.02)))
        self.opening += ready  # open before the first request is due, all at once
        await asyncio.gather(*(self._open() for _ in range(ready)))
        self.start = time.perf_counter() + 0.05
        measured_start = self.plan.intended(self.plan.warmup_requests, self.start)
        self.recorder = LoadRecorder(measured_start)
        self._done = loop.create_future()
        loop.call_soon(self._send_due)
        housekeeping = loop.create_task(self._housekeeping())
        stopper = loop.create_task(stop.wait()) if stop is not None else None
        try:
            waiters: set[asyncio.Future[Any]] = {self._done}
            if stopper is not None:
                waiters.add(stopper)
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            interrupted = not self._done.done()
            sending_ended = time.perf_counter()
            self._end = min(self._end, self._next)  # nothing more is due
            if interrupted:  # Ctrl-C: a partial result now, of what had left
                self.waiting.clear()
            await self._drain(sending_ended + (1.0 if interrupted else self.plan.timeout))
        finally:
            housekeeping.cancel()
            if stopper is not None:
                stopper.cancel()
            self._close_all()
            await asyncio.sleep(0)  # their connection_lost callbacks close the sockets
        measured_end = self.plan.intended(self._end, self.start)
        return max(0.0, min(measured_end, sending_ended) - measured_start), interrupted

    async def _drain(self, deadline: float) -> None:
        """Wait for the answers in flight, and for connections for the requests still
        waiting, until `deadline`; what is still out then is a timeout."""
        while (self.busy or self.opening or self.waiting) and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        while self.waiting:
            index, intended, _ = self.waiting.popleft()
            self._failed((index, intended), TransportError.TIMEOUT.value)
        self._expire(float("inf"))

    async def _resolve(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise LoadTargetError(f"cannot resolve {self.host}: {exc}") from None
        family, _, _, _, addr = infos[0]
        self._family, self._addr = family, addr

    # -- sending on schedule -------------------------------------------------------------------

    def _send_due(self) -> None:
        loop, plan = self._loop, self.plan
        assert loop is not None
        if self._next >= self._end:
            if self._done is not None and not self._done.done():
                self._done.set_result(None)
            return
        due = plan.intended(self._next, self.start)
        ahead = due - time.perf_counter()
        if ahead > WAKE_EARLY_S:
            loop.call_later(ahead - WAKE_EARLY_S, self._send_due)
            return
        if ahead > 0:
            time.sleep(ahead)
        now = time.perf_counter()
        while self._next < self._end and due <= now:
            self._launch(self._next, due)
            self._next += 1
            due = plan.intended(self._next, self.start)
        loop.call_soon(self._send_due)  # read what came in before waiting for the next

    def _launch(self, index: int, intended: float) -> None:
        while self.idle and self.idle[-1].closed:  # the server closed it while idle
            self.idle.pop()
            self.connections_used -= 1
        if self.idle:
            self._send(self.idle.pop(), index, intended, waited=False)
        else:
            # First free wins: an answer that comes in, or the connection opened for it.
            at_cap = self.connections_used + self.opening >= self.plan.connections
            self.waiting.append((index, intended, at_cap))
            if not at_cap:
                self._spawn_open()
        self._keep_spares()

    def _keep_spares(self) -> None:
        """Open connections ahead of need: a connect on the hot path made requests wait for
        it (~3 ms on a busy machine) whenever the server held a few more than usual."""
        spare = max(4, math.ceil(self.plan.rate * 0.005))
        while (
            len(self.idle) + self.opening < spare
            and self.connections_used + self.opening < self.plan.connections
        ):
            self._spawn_open()

    def _spawn_open(self) -> None:
        self.opening += 1  # counted now, so that one tick does not open a connection twice
        self._loop.create_task(self._open())  # type: ignore[union-attr]

    def _send(self, conn: Http1Connection, index: int, intended: float, waited: bool) -> None:
        sent = time.perf_counter()
        self.busy[conn] = None
        conn.send(Exchange(index, intended, sent), self.request)
        if index >= self.plan.warmup_requests:
            self.recorder.record_sent(intended, sent, waited)

    async def _open(self) -> None:
        """A new connection for the first request waiting, or for the idle pool. The caller
        has counted it in `opening`."""
        loop = self._loop
        assert loop is not None
        sock = socket.socket(self._family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            async with asyncio.timeout(self.plan.timeout):
                await loop.sock_connect(sock, self._addr)
                conn = self._protocol()
                if self.tls is None:
                    stamped_connection(loop, sock, lambda: conn)
                else:
                    options = {"server_hostname": self.host}
                    await tls_connection(loop, sock, lambda: conn, self.tls, options)
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            sock.close()
            self.opening -= 1
            if not self.connections_used:  # nothing else will serve them
                for _ in range(len(self.waiting) if not self.opening else 1):
                    if self.waiting:
                        index, intended, _ = self.waiting.popleft()
                        self._failed((index, intended), _connect_error(exc))
            return
        self.opening -= 1
        self.connections_used += 1
        self._free(conn)

    def _protocol(self) -> Http1Connection:
        return Http1Connection(
            self.plan.url,
            self.plan.method == "HEAD",
            self.plan.max_body_bytes,
            self._on_answer,
            self._on_failure,
        )

    def _free(self, conn: Http1Connection) -> None:
        self.busy.pop(conn, None)
        if conn.closed:
            self.connections_used -= 1
            if self.waiting:  # its place goes to a new connection for the next in line
                self._spawn_open()
            return
        if self.waiting:
            index, intended, at_cap = self.waiting.popleft()
            self._send(conn, index, intended, waited=at_cap)
        else:
            self.idle.append(conn)

    # -- answers ---------------------------------------------------------------------------------

    def _on_answer(
        self, conn: Http1Connection, exchange: Exchange, answer: Answer, received: float
    ) -> None:
        if exchange.index >= self.plan.warmup_requests:
            self.recorder.record_answer(
                exchange.intended, exchange.sent, received, self._error_of(answer)
            )
        self._free(conn)

    def _on_failure(
        self, conn: Http1Connection, exchange: Exchange, error: TransportError, detail: str
    ) -> None:
        self._failed((exchange.index, exchange.intended), error.value)
        self._free(conn)

    def _failed(self, request: tuple[int, float], error: str) -> None:
        index, intended = request
        if index >= self.plan.warmup_requests:
            self.recorder.record_failure(intended, error)

    def _error_of(self, answer: Answer) -> str | None:
        """The normalizer's reason when the answer is degraded or unhealthy, else None."""
        head = _DATE.sub("", "\n".join(f"{k}:{v}" for k, v in answer.headers.items()))
        key = (answer.status_code, head, answer.body, answer.truncated)
        if key in self._verdicts:
            return self._verdicts[key]
        verdict = normalize_response(answer)
        bad = verdict.status in (Status.DEGRADED, Status.UNHEALTHY)
        if len(self._verdicts) >= _VERDICT_CACHE:
            self._verdicts.clear()
        self._verdicts[key] = error = verdict.reason.value if bad else None
        return error

    # -- timeouts and the end ------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            now = time.perf_counter()
            self._expire(now - self.plan.timeout)
            self.progress(self.recorder, max(0.0, now - self.recorder.start))

    def _expire(self, sent_before: float) -> None:
        """Fail the requests sent before `sent_before` that are still unanswered."""
        for conn in list(self.busy):
            exchange = conn.exchange
            if exchange is None:
                continue
            if exchange.sent >= sent_before:
                break  # busy is in send order
            conn.exchange = None
            conn.closed = True
            if conn.transport is not None:
                conn.transport.abort()
            self._failed((exchange.index, exchange.intended), TransportError.TIMEOUT.value)
            self._free(conn)

    def _close_all(self) -> None:
        for conn in [*self.idle, *self.busy]:
            conn.exchange = None
            if conn.transport is not None:
                with contextlib.suppress(Exception):
                    conn.transport.abort()
        self.idle.clear()
        self.busy.clear()


def _connect_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return TransportError.TIMEOUT.value
    if isinstance(exc, ConnectionRefusedError):
        return TransportError.CONNECTION_REFUSED.value
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TransportError.TLS_CERTIFICATE_UNTRUSTED.value
    if isinstance(exc, ssl.SSLError):
        return TransportError.TLS_ERROR.value
    return TransportError.CONNECTION_ERROR.value
