"""The HTTP probe against real loopback servers that misbehave on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from monitor.answer import Answer, TransportError
from monitor.config import Check
from monitor.model import CheckKind, Reason, Status
from monitor.normalize import normalize_response
from monitor.probes.http import probe_http
from monitor.probes.timing import timed_connector, wire_stamps
from tests.check_builders import check_config
from tests.loopback import serving

Handler = Callable[[asyncio.StreamWriter], Awaitable[None]]
"""What a raw server does once it has read the request."""
Routes = Mapping[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


def make_check(
    url: str,
    *,
    timeout: float = 1.0,
    cap: int = 65536,
    redirects: int = 5,
    kind: CheckKind = CheckKind.HEALTH,
) -> Check:
    return check_config(
        service="svc",
        name="health",
        kind=kind,
        url=url,
        interval=10.0,
        timeout=timeout,
        target=0.05,
        max_body_bytes=cap,
        max_redirects=redirects,
    )


@pytest.fixture(params=["plain", "timed"])
async def session(request: pytest.FixtureRequest) -> AsyncIterator[aiohttp.ClientSession]:
    """Every misbehaving server twice: through aiohttp's own connector and through the
    daemon's (`timed_connector`, whose plain connections run on a StampedTransport)."""
    connector = timed_connector() if request.param == "timed" else aiohttp.TCPConnector()
    async with aiohttp.ClientSession(connector=connector) as s:
        yield s


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start raw TCP servers that read the request, then speak (broken) HTTP by hand."""
    servers: list[asyncio.Server] = []
    tasks: set[asyncio.Task[None]] = set()

    async def start(handler: Handler) -> str:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await reader.read(1024)
                await handler(writer)
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(tracked, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/health"

    yield start
    for task in tasks:
        task.cancel()
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def web_server() -> AsyncIterator[Callable[[Routes], Awaitable[str]]]:
    """`await web_server({path: handler})`: the base URL of a loopback server answering GET on
    those paths, stopped after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(routes: Routes) -> str:
            app = web.Application()
            for path, handler in routes.items():
                app.router.add_get(path, handler)
            return await stack.enter_async_context(serving(app))

        yield start


Probe = Callable[..., Awaitable[Answer]]


@pytest.fixture
def probe_routes(
    session: aiohttp.ClientSession, web_server: Callable[[Routes], Awaitable[str]]
) -> Probe:
    """`await probe_routes({path: handler}, **check)`: the probe's answer for GET /health on a
    loopback server answering those paths, through each `session`."""

    async def probe(routes: Routes, **check: Any) -> Answer:
        base = await web_server(routes)
        return await probe_http(session, make_check(base + "/health", **check))

    return probe


async def test_healthy_answer_is_timed_and_read(probe_routes: Probe) -> None:
    async def health(_: web.Request) -> web.Response:
        await asyncio.sleep(0.02)  # the served behaviour: the answer's duration under test
        return web.json_response({"status": "ok"}, headers={"Server-Timing": "rpc;dur=1.5"})

    answer = await probe_routes({"/health": health})
    assert answer.error is None and answer.status_code == 200
    assert answer.body == b'{"status": "ok"}'
    assert answer.headers["server-timing"] == "rpc;dur=1.5"
    assert 0.02 <= answer.duration_s < 0.5
    assert normalize_response(answer).status is Status.HEALTHY


async def test_refused(session: aiohttp.ClientSession, refused_port: int) -> None:
    answer = await probe_http(session, make_check(f"http://127.0.0.1:{refused_port}/health"))
    assert answer.error is TransportError.CONNECTION_REFUSED
    assert normalize_response(answer).reason is Reason.CONNECTION_REFUSED


async def test_accepts_and_never_answers_times_out_on_time(
    session: aiohttp.ClientSession, raw_server: Callable[[Handler], Awaitable[str]]
) -> None:
    async def silent(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)  # the served behaviour: accepts, never answers

    url = await raw_server(silent)
    start = time.perf_counter()
    answer = await probe_http(session, make_check(url, timeout=0.3))
    elapsed = time.perf_counter() - start
    assert answer.error is TransportError.TIMEOUT
    # not before the deadline; the upper bound only has to tell the deadline from the server's
    # 30 s of silence, so it leaves a loaded CI seconds, not the 0.5 s it once did
    assert 0.3 <= elapsed < 5.0
    assert normalize_response(answer).reason is Reason.TIMEOUT


async def test_slow_trickled_body_is_stopped_by_the_total_deadline(
    session: aiohttp.ClientSession, raw_server: Callable[[Handler], Awaitable[str]]
) -> None:
    async def trickle(writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        for _ in range(100):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.1)  # the served behaviour: a trickled body

    url = await raw_server(trickle)
    start = time.perf_counter()
    answer = await probe_http(session, make_check(url, timeout=0.4))
    assert answer.error is TransportError.TIMEOUT
    # the trickle takes 10 s to finish: half of it tells the total deadline from a per-read one
    assert time.perf_counter() - start < 5.0


