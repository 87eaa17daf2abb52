"""Another daemon's `/status`, fetched: one replica at a time or all at once, each within its own
deadline and size cap. A replica that fails is an answer with a reason, never an exception, so
`monitor status --from` can merge what did answer (fleet/merge.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aiohttp
from pydantic import ValidationError

from monitor.fleet.merge import ReplicaAnswer
from monitor.model import FleetStatus

MAX_STATUS_BYTES = 256 * 1024 * 1024


def status_url(source: str) -> str:
    """A replica's base URL (`http://monitor-0.monitor:8700`) or its `/status` URL."""
    base = source.rstrip("/")
    return base if base.endswith("/status") else base + "/status"


async def fetch_status(
    session: aiohttp.ClientSession, source: str, timeout: float, token: str | None = None
) -> ReplicaAnswer:
    """One replica's `/status`, or the reason there is none; never raises for the replica."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with asyncio.timeout(timeout):
            async with session.get(status_url(source), headers=headers) as response:
                if response.status != 200:
                    return ReplicaAnswer(source, None, f"HTTP {response.status}")
                body = bytearray()
                async for chunk in response.content.iter_chunked(1 << 16):
                    body += chunk
                    if len(body) > MAX_STATUS_BYTES:
                        return ReplicaAnswer(source, None, "/status larger than 256 MiB")
        return ReplicaAnswer(source, FleetStatus.model_validate_json(body))
    except TimeoutError:
        return ReplicaAnswer(source, None, f"no answer within {timeout:g}s")
    except aiohttp.ClientError as exc:
        return ReplicaAnswer(source, None, f"{type(exc).__name__}: {exc}"[:200])
    except ValidationError as exc:
        return ReplicaAnswer(source, None, f"not a /status document: {exc.error_count()} errors")


async def fetch_all(
    sources: Sequence[str], timeout: float, token: str | None = None
) -> list[ReplicaAnswer]:
    """Every replica at once, each with its own deadline."""
    async with aiohttp.ClientSession() as session:
        return list(
            await asyncio.gather(*(fetch_status(session, s, timeout, token) for s in sources))
        )
