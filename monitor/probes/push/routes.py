"""`/push/{token}[/start|/fail|/{exit_code}]`, GET or POST, so `curl -fsS URL` works from a cron
line or a Worker's `fetch`. The token in the URL is the credential: these routes need no
bearer token (auth.read_token does not apply), answer 404 alike for every miss, and the
token is never logged (the daemon keeps no access log) nor echoed."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from monitor.normalize.evidence import evidence_snippet
from monitor.probes.push.watcher import PingOutcome, PushWatcher

PUSH_PREFIX = "/push/"
PUSH_BODY_BYTES = 10 * 1024
"""Read at most this much of a ping's body; more is cut (the ping still counts)."""
PUSH_EVIDENCE_CHARS = 1000
"""A ping's body as evidence: room for the tail of a job's output."""

WatcherOf = Callable[[web.Application], PushWatcher | None]


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
        outcome = watcher.receive(
            request.match_info["token"], request.match_info.get("signal", ""), evidence
        )
        if outcome is PingOutcome.ACCEPTED:
            return web.Response(text="OK\n")
        if outcome is PingOutcome.RATE_LIMITED:
            return web.Response(status=429, text="rate limited\n", headers={"Retry-After": "1"})
        return _not_found()

    for path in ("/push/{token}", "/push/{token}/{signal}"):
        app.router.add_get(path, ping)
        app.router.add_post(path, ping)


def _not_found() -> web.Response:
    return web.Response(status=404, text="not found\n")
