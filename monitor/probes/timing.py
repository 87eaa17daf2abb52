"""Wire timestamps: when a request left and when the last bytes of its answer came in.

A `perf_counter` around `session.request` and the body read also counts the client's own
work (building the request, taking a pooled connection, parsing, waking the probe's task)
and, worst, the time the answer waits for the event loop to get round to the task: at
1,000 checks/s that wait, not the service, was most of a 3 ms service's error. Here the
stamps are taken in the connection's protocol callbacks, which the loop calls as soon as the
socket is written and read, so the figure is the service's answer time plus the loopback
floor. A connect (new connection) is not counted; neither is a retry on a keep-alive
connection the server had closed (that attempt's protocol is discarded), which otherwise shows
up as a spike of a few hundred milliseconds.

The end stamp is better still: `TimedConnector` runs its connections on a `StampedTransport`
(stamped_transport.py; https under asyncio's `SSLProtocol` on top of it), which reads with
`recvmsg` and hands over the kernel's receive time of the last segment, so an answer that
waits for a busy loop is not charged for the wait.

It hooks aiohttp internals, all reached through probes/_aiohttp_compat.py (whose test names any
that moves); if they change, `wire_stamps` returns None and the probe falls back to
`perf_counter` around the request.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from asyncio.sslproto import SSLProtocol
from typing import Any

import aiohappyeyeballs
import aiohttp

from monitor.probes._aiohttp_compat import (
    ConnectionAttempt,
    HookedConnector,
    ResponseHandler,
    cert_errors,
    happy_eyeballs_options,
    response_protocol,
    ssl_errors,
    swap_protocol_class,
    tls_app_transport,
)
from monitor.probes.stamped_transport import KERNEL_STAMPS, stamped_connection

__all__ = ["TimedConnector", "TimedResponseHandler", "timed_connector", "wire_stamps"]


class TimedResponseHandler(ResponseHandler):
    """A ResponseHandler that keeps `[sent, last_received]` (perf_counter seconds) per
    request. A new request gets a new list, so a probe that holds the list of its own request
    is never confused by the connection's next user."""

    wire: list[float] | None = None

    def start_timeout(self) -> None:
        # aiohttp calls this right before it writes a bodiless request (and right after it
        # has written a body): the request is on its way.
        self.wire = [time.perf_counter(), 0.0]
        super().start_timeout()

    def data_received(self, data: bytes) -> None:
        wire = self.wire
        if wire is not None:
            # A StampedTransport (under TLS or not) knows when these bytes reached the
            # host; other transports: now.
            transport = self.transport
            received = transport.get_extra_info("received_at") if transport else None
            wire[1] = received if received is not None else time.perf_counter()
        super().data_received(data)


class TimedConnector(HookedConnector):
    """A TCPConnector whose connections run on a `StampedTransport`: plain ones directly,
    https ones under asyncio's `SSLProtocol`, so their answers are stamped by the kernel too."""

    async def open_connection(
        self, attempt: ConnectionAttempt
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        args, sslcontext = attempt.args, attempt.options.get("ssl")
        plain_or_tls = sslcontext is None or isinstance(sslcontext, ssl.SSLContext)
        if not KERNEL_STAMPS or len(args) != 1 or not plain_or_tls:
            return await self.default_connection(attempt)
        # aiohttp's own steps (happy eyeballs on the resolved addresses, the connect timeout,
        # its error classes), then our transport, with TLS layered on it when asked.
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(attempt.timeout.sock_connect):
                sock = await aiohappyeyeballs.start_connection(
                    addr_infos=attempt.addr_infos, loop=loop, **happy_eyeballs_options(self)
                )
                if sslcontext is None:
                    return stamped_connection(loop, sock, args[0])  # type: ignore[return-value]
                return await _tls_connection(loop, sock, args[0], sslcontext, attempt.options)
        except cert_errors as exc:
            raise aiohttp.ClientConnectorCertificateError(attempt.req.connection_key, exc) from exc
        except ssl_errors as exc:
            raise aiohttp.ClientConnectorSSLError(attempt.req.connection_key, exc) from exc
        except OSError as exc:
            if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
                raise
            raise attempt.client_error(attempt.req.connection_key, exc) from exc


async def _tls_connection(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    protocol_factory: Any,
    sslcontext: ssl.SSLContext,
    options: dict[str, Any],
) -> tuple[asyncio.Transport, ResponseHandler]:
    """What `loop.create_connection(sock=..., ssl=...)` does, on a StampedTransport: the
    handshake is awaited here, inside the connect timeout, like aiohttp's own."""
    protocol = protocol_factory()
    handshake: asyncio.Future[None] = loop.create_future()
    tls = SSLProtocol(
        loop,
        protocol,
        sslcontext,
        handshake,
        server_side=False,
        server_hostname=options.get("server_hostname"),
        ssl_handshake_timeout=options.get("ssl_handshake_timeout"),
        ssl_shutdown_timeout=options.get("ssl_shutdown_timeout"),
    )
    transport = stamped_connection(loop, sock, lambda: tls)[0]
    try:
        await handshake
    except BaseException:
        transport.abort()
        raise
    return tls_app_transport(tls), protocol


def timed_connector(**kwargs: Any) -> aiohttp.TCPConnector:
    """An aiohttp TCPConnector (same arguments) whose connections stamp the wire times."""
    connector = TimedConnector(**kwargs)
    swap_protocol_class(connector, TimedResponseHandler)
    return connector


def wire_stamps(response: aiohttp.ClientResponse) -> list[float] | None:
    """The `[sent, last_received]` list of this response's request, or None when the
    connection is not a timed one. Call it before the first await after the response
    arrives: a small answer may already have released its connection to the pool, and the
    next user of that connection gets a new list (this one stays ours)."""
    protocol = response_protocol(response)
    if isinstance(protocol, TimedResponseHandler):
        return protocol.wire
    return None
