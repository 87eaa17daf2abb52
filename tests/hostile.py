"""A corpus of misbehaving services on loopback, shared by the tests and the soak benchmark.

aiohttp's server is too well-behaved to reset mid-headers or break chunking, so most cases are
raw asyncio servers that write HTTP by hand; one server dispatches on the request path, and two
TLS servers present a self-signed and an expired certificate made at start-up.

    async with HostileCorpus() as corpus:
        for case in corpus.cases: ...  # HostileCase(name, url, expected_status, ...)

Every case says what the monitor must conclude (`expected_status`, `expected_reason`) and
whether the answer can only come from the deadline (`times_out`). Nothing is ever
materialised: the 1 GB body is written chunk by chunk, the gzip bomb is ~100 KB on the wire.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import socket
import ssl
import struct
import tempfile
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from monitor.model import Reason, Status
from tests.certs import CertificateAuthority

Writer = asyncio.StreamWriter
Reader = asyncio.StreamReader
Handler = Callable[[Reader, Writer, bytes], Awaitable[None]]

GIB = 1 << 30
BOMB_INFLATED = 100 << 20
DNS_FAILURE_HOST = "monitor-hostile.invalid"  # RFC 2606: never resolves
_OK = b'{"status":"ok"}'


@dataclass(frozen=True, slots=True)
class HostileCase:
    """One misbehaving endpoint and the verdict the monitor must reach for it."""

    name: str
    base_url: str
    path: str
    expected_status: Status
    expected_reason: Reason
    description: str
    times_out: bool = False
    """The verdict can only come from the total deadline (elapsed ~ timeout)."""
    warmup: int = 0
    """Checks to run (and see healthy) before the one judged: keep-alive reuse needs one."""

    @property
    def url(self) -> str:
        return self.base_url + self.path


@functools.cache
def gzip_bomb(inflated: int = BOMB_INFLATED) -> bytes:
    """`inflated` zero bytes, gzip-compressed (~1000:1), built once per process."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(inflated // len(block))]
    parts.append(packer.flush())
    return b"".join(parts)


