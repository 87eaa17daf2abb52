"""The daemon's HTTP face against many and against malformed clients, over real loopback sockets.

Anyone who reaches the port controls how many connections and what bytes arrive: none of it may
turn into log lines (a full disk), and a request that does not parse is a count on /metrics and
a debug event, never a traceback at ERROR.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import http_parser
from aiohttp.web_protocol import RequestHandler
from prometheus_client import CollectorRegistry

from monitor import __version__
from monitor.config import parse_config
from monitor.http.app import MAX_HEADER_FIELD, MAX_REQUEST_LINE, serve
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.runtime.daemon import Monitor

REQUESTS = 1000
CONCURRENCY = 50
PURE_PYTHON_PARSER = http_parser.HttpRequestParser is http_parser.HttpRequestParserPy
"""aiohttp's C parser limits the request target and a header's name + value; its pure-Python
fallback (AIOHTTP_NO_EXTENSIONS) the whole request line and the whole header line."""


@dataclass
class Daemon:
    host: str
    port: int
    registry: CollectorRegistry

    def bad_requests(self) -> float:
        value = self.registry.get_sample_value("monitor_http_bad_requests_total")
        assert value is not None, "monitor_http_bad_requests_total is exported from the start"
        return value


@pytest.fixture
async def daemon() -> AsyncIterator[Daemon]:
    config = parse_config("services:\n  - name: api\n    url: http://127.0.0.1:9/\n")
    registry = CollectorRegistry()
    monitor = Monitor(config, metrics=MonitorMetrics(registry, __version__))
    await monitor.start(schedule=False)
    runner, port = await serve(monitor, "127.0.0.1", 0)
    try:
        yield Daemon("127.0.0.1", port, registry)
    finally:
        await runner.cleanup()
        await monitor.stop()


LATENESS = {"monitor.loop_lag_high", "monitor.schedule_behind"}
"""The monitor's own lateness warnings (rate-limited; a loaded test machine triggers them)."""


@pytest.fixture
def events(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Everything logged, at every level: aiohttp's and asyncio's stdlib records (in `caplog`)
    and the monitor's structlog events but its lateness warnings (yielded)."""
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    caplog.set_level(logging.DEBUG, logger="asyncio")
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with structlog.testing.capture_logs() as captured:
            yield lambda: [e for e in captured if e["event"] not in LATENESS]
    finally:
        structlog.configure(**saved)


async def exchange(daemon: Daemon, raw: bytes) -> bytes:
    """Send raw bytes on a new connection; everything the server answers until it closes."""
    reader, writer = await asyncio.open_connection(daemon.host, daemon.port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()


def status_of(answer: bytes) -> int:
    assert answer.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), answer[:80]
    return int(answer.split(b" ", 2)[1])


def records(caplog: pytest.LogCaptureFixture, level: int = logging.DEBUG) -> list[str]:
    return [
        f"{r.name} {r.levelname} {r.getMessage()}" for r in caplog.records if r.levelno >= level
    ]


async def test_a_thousand_connections_write_no_log_line(
    daemon: Daemon, caplog: pytest.LogCaptureFixture, events: Callable[[], list[dict[str, Any]]]
) -> None:
    url = f"http://{daemon.host}:{daemon.port}/healthz"
    gate = asyncio.Semaphore(CONCURRENCY)
    connector = aiohttp.TCPConnector(force_close=True)  # a new connection for every request

    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> int:
            async with gate, session.get(url) as response:
                await response.read()
                return response.status

        statuses = await asyncio.gather(*(one() for _ in range(REQUESTS)))
    assert set(statuses) == {503}  # /healthz: the scheduler is not running in this test
    assert records(caplog) == [], records(caplog)[:3]
    assert events() == []


def request_with_target(length: int) -> bytes:
    """A request whose target is `length` bytes."""
    path = b"/healthz?pad=" + b"a" * (length - len(b"/healthz?pad="))
    return b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def request_with_header(length: int) -> bytes:
    """A request with a header value of `length` bytes (not the first header: see below)."""
    pad = b"X-Pad: " + b"a" * length
    return b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + pad + b"\r\nConnection: close\r\n\r\n"


# Sizes as each parser counts them. The C parser: the request target, and a header's value (its
# name too for the first header only: aiohttp 3.14.5 resets the name's size while it stores the
# header before); the pure-Python one: the whole request line, the whole header line.
LINE_OVERHEAD = len(b"GET  HTTP/1.1") if PURE_PYTHON_PARSER else 0
FIELD_OVERHEAD = len(b"X-Pad: ") if PURE_PYTHON_PARSER else 0


@pytest.mark.parametrize(
    ("build", "limit"),
    [
        (request_with_target, MAX_REQUEST_LINE - LINE_OVERHEAD),
        (request_with_header, MAX_HEADER_FIELD - FIELD_OVERHEAD),
    ],
    ids=["request_line", "header_field"],
)
async def test_a_line_of_exactly_the_limit_passes_and_one_byte_more_gets_400(
    daemon: Daemon, build: Any, limit: int, caplog: pytest.LogCaptureFixture
) -> None:
    assert status_of(await exchange(daemon, build(limit))) == 503  # /healthz answered
    assert status_of(await exchange(daemon, build(limit + 1))) == 400
    assert daemon.bad_requests() == 1
    assert records(caplog, logging.WARNING) == []


def tls_client_hello() -> bytes:
    """The first bytes a TLS client sends, as a client that mistook the port for https's."""
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="monitor.example")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


