"""Shared fixtures: real loopback servers, never mocks of our own sockets.

aioresponses 0.7.9 builds `ClientResponse` without the `stream_writer` argument that aiohttp
3.14 requires (`ClientResponse.__init__() missing ... 'stream_writer'`, aioresponses issue 289).
`http_mock` is aioresponses with a response class that supplies a stand-in writer; only the
attribute aiohttp reads from it at construction (`output_size`) is needed. Remove the shim
once aioresponses ships the fix.
"""

from __future__ import annotations

import contextlib
import gc
import socket
import time
import types
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientResponse, web
from aioresponses import aioresponses

from monitor.config import parse_config
from monitor.runtime.daemon import Monitor
from monitor.simulator import SimulatedFleet, fleet_config_yaml, seed_fleet
from tests.alerting_fixtures import Recorder
from tests.serving import serving


@pytest.fixture(autouse=True)
def _collector_left_on() -> Iterator[None]:
    """`monitor run` pauses the garbage collector for its start-up; one run in this process
    that is refused at config load (CliRunner) would leave it off for every later test."""
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()


@contextlib.contextmanager
def reserved_port() -> Iterator[int]:
    """A loopback port held for the block: bound with SO_REUSEPORT and never listening, so a
    connection to it is refused and no other process can bind it (a port picked, closed and
    reused later can be taken in between), while a server in this test may still listen on it
    by binding with `reuse_port=True`."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test."""
    with reserved_port() as port:
        yield port


@pytest.fixture
async def fleet() -> AsyncIterator[SimulatedFleet]:
    """The seed's fleet, answering on loopback ports chosen by the OS."""
    async with SimulatedFleet(seed_fleet()) as running:
        yield running


class _CompatClientResponse(ClientResponse):
    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", types.SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class _CompatResponses(aioresponses):
    def add(self, url: Any, method: str = "GET", *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("response_class", _CompatClientResponse)
        super().add(url, method, *args, **kwargs)


@pytest.fixture
def http_mock() -> Iterator[aioresponses]:
    """aioresponses that works with aiohttp 3.14; pins third-party wire formats only."""
    with _CompatResponses() as mock:
        yield mock


@contextlib.asynccontextmanager
async def recording() -> AsyncIterator[Recorder]:
    """A started Recorder on 127.0.0.1 (free port), stopped on exit."""
    rec = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}"
    try:
        yield rec
    finally:
        await runner.cleanup()


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    async with recording() as rec:
        yield rec


@pytest.fixture
async def recorder2() -> AsyncIterator[Recorder]:
    """A second, independent Recorder."""
    async with recording() as rec:
        yield rec


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def daemon_url(fleet: SimulatedFleet) -> AsyncIterator[str]:
    """A daemon watching the seed fleet, every check run once, serving on a free port."""
    monitor = Monitor(parse_config(fleet_config_yaml(fleet)))
    await monitor.start(schedule=False)
    await monitor.run_all_once()
    async with serving(monitor) as url:
        yield url


@pytest.fixture
def new_york_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The daemon's host in another time zone than the windows and UTC."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
