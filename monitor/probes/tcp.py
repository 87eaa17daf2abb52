"""The tcp probe: connect (and shake hands in TLS), optionally read the first line.

The duration is the connect time, TLS handshake included: what a client of the port waits for
before it can speak, judged against the check's target like any round trip. A banner is read
within the same total deadline, at most `BANNER_BYTES`, so a server that trickles or never
sends a newline costs one timeout, not a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

import aiohttp

from monitor.answer import ERROR_DETAIL_CHARS, Answer, Finding, TransportError
from monitor.checks.tcp import TcpSpec
from monitor.config import Check
from monitor.model import Reason, Status
from monitor.probes.http import classify_exception
from monitor.tls.context import client_context
from monitor.tls.probe import transport_certificate
from monitor.tracebacks import drop_tracebacks

BANNER_BYTES = 1024
"""The most of a banner read and matched; the first line ends earlier."""


async def probe_tcp(session: aiohttp.ClientSession, check: Check) -> Answer:
    """Connect to the check's address within `check.timeout`; never raises for the target."""
    del session  # the shared HTTP client has nothing to offer a raw connection
    spec = check.spec
    assert isinstance(spec, TcpSpec), "a tcp check carries a TcpSpec"
    start = time.perf_counter()
    connected = 0.0
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(check.timeout):
            ssl_options: dict[str, object] = {}
            if spec.tls:
                settings = check.tls
                context = client_context(settings) if settings is not None else None
                ssl_options["ssl"] = context if context is not None else True
                if settings is not None and settings.server_name:
                    ssl_options["server_hostname"] = settings.server_name
            reader, writer = await asyncio.open_connection(spec.host, spec.port, **ssl_options)  # type: ignore[arg-type]
            connected = time.perf_counter() - start
            findings: list[Finding] = []
            certificate = None
            if spec.tls and check.tls is not None:
                certificate, expiry = transport_certificate(writer.transport, check.tls, spec.host)
                findings.extend(expiry)
            findings.append(await _banner_finding(reader, spec, connected))
    except Exception as exc:  # every failure is an answer, not a crash
        error, detail = classify_exception(exc)
        drop_tracebacks(exc)
        if error is TransportError.TIMEOUT:
            stage = "reading the banner" if connected else "connecting"
            detail = f"after {check.timeout:g}s {stage}"
        return Answer(
            url=check.url,
            error=error,
            error_detail=" ".join(detail.split())[:ERROR_DETAIL_CHARS],
            duration_s=connected or time.perf_counter() - start,
        )
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
    return Answer(url=check.url, duration_s=connected, tls=certificate, findings=tuple(findings))


async def _banner_finding(reader: asyncio.StreamReader, spec: TcpSpec, connected: float) -> Finding:
    took = f"connected in {connected * 1000:.1f} ms"
    if spec.expect_banner is None:
        return Finding(Status.HEALTHY, Reason.OK, took)
    line = bytearray()
    while len(line) < BANNER_BYTES and b"\n" not in line:
        chunk = await reader.read(BANNER_BYTES - len(line))
        if not chunk:
            break
        line += chunk
    banner = bytes(line).split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
    if re.search(spec.expect_banner, banner):
        return Finding(Status.HEALTHY, Reason.OK, f"{took}, banner matches")
    shown = banner[:120] if banner else "nothing"
    return Finding(
        Status.UNHEALTHY,
        Reason.UNEXPECTED_BANNER,
        f"{took}, but the banner {shown!r} does not match {spec.expect_banner!r}",
    )
