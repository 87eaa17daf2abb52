"""Another daemon's `/status`, fetched: the one client of `monitor status --from` and
`monitor verify --from`. Each source within its own deadline and `MAX_STATUS_BYTES`; a source
that fails is an answer with a reason, never an exception, and each command decides what a
failed source means (status: reported, verify: exit 2)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import urlsplit

import aiohttp
from pydantic import ValidationError

from monitor.fleet.merge import ReplicaAnswer
from monitor.model import FleetStatus
from monitor.normalize._vocabulary import short

MAX_STATUS_BYTES = 256 * 1024 * 1024
"""The largest `/status` read. 100,000 checks, each in its own service with every field at its
longest, is ~180 MB (bench/status_size.py, docs/benchmarks.md); the cap leaves room for
components and bounds what a wrong or hostile URL can make the command hold in memory."""

_CHUNK_BYTES = 1 << 16
_MIB = 1024 * 1024


def status_url(source: str) -> str:
    """A daemon's base URL (`http://monitor-0.monitor:8700`) as its `/status` URL; a URL that
    already has a path is used as it is. ValueError unless http(s)."""
    parts = urlsplit(source)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http:// or https:// URL, got {source!r}")
    return source.rstrip("/") + "/status" if parts.path in ("", "/") else source


def too_large() -> str:
    return f"/status is larger than {MAX_STATUS_BYTES // _MIB} MiB"


def parse_status(body: bytes) -> FleetStatus | str:
    """The document, or why it is not one: not JSON, or JSON of another shape."""
    try:
        return FleetStatus.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            return f"not JSON ({short(first['msg'])})"
        where = ".".join(str(p) for p in first["loc"])
        return f"not a monitor /status document ({where}: {short(first['msg'])})"


async def fetch_status(
    session: aiohttp.ClientSession, source: str, timeout: float, token: str | None = None
) -> ReplicaAnswer:
    """One source's `/status`, or the reason there is none; never raises for the source."""
    try:
        url = status_url(source)
    except ValueError as exc:
        return ReplicaAnswer(source, None, str(exc))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with asyncio.timeout(timeout):
            async with session.get(url, headers=headers) as response:
                if response.status != 200:
                    return ReplicaAnswer(source, None, f"HTTP {response.status}, expected 200")
                if (response.content_length or 0) > MAX_STATUS_BYTES:
                    return ReplicaAnswer(source, None, too_large())
                body = bytearray()
                async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
                    body += chunk
                    if len(body) > MAX_STATUS_BYTES:
                        return ReplicaAnswer(source, None, too_large())
    except TimeoutError:
        return ReplicaAnswer(source, None, f"no answer within {timeout:g}s")
    except aiohttp.ClientError as exc:
        return ReplicaAnswer(
            source, None, f"cannot read it: {short(str(exc) or type(exc).__name__)}"
        )
    parsed = parse_status(bytes(body))
    if isinstance(parsed, str):
        return ReplicaAnswer(source, None, parsed)
    return ReplicaAnswer(source, parsed)


async def fetch_all(
    sources: Sequence[str], timeout: float, token: str | None = None
) -> list[ReplicaAnswer]:
    """Every source at once, each with its own deadline, in the order given."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        return list(
            await asyncio.gather(*(fetch_status(session, s, timeout, token) for s in sources))
        )
