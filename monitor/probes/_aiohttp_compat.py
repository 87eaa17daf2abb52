"""Every aiohttp (and asyncio TLS) internal the monitor touches, and nothing else.

Wire timestamps (probes/timing.py) need a few private names of aiohttp's client; a server
started on port 0 needs its site's socket to know its port. They may move in any aiohttp
release: `INTERNALS` lists them and tests/test_aiohttp_compat.py checks each on the installed
aiohttp, naming the one that moved. Elsewhere the code uses aiohttp's public API only.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from asyncio.sslproto import SSLProtocol
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.client_exceptions import cert_errors, ssl_errors
from aiohttp.client_proto import ResponseHandler

__all__ = [
    "INTERNALS",
    "ConnectionAttempt",
    "HookedConnector",
    "ResponseHandler",
    "cert_errors",
    "happy_eyeballs_options",
    "response_protocol",
    "site_sockets",
    "ssl_errors",
    "swap_protocol_class",
    "tls_app_transport",
]

INTERNALS: tuple[tuple[str, str], ...] = (
    ("aiohttp.TCPConnector", "_wrap_create_connection"),
    ("aiohttp.TCPConnector()", "_factory"),
    ("aiohttp.TCPConnector()", "_local_addr_infos"),
    ("aiohttp.TCPConnector()", "_happy_eyeballs_delay"),
    ("aiohttp.TCPConnector()", "_interleave"),
    ("aiohttp.TCPConnector()", "_socket_factory"),
    ("aiohttp.client_proto.ResponseHandler", "start_timeout"),
    ("aiohttp.ClientResponse()", "_protocol"),
    ("asyncio.sslproto.SSLProtocol()", "_app_transport"),
    ("aiohttp.web.TCPSite()", "_server"),
)
"""(owner, attribute): `()` marks an attribute of an instance rather than of the class."""


@dataclass(frozen=True, slots=True)
class ConnectionAttempt:
    """aiohttp's arguments for opening one connection, whole, so a hook can hand them back."""

    args: tuple[Any, ...]
    options: dict[str, Any]
    addr_infos: list[Any]
    req: Any
    timeout: aiohttp.ClientTimeout
    client_error: type[Exception]


class HookedConnector(aiohttp.TCPConnector):
    """A TCPConnector whose private `_wrap_create_connection` (the step after DNS that opens the
    socket) is `open_connection`, which a subclass overrides; `default_connection` is
    aiohttp's own step."""

    async def _wrap_create_connection(
        self,
        *args: Any,
        addr_infos: list[Any],
        req: Any,
        timeout: aiohttp.ClientTimeout,
        client_error: type[Exception] = aiohttp.ClientConnectorError,
        **kwargs: Any,
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        attempt = ConnectionAttempt(args, kwargs, addr_infos, req, timeout, client_error)
        return await self.open_connection(attempt)

    async def open_connection(
        self, attempt: ConnectionAttempt
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        return await self.default_connection(attempt)

    async def default_connection(
        self, attempt: ConnectionAttempt
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        return await super()._wrap_create_connection(
            *attempt.args,
            addr_infos=attempt.addr_infos,
            req=attempt.req,
            timeout=attempt.timeout,
            client_error=attempt.client_error,
            **attempt.options,
        )


def happy_eyeballs_options(connector: aiohttp.TCPConnector) -> dict[str, Any]:
    """The connector's arguments for `aiohappyeyeballs.start_connection`, as aiohttp passes them."""
    return {
        "local_addr_infos": getattr(connector, "_local_addr_infos", None),
        "happy_eyeballs_delay": getattr(connector, "_happy_eyeballs_delay", 0.25),
        "interleave": getattr(connector, "_interleave", None),
        "socket_factory": getattr(connector, "_socket_factory", None),
    }


def swap_protocol_class(connector: aiohttp.TCPConnector, cls: type[ResponseHandler]) -> bool:
    """Make the connector's connections speak through `cls` (a ResponseHandler subclass);
    False, and the connector unchanged, when aiohttp no longer builds them the known way."""
    factory = getattr(connector, "_factory", None)
    if not isinstance(factory, functools.partial) or factory.func is not ResponseHandler:
        return False
    connector._factory = functools.partial(cls, *factory.args, **factory.keywords)
    return True


def response_protocol(response: aiohttp.ClientResponse) -> object | None:
    """The connection protocol that received this response, or None."""
    return getattr(response, "_protocol", None)


def tls_app_transport(tls: SSLProtocol) -> asyncio.Transport:
    """The transport the application reads and writes through, above asyncio's TLS layer."""
    transport: asyncio.Transport = tls._app_transport
    return transport


def site_sockets(site: web.BaseSite) -> list[socket.socket]:
    """The sockets a started site listens on."""
    server = getattr(site, "_server", None)
    return list(getattr(server, "sockets", None) or [])
