"""The aiohttp internals of monitor/probes/_aiohttp_compat.py exist on the installed aiohttp.

A release that moves one fails here, naming it, instead of silently turning wire timestamps off
(probes fall back to `perf_counter`) or breaking `bound_port`. Every name of `INTERNALS` is
checked on a real object: a connector, a response from a loopback server, a TLS protocol, a
started site.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
from asyncio.sslproto import SSLProtocol
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from monitor.http.app import bound_port
from monitor.probes._aiohttp_compat import INTERNALS, ResponseHandler
from monitor.probes.timing import TimedResponseHandler, timed_connector, wire_stamps
from tests.loopback import start_site


@pytest.fixture
async def owners() -> AsyncIterator[dict[str, Any]]:
    """One real object (or class) per owner named in INTERNALS."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", ok)
    runner, site = await start_site(app)
    loop = asyncio.get_running_loop()
    tls = SSLProtocol(loop, asyncio.Protocol(), ssl.create_default_context(), None)
    connector = aiohttp.TCPConnector()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{bound_port(site)}/") as response,
        ):
            yield {
                "aiohttp.TCPConnector": aiohttp.TCPConnector,
                "aiohttp.TCPConnector()": connector,
                "aiohttp.client_proto.ResponseHandler": ResponseHandler,
                "aiohttp.ClientResponse()": response,
                "asyncio.sslproto.SSLProtocol()": tls,
                "aiohttp.web.TCPSite()": site,
            }
    finally:
        tls.connection_lost(None)  # closes its app transport: no ResourceWarning
        await connector.close()
        await runner.cleanup()


@pytest.mark.parametrize(("owner", "attribute"), INTERNALS, ids=[f"{o}.{a}" for o, a in INTERNALS])
async def test_internal_exists(owners: dict[str, Any], owner: str, attribute: str) -> None:
    if not hasattr(owners[owner], attribute):
        pytest.fail(
            f"aiohttp {aiohttp.__version__} has no {owner}.{attribute}: "
            "update monitor/probes/_aiohttp_compat.py"
        )


def test_wrap_create_connection_takes_the_keywords_the_hook_passes() -> None:
    parameters = inspect.signature(aiohttp.TCPConnector._wrap_create_connection).parameters
    missing = {"addr_infos", "req", "timeout", "client_error"} - set(parameters)
    assert not missing, f"aiohttp.TCPConnector._wrap_create_connection lost {sorted(missing)}"


async def test_connections_are_built_by_a_response_handler_partial(
    owners: dict[str, Any],
) -> None:
    connector = timed_connector()
    try:
        factory = getattr(connector, "_factory", None)
        assert getattr(factory, "func", None) is TimedResponseHandler, (
            f"aiohttp.TCPConnector()._factory is {factory!r}: wire stamps are off"
        )
    finally:
        await connector.close()


async def test_a_timed_response_has_its_wire_stamps(owners: dict[str, Any]) -> None:
    site = owners["aiohttp.web.TCPSite()"]
    async with (
        aiohttp.ClientSession(connector=timed_connector()) as session,
        session.get(f"http://127.0.0.1:{bound_port(site)}/") as response,
    ):
        assert wire_stamps(response) is not None, "aiohttp.ClientResponse()._protocol moved"