async def test_oversized_body_is_capped_while_streaming(probe_routes: Probe) -> None:
    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunk = b"x" * 65536
        for _ in range(1600):  # 100 MiB if anyone read it all
            await response.write(chunk)
        return response

    answer = await probe_routes({"/health": huge}, cap=65536, timeout=5)
    assert answer.truncated and len(answer.body) == 65536
    verdict = normalize_response(answer)
    assert (verdict.status, verdict.reason) == (Status.DEGRADED, Reason.BODY_TOO_LARGE)


async def test_gzip_bomb_is_capped_on_decoded_size(
    session: aiohttp.ClientSession, web_server: Callable[..., Awaitable[str]]
) -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)

    async def handler(_: web.Request) -> web.Response:
        return web.Response(
            body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    base = await web_server({"/health": handler})
    # no time bound: inflating all 50 MiB takes well under the 5 s timeout on any machine, so
    # a bound could not tell; the memory bound is tests/test_hostile.py's gzip_bomb case
    answer = await probe_http(session, make_check(base + "/health", cap=65536, timeout=5))
    assert answer.truncated and len(answer.body) <= 65536
    assert len(bomb) < 200_000


@pytest.mark.parametrize(
    ("sent", "abort", "errors"),
    [
        pytest.param(
            b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"status":',
            True,
            {TransportError.PROTOCOL_ERROR, TransportError.CONNECTION_RESET},
            id="reset mid body",
        ),
        pytest.param(b"", True, {TransportError.CONNECTION_RESET}, id="close before headers"),
        pytest.param(
            b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
            False,
            {TransportError.PROTOCOL_ERROR},
            id="garbage instead of http",
        ),
    ],
)
async def test_a_broken_answer_is_a_transport_error(
    session: aiohttp.ClientSession,
    raw_server: Callable[[Handler], Awaitable[str]],
    sent: bytes,
    abort: bool,
    errors: set[TransportError],
) -> None:
    async def broken(writer: asyncio.StreamWriter) -> None:
        if sent:
            writer.write(sent)
            await writer.drain()
        if abort:
            writer.transport.abort()

    url = await raw_server(broken)
    answer = await probe_http(session, make_check(url))
    assert answer.error in errors
    assert normalize_response(answer).status is Status.UNHEALTHY


async def test_redirect_loop(probe_routes: Probe) -> None:
    async def loop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/health")

    answer = await probe_routes({"/health": loop}, redirects=3)
    assert answer.error is TransportError.TOO_MANY_REDIRECTS
    assert normalize_response(answer).reason is Reason.TOO_MANY_REDIRECTS


async def test_redirect_followed_and_recorded(probe_routes: Probe) -> None:
    async def old(_: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/v2/health")

    async def new(_: web.Request) -> web.Response:
        return web.json_response({"status": "pass"})

    answer = await probe_routes({"/health": old, "/v2/health": new})
    assert answer.redirects == 1 and answer.final_url.endswith("/v2/health")
    assert normalize_response(answer).status is Status.HEALTHY


async def test_dns_failure(session: aiohttp.ClientSession) -> None:
    answer = await probe_http(session, make_check("http://no-such-host.invalid/health", timeout=3))
    assert answer.error is TransportError.DNS_FAILURE


async def test_timed_connector_takes_the_duration_on_the_wire(
    web_server: Callable[..., Awaitable[str]],
) -> None:
    async def hop(_: web.Request) -> web.Response:
        await asyncio.sleep(0.01)  # the served behaviour: each hop's duration under test
        raise web.HTTPFound("/health")

    async def health(_: web.Request) -> web.Response:
        await asyncio.sleep(0.02)  # the served behaviour: the duration under test
        return web.json_response({"status": "ok"})

    base = await web_server({"/health": health, "/hop": hop})
    async with aiohttp.ClientSession(connector=timed_connector()) as timed:
        async with timed.get(base + "/health") as response:
            assert wire_stamps(response) is not None, "aiohttp internals moved: see timing.py"
            await response.read()
        for path, least in (("/health", 0.02), ("/hop", 0.03)):
            began = time.perf_counter()
            answer = await probe_http(timed, make_check(base + path))
            span = time.perf_counter() - began
            assert answer.status_code == 200 and answer.error is None
            assert least <= answer.duration_s < span, "from the first send to the last byte"


async def test_plain_session_has_no_wire_stamps(
    web_server: Callable[..., Awaitable[str]],
) -> None:
    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    base = await web_server({"/health": health})
    async with aiohttp.ClientSession() as plain, plain.get(base + "/health") as response:
        assert wire_stamps(response) is None