GARBAGE = {
    "over_long_header": request_with_header(MAX_HEADER_FIELD + 1),
    "binary_garbage": bytes(range(256)) + b"\r\n\r\n",
    "bad_http_version": b"GET /healthz HTTP/1.x\r\nHost: x\r\nConnection: close\r\n\r\n",
    "lf_only_and_no_version": b"GET /healthz\n\n",
    "tls_client_hello": tls_client_hello(),
    "second_request_bad": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBREW /pot HTCPCP/1.0\r\n\r\n",
    # refused (no admin token), then the body aiohttp drains before closing does not inflate
    "body_not_gzip": b"POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
    b"Content-Length: 5\r\nConnection: close\r\n\r\nxxxxx",
}
ANSWER = {"body_not_gzip": b" 403 Forbidden\r\n"}


@pytest.mark.parametrize("name", list(GARBAGE))
async def test_a_bad_request_is_a_count_and_a_debug_event_not_an_error(
    daemon: Daemon,
    caplog: pytest.LogCaptureFixture,
    events: Callable[[], list[dict[str, Any]]],
    name: str,
) -> None:
    assert daemon.bad_requests() == 0
    answer = await exchange(daemon, GARBAGE[name])
    assert ANSWER.get(name, b" 400 Bad Request\r\n") in answer
    assert daemon.bad_requests() == 1
    assert records(caplog, logging.WARNING) == [], records(caplog)
    logged = events()
    assert [e["event"] for e in logged] == ["http.bad_request"]
    assert logged[0]["log_level"] == "debug" and set(logged[0]) == {
        "event", "log_level", "error", "status", "peer",
    }  # fmt: skip
    assert all("Traceback" not in r.getMessage() for r in caplog.records)


async def test_the_bad_request_counter_is_exported_at_zero(daemon: Daemon) -> None:
    url = f"http://{daemon.host}:{daemon.port}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    assert "\nmonitor_http_bad_requests_total 0.0\n" in text


async def test_bad_requests_leave_nothing_for_the_collector(daemon: Daemon) -> None:
    """A parse error's traceback holds the connection that read it (a cycle): with the collector
    as rare as `monitor run` makes it (gc_policy.py), a stream of garbage would pile them up."""
    gc.collect()
    gc.disable()
    try:
        for name in ("binary_garbage", "over_long_header", "tls_client_hello"):
            for _ in range(30):
                await exchange(daemon, GARBAGE[name])
        live = sum(1 for o in gc.get_objects() if isinstance(o, RequestHandler))
    finally:
        gc.enable()
    assert daemon.bad_requests() == 90
    assert live <= 2, f"{live} server connections alive after 90 bad requests"
