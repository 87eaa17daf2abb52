"""`/push/{token}[/start|/fail|/{exit_code}]`, GET or POST, so `curl -fsS URL` works from a cron
line or a Worker's `fetch`. The token in the URL is the credential: these routes need no
bearer token (auth.read_token does not apply), answer 404 alike for every miss, and the
token is never logged (the daemon keeps no access log) nor echoed.

On sharded replicas a ping counts wherever the load balancer sends it: the replica that gets it
records it if it owns the check and passes it on to the check's other owners (once: a passed-on
ping carries `X-Monitor-Forwarded` and goes no further). docs/ha.md."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from monitor.normalize.evidence import evidence_snippet
from monitor.probes.push.watcher import PingOutcome, PushWatcher

PUSH_PREFIX = "/push/"
PUSH_BODY_BYTES = 10 * 1024
"""Read at most this much of a ping's body; more is cut (the ping still counts)."""
PUSH_EVIDENCE_CHARS = 1000
"""A ping's body as evidence: room for the tail of a job's output."""

FORWARDED = "X-Monitor-Forwarded"
FORWARD_TIMEOUT = 2.0
"""Seconds an owner has to take a passed-on ping: the job that pinged is waiting."""

WatcherOf = Callable[[web.Application], PushWatcher | None]
_SESSION = web.AppKey("push_forward_session", aiohttp.ClientSession)


async def forward(
    session: aiohttp.ClientSession, peers: list[str], path: str, body: bytes
) -> list[int | None]:
    """POST the ping to each peer at once; each one's HTTP status, None if unreachable."""

    async def one(base: str) -> int | None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
            async with session.post(
                base.rstrip("/") + path,
                data=body,
                headers={FORWARDED: "1"},
                timeout=aiohttp.ClientTimeout(total=FORWARD_TIMEOUT),
                allow_redirects=False,
            ) as answer:
                return answer.status
        return None

    return list(await asyncio.gather(*(one(peer) for peer in peers)))


async def read_ping_body(request: web.Request) -> bytes:
    """At most PUSH_BODY_BYTES of the body, in at most that many reads."""
    chunks: list[bytes] = []
    size = 0
    while size < PUSH_BODY_BYTES:
        chunk = await request.content.read(PUSH_BODY_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def add_push_routes(app: web.Application, watcher_of: WatcherOf) -> None:
    async def ping(request: web.Request) -> web.Response:
        watcher = watcher_of(request.app)
        if watcher is None:
            return _not_found()
        body = await read_ping_body(request) if request.method == "POST" else b""
        evidence = evidence_snippet(body, PUSH_EVIDENCE_CHARS) if body else ""
        outcome, check = watcher.receive(
            request.match_info["token"], request.match_info.get("signal", ""), evidence
        )
        if outcome is PingOutcome.RATE_LIMITED:
            return web.Response(status=429, text="rate limited\n", headers={"Retry-After": "1"})
        if check is None or outcome is PingOutcome.UNKNOWN:
            return _not_found()
        peers = [] if FORWARDED in request.headers else watcher.peers_of(check)
        answers = await forward(request.app[_SESSION], peers, request.path, body) if peers else []
        if outcome is PingOutcome.ACCEPTED or 200 in answers:
            return web.Response(text="OK\n")
        if not peers:  # another replica's check, passed on to us: the shards disagree
            return _not_found()
        return web.Response(status=503, text="no owner of this check answered\n")

    async def forwarding_session(app: web.Application) -> AsyncIterator[None]:
        """Made at start-up (an app's state is frozen once it runs), closed at cleanup."""
        app[_SESSION] = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        yield
        await app[_SESSION].close()

    app.cleanup_ctx.append(forwarding_session)
    for path in (PUSH_PREFIX + "{token}", PUSH_PREFIX + "{token}/{signal}"):
        app.router.add_get(path, ping)
        app.router.add_post(path, ping)


def _not_found() -> web.Response:
    return web.Response(status=404, text="not found\n")
