"""The HTTP probe: one request, a capped streaming read, every failure mapped to an `Answer`.

Timing: on a session built with `monitor.probes.timing.timed_connector`, the duration is from
the moment the request was written to the moment the last bytes of the answer arrived, stamped
in the connection's protocol callbacks (see timing.py for why); otherwise `perf_counter`
around the request and the body read. Never the scheduler's delay. A probe never raises for a
failing target.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from typing import Any

import aiohttp
from yarl import URL

from monitor.answer import ERROR_DETAIL_CHARS, Answer, Finding, TransportError
from monitor.config import Check
from monitor.model import Certificate
from monitor.probes._aiohttp_compat import response_protocol
from monitor.probes.timing import wire_stamps
from monitor.tls.context import client_context
from monitor.tls.probe import transport_certificate
from monitor.tracebacks import drop_tracebacks

USER_AGENT = "fleet-monitor/0.1 (+health probe)"
_CHUNK = 16384
# OpenSSL X509 verify codes (include/openssl/x509_vfy.h) that mean "expired", not "untrusted".
_EXPIRED_CODES = {10, 12}
_REDIRECTS = {301, 302, 303, 307, 308}
_REDIRECT_BODY_CAP = 4096


def _headers(raw: aiohttp.ClientResponse) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in raw.headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """At most `cap` decoded bytes; stops reading (and so inflating) as soon as it is exceeded."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > cap:
            chunks.append(chunk[: cap - (size - len(chunk))])
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


