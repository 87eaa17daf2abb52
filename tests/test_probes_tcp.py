"""The tcp probe through the daemon against loopback servers: connect, banner, TLS expiry,
and what goes wrong on the way (refused, silent, a banner that never ends)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.model import CheckKind, FleetStatus, Reason, Status
from tests.certs import CertificateAuthority
from tests.one_round import one_round
from tests.refusals import assert_refused

Serve = Callable[..., Awaitable[int]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(greeting: bytes = b"", *, context: ssl.SSLContext | None = None) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if greeting:
                writer.write(greeting)
                await writer.drain()
            await reader.read(1)  # hold the connection until the client closes it
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _status(text: str) -> FleetStatus:
    return (await one_round(text))[1]


async def test_tcp_checks_through_the_daemon(serve: Serve, tmp_path: Path) -> None:
    smtp = await serve(b"220 mail.example ESMTP ready\r\n")
    wrong = await serve(b"SSH-2.0-OpenSSH_9.6\r\n")
    endless = await serve(b"220 " + b"x" * 5000)  # no newline: read is capped
    authority = CertificateAuthority(valid_days=400)
    cert, key = authority.leaf(valid_days=9.5)
    (tmp_path / "s.crt").write_bytes(cert)
    (tmp_path / "s.key").write_bytes(key)
    (tmp_path / "ca.pem").write_text(authority.cert_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "s.crt", tmp_path / "s.key")
    tls = await serve(context=context)
    refused = _closed_port()
    text = f"""
services:
  - name: db-proxy
    url: http://127.0.0.1:{_closed_port()}
    tls: {{ca_file: {tmp_path / "ca.pem"}}}
    tcp:
      - {{name: connect, address: "127.0.0.1:{smtp}"}}
      - {{name: smtp, address: "127.0.0.1:{smtp}", expect_banner: "^220 "}}
      - {{name: ssh, address: "127.0.0.1:{wrong}", expect_banner: "^220 "}}
      - {{name: endless, address: "127.0.0.1:{endless}", expect_banner: "^220 x+$"}}
      - {{name: tls, address: "127.0.0.1:{tls}", tls: true}}
      - {{name: refused, address: "127.0.0.1:{refused}"}}
"""
    status = await _status(text)
    checks = {c.name: c for c in status.services[0].checks if c.kind is CheckKind.TCP}
    got = {name: (c.status, c.reason) for name, c in checks.items()}
    assert got == {
        "connect": (Status.HEALTHY, Reason.OK),
        "smtp": (Status.HEALTHY, Reason.OK),
        "ssh": (Status.UNHEALTHY, Reason.UNEXPECTED_BANNER),
        "endless": (Status.HEALTHY, Reason.OK),
        "tls": (Status.DEGRADED, Reason.CERTIFICATE_EXPIRING),
        "refused": (Status.UNHEALTHY, Reason.CONNECTION_REFUSED),
    }
    assert checks["ssh"].detail.endswith(
        "but the banner 'SSH-2.0-OpenSSH_9.6' does not match '^220 '"
    )
    expires = (authority.now + timedelta(days=9.5)).date().isoformat()
    assert checks["tls"].detail == f"certificate for 127.0.0.1 expires in 9 days ({expires})"
    assert checks["tls"].url == f"tcps://127.0.0.1:{tls}"
    # a connect is a latency sample judged against the 50 ms default target
    assert checks["connect"].target_ms == 50.0
    assert checks["connect"].duration_ms is not None and checks["connect"].duration_ms > 0


async def test_a_silent_server_costs_one_timeout(serve: Serve) -> None:
    silent = await serve()
    text = f"""
services:
  - name: db-proxy
    url: http://127.0.0.1:{_closed_port()}
    tcp: [{{name: smtp, address: "127.0.0.1:{silent}", expect_banner: "^220", timeout: 200ms}}]
"""
    status = await _status(text)
    [check] = [c for c in status.services[0].checks if c.kind is CheckKind.TCP]
    assert (check.status, check.reason) == (Status.UNHEALTHY, Reason.TIMEOUT)
    assert check.detail.endswith("after 0.2s reading the banner")


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ('{name: a, address: "db.internal"}', "services[0].tcp[0].address", "expected host:port"),
        ('{name: a, address: "db:70000"}', "services[0].tcp[0].address", "expected host:port"),
        (
            '{name: a, address: "db:1", expect_banner: "("}',
            "services[0].tcp[0].expect_banner",
            "not a regular expression",
        ),
        ('{name: a, address: "db:1", tls: yes-please}', "services[0].tcp[0].tls", "valid boolean"),
    ],
)
def test_bad_tcp_checks_are_config_errors(entry: str, field: str, message: str) -> None:
    text = f"services:\n  - name: s\n    url: http://127.0.0.1:1\n    tcp:\n      - {entry}\n"
    assert_refused(lambda: parse_config(text), 5, field, message)
