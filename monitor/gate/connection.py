"""A minimal HTTP/1.1 client connection for the load generator: one request at a time on a
keep-alive connection, the request bytes built once, the answer parsed as it arrives.

Why not aiohttp: at a fixed schedule every microsecond between "due" and "written" is
latency charged to the server. aiohttp builds a request object, takes a pooled connection and
wakes a task per request (~100 us of CPU, and the write happens whenever that task runs); here
the scheduler writes prebuilt bytes to an idle socket in its own callback (measured in
docs/benchmarks.md). The connection runs on the probes' `StampedTransport`, so an answer's
time is the kernel's receive time of its last bytes, not when the busy loop got round to it.

Not a general client: no redirects (requests go to the one host given, nothing else), no
compression asked for, no pipelining; a 1xx is skipped; a body beyond the cap ends the answer
(`truncated`, as the probe does) and its connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.answer import Answer, TransportError

USER_AGENT = "fleet-monitor/0.1 (+load gate)"
_MAX_HEAD = 64 * 1024


def build_request(
    url: str, method: str, headers: tuple[tuple[str, str], ...], body: bytes
) -> bytes:
    """The request's bytes, built once for the whole run. Raises ValueError for a header that
    would break the framing or point the request at another host."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc.rpartition('@')[2]}"]
    names = {name.lower() for name, _ in headers}
    if "host" in names:
        raise ValueError("a Host header is not allowed: requests go only to the URL's host")
    if names & {"content-length", "transfer-encoding", "connection"}:
        raise ValueError("Content-Length, Transfer-Encoding and Connection are set by the tool")
    if "user-agent" not in names:
        lines.append(f"User-Agent: {USER_AGENT}")
    if "accept" not in names:
        lines.append("Accept: */*")
    for name, value in headers:
        if any(c in name + value for c in "\r\n\0"):
            raise ValueError(f"header {name!r}: line breaks are not allowed")
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(slots=True)
class Exchange:
    """One request in flight: its index in the schedule and its times (perf_counter s)."""

    index: int
    intended: float
    sent: float


class Http1Connection(asyncio.Protocol):
    """Calls `on_answer(self, exchange, answer, received_at)` once per complete answer and
    `on_failure(self, exchange, error, detail)` when the connection dies under a request."""

    def __init__(
        self,
        url: str,
        head_only: bool,
        max_body_bytes: int,
        on_answer: Callable[[Http1Connection, Exchange, Answer, float], None],
        on_failure: Callable[[Http1Connection, Exchange, TransportError, str], None],
    ) -> None:
        self.url = url
        self.head_only = head_only
        self.max_body_bytes = max_body_bytes
        self.on_answer = on_answer
        self.on_failure = on_failure
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.closed = False
        self._reset_answer()

    def _reset_answer(self) -> None:
        self._buffer = bytearray()
        self._status: int | None = None
        self._headers: dict[str, str] = {}
        self._body = bytearray()
        self._remaining = -1  # body bytes still due; -1: until close; -2: chunked
        self._truncated = False
        self._keep_alive = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, exchange: Exchange, request: bytes) -> None:
        assert self.transport is not None and self.exchange is None
        self.exchange = exchange
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        if self.exchange is None:
            self._fail(TransportError.PROTOCOL_ERROR, "data before any request")
            return
        self._buffer += data
        try:
            done = self._parse()
        except ValueError as exc:
            self._fail(TransportError.PROTOCOL_ERROR, str(exc))
            return
        if done:
            self._complete()

    def eof_received(self) -> bool | None:
        if self.exchange is not None and self._status is not None and self._remaining == -1:
            self._complete()  # a body delimited by the close
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.exchange is not None:
            error = TransportError.CONNECTION_RESET
            detail = "the server closed the connection before answering"
            if exc is not None:
                detail = str(exc) or type(exc).__name__
            self._fail(error, detail)

    def _fail(self, error: TransportError, detail: str) -> None:
        exchange, self.exchange = self.exchange, None
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        if exchange is not None:
            self.on_failure(self, exchange, error, detail)

    def _complete(self) -> None:
        exchange, self.exchange = self.exchange, None
        assert exchange is not None and self.transport is not None
        received = self.transport.get_extra_info("received_at") or time.perf_counter()
        answer = Answer(
            url=self.url,
            status_code=self._status,
            headers=self._headers,
            body=bytes(self._body),
            truncated=self._truncated,
            body_cap=self.max_body_bytes if self._truncated else 0,
            duration_s=received - exchange.sent,
            final_url=self.url,
        )
        leftover = bytes(self._buffer)
        keep_alive = self._keep_alive
        self._reset_answer()
        if leftover or not keep_alive:
            self.closed = True
            self.transport.close()
        self.on_answer(self, exchange, answer, received)

    # -- parsing ---------------------------------------------------------------------------

    def _parse(self) -> bool:
        """True when the answer is complete; ValueError when it is not HTTP/1.x."""
        while self._status is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > _MAX_HEAD:
                    raise ValueError("response head larger than 64 KiB")
                return False
            head = bytes(self._buffer[:end]).decode("latin-1")
            del self._buffer[: end + 4]
            status = self._head(head)
            if 100 <= status < 200:
                continue  # 100 Continue and alike: the real answer follows
            self._status = status
            if self.head_only or status in (204, 304):
                self._remaining = 0
        if self._remaining == -2:
            done = self._chunks()
        elif self._remaining == -1:
            self._take(len(self._buffer))
            done = False
        else:
            self._take(min(self._remaining, len(self._buffer)))
            done = self._remaining == 0
        if self._truncated:  # over the cap: judged as it is, the rest is not read
            self._keep_alive = False
            self._buffer.clear()
            return True
        return done

    def _head(self, head: str) -> int:
        status_line, *lines = head.split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
            raise ValueError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        headers: dict[str, str] = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"malformed header line: {line[:80]!r}")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self._headers = headers
        connection = headers.get("connection", "").lower()
        self._keep_alive = "close" not in connection and (
            version != "HTTP/1.0" or "keep-alive" in connection
        )
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._remaining = -2
        elif "content-length" in headers:
            length = headers["content-length"].split(",")[0].strip()
            if not length.isdigit():
                raise ValueError(f"bad Content-Length {length[:40]!r}")
            self._remaining = int(length)
        else:
            self._remaining = -1
            self._keep_alive = False
        return int(rest[:3])

    def _take(self, n: int) -> None:
        """Move `n` buffered bytes into the body, keeping at most the cap."""
        room = self.max_body_bytes - len(self._body)
        if n > room:
            self._truncated = True
        if room > 0:
            self._body += self._buffer[: min(n, room)]
        del self._buffer[:n]
        if self._remaining > 0:
            self._remaining -= n

    def _chunks(self) -> bool:
        buffer = self._buffer
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                return False
            size_text = bytes(buffer[:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ValueError(f"bad chunk size {size_text[:20]!r}") from None
            if size == 0:
                trailer_end = buffer.find(b"\r\n\r\n", line_end)
                if trailer_end == line_end:  # no trailers: "0\r\n\r\n"
                    del buffer[: line_end + 4]
                    return True
                if trailer_end < 0:
                    return False
                del buffer[: trailer_end + 4]
                return True
            if len(buffer) < line_end + 2 + size + 2:
                return False
            del buffer[: line_end + 2]
            self._take(size)
            del buffer[:2]
