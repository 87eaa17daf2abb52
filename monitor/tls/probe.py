"""The certificate of a live connection, summarised and judged at the moment it is read.

Shared by every probe that speaks TLS (http over aiohttp, tcp over asyncio streams): the
transport's `ssl_object` is all it needs. Reads the wall clock, so it is not pure; the judging
it calls is.
"""

from __future__ import annotations

import time
from typing import Any

from monitor.answer import Finding
from monitor.model import Certificate
from monitor.tls.certificates import certificate_summary, expiry_finding, presented_chain
from monitor.tls.settings import TlsSettings


def transport_certificate(
    transport: Any, settings: TlsSettings, host: str
) -> tuple[Certificate | None, tuple[Finding, ...]]:
    """The certificate behind `transport` (an asyncio transport) and its expiry finding."""
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None, ()
    now = time.time()
    cert = certificate_summary(
        presented_chain(ssl_object), settings.server_name or host, settings, now
    )
    if cert is None:
        return None, ()
    finding = expiry_finding(cert, settings, now)
    return cert, (finding,) if finding is not None else ()