def classify_exception(exc: BaseException) -> tuple[TransportError, str]:
    """Map aiohttp's exception zoo (and the raw socket and ssl errors beneath it, which the
    tcp probe meets) to our transport errors, keeping the message as detail."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return TransportError.TIMEOUT, ""
    if isinstance(exc, aiohttp.TooManyRedirects):
        return TransportError.TOO_MANY_REDIRECTS, f"after {len(exc.history)} redirects"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | ssl.SSLCertVerificationError):
        cert_error = getattr(exc, "certificate_error", exc)
        code = getattr(cert_error, "verify_code", None)
        reason = getattr(cert_error, "verify_message", "") or text
        if code in _EXPIRED_CODES:
            return TransportError.TLS_CERTIFICATE_EXPIRED, reason
        return TransportError.TLS_CERTIFICATE_UNTRUSTED, reason
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return TransportError.TLS_ERROR, text
    dns_error = getattr(aiohttp, "ClientConnectorDNSError", None)
    if dns_error is not None and isinstance(exc, dns_error):
        return TransportError.DNS_FAILURE, text
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, socket.gaierror):
            return TransportError.DNS_FAILURE, text
        if isinstance(exc.os_error, ConnectionRefusedError):
            return TransportError.CONNECTION_REFUSED, text
        return TransportError.CONNECTION_ERROR, text
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return TransportError.CONNECTION_RESET, "server closed the connection before answering"
    if isinstance(exc, aiohttp.ClientPayloadError):
        # aiohttp keeps the socket error only in the message: an RST mid-body is a reset, a
        # clean close short of Content-Length (or bad chunking) is a protocol error.
        if "ConnectionResetError" in text or "Connection reset" in text:
            return TransportError.CONNECTION_RESET, text
        return TransportError.PROTOCOL_ERROR, text
    if isinstance(exc, aiohttp.ClientResponseError):
        return TransportError.PROTOCOL_ERROR, f"{exc.status}: {exc.message}"
    if isinstance(exc, ConnectionRefusedError):
        return TransportError.CONNECTION_REFUSED, text
    if isinstance(exc, socket.gaierror):
        return TransportError.DNS_FAILURE, text
    if isinstance(exc, aiohttp.ClientOSError | OSError):
        if isinstance(exc, ConnectionResetError) or "reset" in text.lower():
            return TransportError.CONNECTION_RESET, text
        return TransportError.CONNECTION_ERROR, text
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return TransportError.CONNECTION_ERROR, f"invalid request: {text}"
    return TransportError.CONNECTION_ERROR, f"{type(exc).__name__}: {text}"


def _same_host(a: URL, b: URL) -> bool:
    """Same host name: whether a redirect may be *followed* without `cross_host_redirects`."""
    return (a.host or "").lower() == (b.host or "").lower()


def origin_of(url: URL) -> str:
    """`scheme://host:port`, lower-cased, default port made explicit: the unit headers are bound to
    (RFC 6454). `http://a` and `http://a:80` are one origin; `https://a` and `http://a` are not."""
    return f"{(url.scheme or '').lower()}://{(url.host or '').lower()}:{url.port}"


def _redirect_target(response: aiohttp.ClientResponse) -> URL | None:
    """Where a 3xx points, resolved against the request URL; None if it is not followable."""
    location = response.headers.get("Location")
    if response.status not in _REDIRECTS or not location:
        return None
    try:
        target = response.url.join(URL(location))
    except ValueError:
        return None
    return target if target.scheme in ("http", "https") and target.host else None


async def probe_http(session: aiohttp.ClientSession, check: Check) -> Answer:
    """GET (or HEAD/POST) the check's URL within `check.timeout`, whatever the target does.

    Redirects are followed here, not by aiohttp, so that one to another host name can be
    refused (`cross_host_redirects: false`, the default). The configured headers are secrets
    bound to the exact origin of the check's URL (scheme, host, port): a redirect to another
    port, or from https to http, is followed without them (curl CVE-2022-27776), and the
    answer's `crossed_origin` says so.
    """
    secret = {name: value.get_secret_value() for name, value in check.headers.items()}
    origin = URL(check.url)
    home = origin_of(origin)
    url, method, hops, crossed = origin, check.method, 0, ""
    body: bytes | None = check.body or None
    tls = check.tls
    tls_options: dict[str, Any] = {}
    if tls is not None:
        context = client_context(tls)
        if context is not None:
            tls_options["ssl"] = context
        if tls.server_name:
            tls_options["server_hostname"] = tls.server_name
    status: int | None = None
    first_sent: float | None = None
    start = time.perf_counter()
    try:
        async with asyncio.timeout(check.timeout):
            while True:
                headers = {"User-Agent": USER_AGENT, "Accept": "application/json, */*;q=0.5"}
                if body is not None and check.content_type:
                    headers["Content-Type"] = check.content_type
                if origin_of(url) == home:
                    headers.update(secret)
                elif not crossed:
                    crossed = origin_of(url)
                async with session.request(
                    method,
                    url,
                    headers=headers,
                    data=body,
                    **tls_options,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=check.timeout),
                ) as response:
                    wire = wire_stamps(response)  # before any await: see wire_stamps
                    if first_sent is None and wire is not None:
                        first_sent = wire[0]
                    status = response.status
                    certificate: Certificate | None = None
                    findings: tuple[Finding, ...] = ()
                    if tls is not None:  # the protocol: the connection may be back in the pool
                        transport = getattr(response_protocol(response), "transport", None)
                        certificate, findings = transport_certificate(
                            transport, tls, url.host or ""
                        )
                    target = _redirect_target(response) if check.max_redirects > 0 else None
                    if target is not None and (
                        check.cross_host_redirects or _same_host(origin, target)
                    ):
                        if hops >= check.max_redirects:
                            return _failed(
                                check,
                                start,
                                TransportError.TOO_MANY_REDIRECTS,
                                f"more than {check.max_redirects} redirects (next: {target})",
                                status,
                                crossed,
                            )
                        _, truncated = await _read_capped(response, _REDIRECT_BODY_CAP)
                        if truncated:
                            response.close()
                        hops += 1
                        url = target
                        if response.status == 303 or (
                            response.status in (301, 302) and method == "POST"
                        ):
                            method, body = "GET", None
                        continue
                    body, truncated = await _read_capped(response, check.max_body_bytes)
                    elapsed = time.perf_counter() - start
                    if wire is not None and first_sent is not None and wire[1] >= wire[0]:
                        elapsed = wire[1] - first_sent
                    if truncated:
                        response.close()  # never return a half-read connection to the pool
                    return Answer(
                        url=check.url,
                        status_code=status,
                        headers=_headers(response),
                        body=body,
                        truncated=truncated,
                        body_cap=check.max_body_bytes if truncated else 0,
                        duration_s=elapsed,
                        redirects=hops,
                        final_url=str(response.url),
                        crossed_origin=crossed,
                        expect=check.expect,
                        tls=certificate,
                        findings=findings,
                    )
    except Exception as exc:  # every failure is an answer, not a crash
        error, detail = classify_exception(exc)
        drop_tracebacks(exc)  # else its frames keep the connection's buffers until a gc
        if error is TransportError.TIMEOUT:
            detail = f"after {check.timeout:g}s"
        return _failed(check, start, error, detail, status, crossed)


def _failed(
    check: Check,
    start: float,
    error: TransportError,
    detail: str,
    status: int | None,
    crossed: str = "",
) -> Answer:
    return Answer(
        url=check.url,
        status_code=status,
        error=error,
        # aiohttp's parser errors span lines
        error_detail=" ".join(detail.split())[:ERROR_DETAIL_CHARS],
        duration_s=time.perf_counter() - start,
        crossed_origin=crossed,
    )