def _head(status: str, *headers: str, version: str = "HTTP/1.1", keep_alive: bool = False) -> bytes:
    """A status line and headers; `Connection: close` unless asked, since each raw handler
    serves one request per connection."""
    extra = () if keep_alive or version == "HTTP/1.0" else ("Connection: close",)
    lines = [f"{version} {status}", *headers, *extra, "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _reset(writer: Writer) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed process or a middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _answer(writer: Writer, head: bytes, body: bytes = b"") -> None:
    writer.write(head + body)
    await writer.drain()


def _json_head(
    length: int, content_type: str = "application/json", *, keep_alive: bool = False
) -> bytes:
    return _head(
        "200 OK",
        f"Content-Type: {content_type}",
        f"Content-Length: {length}",
        keep_alive=keep_alive,
    )


async def _slow_loris(_r: Reader, w: Writer, _req: bytes) -> None:
    await _answer(w, _json_head(len(_OK)))
    for byte in _OK:  # 1 byte/s: never trips a read-idle timeout, only a total deadline
        await _answer(w, b"", bytes([byte]))
        await asyncio.sleep(1.0)  # the served behaviour


async def _huge_body(_r: Reader, w: Writer, _req: bytes) -> None:
    await _answer(w, _json_head(GIB))
    chunk = b" " * 65536
    for _ in range(GIB // len(chunk)):
        await _answer(w, b"", chunk)


async def _gzip_bomb(_r: Reader, w: Writer, _req: bytes) -> None:
    bomb = gzip_bomb()
    head = _head(
        "200 OK",
        "Content-Type: application/json",
        "Content-Encoding: gzip",
        f"Content-Length: {len(bomb)}",
    )
    await _answer(w, head, bomb)


def _fixed(body: bytes, content_type: str) -> Handler:
    async def handler(_r: Reader, w: Writer, _req: bytes) -> None:
        await _answer(w, _json_head(len(body), content_type), body)

    return handler


def _redirect(location: Callable[[], str]) -> Handler:
    async def handler(_r: Reader, w: Writer, _req: bytes) -> None:
        head = _head("302 Found", f"Location: {location()}", "Content-Length: 0")
        await _answer(w, head)

    return handler


async def _reset_mid_headers(_r: Reader, w: Writer, _req: bytes) -> None:
    await _answer(w, b"HTTP/1.1 200 OK\r\nContent-Type: appli")
    _reset(w)


async def _reset_mid_body(_r: Reader, w: Writer, _req: bytes) -> None:
    await _answer(w, _json_head(1000), b'{"status":')
    _reset(w)


async def _short_body(_r: Reader, w: Writer, _req: bytes) -> None:
    await _answer(w, _json_head(1000), b'{"status":"ok"}')
    w.close()  # a clean FIN, 985 bytes early


async def _http10_close_delimited(_r: Reader, w: Writer, _req: bytes) -> None:
    await _answer(w, _head("200 OK", "Content-Type: application/json", version="HTTP/1.0"), _OK)
    w.close()  # the end of the connection is the end of the body


async def _broken_chunked(_r: Reader, w: Writer, _req: bytes) -> None:
    head = _head("200 OK", "Content-Type: application/json", "Transfer-Encoding: chunked")
    await _answer(w, head, b"f\r\n" + _OK + b"\r\nZZ-not-hex\r\n\r\n")


async def _not_http(_r: Reader, w: Writer, _req: bytes) -> None:
    await _answer(w, b"SSH-2.0-OpenSSH_9.6\r\n\r\n")


async def _never_answers(_r: Reader, _w: Writer, _req: bytes) -> None:
    await asyncio.Event().wait()


async def _keepalive_hang(r: Reader, w: Writer, _req: bytes) -> None:
    """The first request on a connection is answered and the connection kept; the next one on
    the same connection hangs forever, as a wedged worker behind a pooled socket does."""
    await _answer(w, _json_head(len(_OK), keep_alive=True), _OK)
    await _read_head(r)
    await asyncio.Event().wait()


async def _read_head(reader: Reader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


class HostileCorpus:
    """Start every hostile server on loopback; `cases` lists them with their expected verdicts."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.ca = CertificateAuthority()
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[Writer] = set()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._port = 0
        self._tls: dict[str, int] = {}
        self.cases: list[HostileCase] = []
        self.requests: collections.deque[bytes] = collections.deque(maxlen=256)
        """The latest request heads, for tests that check what the monitor sent."""

    def client_ssl_context(self) -> ssl.SSLContext:
        """Trusts the corpus's own CA, so an expired leaf is reported as expired, not as
        'unknown issuer' (OpenSSL reports the first problem it meets)."""
        return self.ca.client_context()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    def _routes(self) -> dict[str, Handler]:
        return {
            "/slow-loris": _slow_loris,
            "/huge-body": _huge_body,
            "/gzip-bomb": _gzip_bomb,
            "/invalid-json": _fixed(b'{"status": "ok", "db": ', "application/json"),
            "/html-as-json": _fixed(b"<html><body>It works!</body></html>", "application/json"),
            "/json-as-png": _fixed(_OK, "image/png"),
            "/json-as-html": _fixed(_OK, "text/html"),
            "/non-utf8": _fixed(b"status: \xff\xfe\xc3(ok", "text/plain; charset=utf-8"),
            "/redirect-loop": _redirect(lambda: "/redirect-loop"),
            "/redirect-away": _redirect(lambda: f"http://localhost:{self._port}/health"),
            "/reset-mid-headers": _reset_mid_headers,
            "/reset-mid-body": _reset_mid_body,
            "/short-body": _short_body,
            "/http10-close": _http10_close_delimited,
            "/broken-chunked": _broken_chunked,
            "/not-http": _not_http,
            "/never-answers": _never_answers,
            "/keepalive-hang": _keepalive_hang,
            "/health": _fixed(_OK, "application/json"),
        }

    async def _serve(self, reader: Reader, writer: Writer) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        routes = self._routes()
        try:
            head = await _read_head(reader)
            self.requests.append(head)
            path = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else "/"
            handler = routes.get(path.split("?", 1)[0])
            if handler is None:
                await _answer(writer, _head("404 Not Found", "Content-Length: 0"))
            else:
                await handler(reader, writer, head)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the monitor hung up first: exactly what it should do
        except asyncio.CancelledError:
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="hostile-")
        tmp = Path(self._tmp.name)
        server = await asyncio.start_server(self._serve, self.host, 0)
        self._servers.append(server)
        self._port = server.sockets[0].getsockname()[1]
        for kind in ("self-signed", "expired"):
            context = self.ca.server_context(kind, tmp)
            tls = await asyncio.start_server(self._serve, self.host, 0, ssl=context)
            self._servers.append(tls)
            self._tls[kind] = tls.sockets[0].getsockname()[1]
        self.cases = self._cases()

    def _cases(self) -> list[HostileCase]:
        u, d, h = Status.UNHEALTHY, Status.DEGRADED, Status.HEALTHY
        base = self.base_url
        table: list[HostileCase] = [
            HostileCase("slow_loris", base, "/slow-loris", u, Reason.TIMEOUT,
                        "200 with Content-Length, body trickled at 1 byte/s", times_out=True),
            HostileCase("huge_body", base, "/huge-body", d, Reason.BODY_TOO_LARGE,
                        "200 application/json declaring and streaming 1 GiB"),
            HostileCase("gzip_bomb", base, "/gzip-bomb", d, Reason.BODY_TOO_LARGE,
                        f"~{len(gzip_bomb()) // 1024} KiB gzip inflating to 100 MiB"),
            HostileCase("invalid_json", base, "/invalid-json", d, Reason.INVALID_JSON,
                        "200 application/json, truncated JSON"),
            HostileCase("html_labelled_json", base, "/html-as-json", d, Reason.INVALID_JSON,
                        "200 application/json whose body is an HTML page"),
            HostileCase("json_labelled_png", base, "/json-as-png", d,
                        Reason.UNEXPECTED_CONTENT_TYPE, '200 image/png, body {"status":"ok"}'),
            HostileCase("json_labelled_html", base, "/json-as-html", h, Reason.OK,
                        '200 text/html whose body is {"status":"ok"} (read leniently)'),
            HostileCase("non_utf8", base, "/non-utf8", d, Reason.INVALID_ENCODING,
                        "200 text/plain; charset=utf-8 with invalid UTF-8 bytes"),
            HostileCase("redirect_loop", base, "/redirect-loop", u, Reason.TOO_MANY_REDIRECTS,
                        "302 to itself, forever"),
            HostileCase("redirect_other_host", base, "/redirect-away", d,
                        Reason.UNEXPECTED_REDIRECT, "302 from 127.0.0.1 to localhost"),
            HostileCase("reset_mid_headers", base, "/reset-mid-headers", u,
                        Reason.CONNECTION_RESET, "TCP RST halfway through the headers"),
            HostileCase("reset_mid_body", base, "/reset-mid-body", u, Reason.CONNECTION_RESET,
                        "TCP RST after 10 of 1000 body bytes"),
            HostileCase("short_body", base, "/short-body", u, Reason.PROTOCOL_ERROR,
                        "clean close after 15 of 1000 declared body bytes"),
            HostileCase("http10_close_delimited", base, "/http10-close", h, Reason.OK,
                        "HTTP/1.0, no Content-Length, body ends at close (valid HTTP)"),
            HostileCase("broken_chunked", base, "/broken-chunked", u, Reason.PROTOCOL_ERROR,
                        "chunked encoding with a chunk size that is not hex"),
            HostileCase("not_http", base, "/not-http", u, Reason.PROTOCOL_ERROR,
                        "an SSH banner instead of an HTTP status line"),
            HostileCase("never_answers", base, "/never-answers", u, Reason.TIMEOUT,
                        "accepts, reads the request, never writes", times_out=True),
            HostileCase("dns_failure", f"http://{DNS_FAILURE_HOST}", "/health", u,
                        Reason.DNS_FAILURE, "a .invalid host name (RFC 2606)"),
            HostileCase("tls_self_signed", f"https://{self.host}:{self._tls['self-signed']}",
                        "/health", u, Reason.TLS_CERTIFICATE_UNTRUSTED,
                        "TLS with a self-signed certificate"),
            HostileCase("tls_expired", f"https://{self.host}:{self._tls['expired']}", "/health",
                        u, Reason.TLS_CERTIFICATE_EXPIRED,
                        "TLS with a certificate from a trusted CA that expired yesterday"),
            HostileCase("keepalive_hang", base, "/keepalive-hang", u, Reason.TIMEOUT,
                        "200, then hangs on the next request on the same kept-alive connection",
                        times_out=True, warmup=1),
        ]  # fmt: skip
        return table

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> HostileCorpus:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
