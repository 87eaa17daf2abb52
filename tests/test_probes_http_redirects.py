"""Redirects through the real probe: configured headers stay on the check's exact origin, and the
`max_redirects` boundaries hold (curl CVE-2022-27776 is the bug class)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from ssl import SSLContext

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr
from yarl import URL

from monitor.answer import TransportError
from monitor.config import Check
from monitor.model import Reason, Status
from monitor.normalize import normalize_response
from monitor.probes.http import origin_of, probe_http
from tests.certs import CertificateAuthority
from tests.loopback import serving
from tests.test_probes_http import make_check

TOKEN = "Bearer redirect-token-3141"
Recorded = list[tuple[str, dict[str, str]]]
Start = Callable[..., Awaitable[str]]


def with_secrets(check: Check, **changes: object) -> Check:
    headers = {"Authorization": SecretStr(TOKEN), "X-Tenant": SecretStr("tenant-secret-2718")}
    return dataclasses.replace(check, headers=headers, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def serve() -> AsyncIterator[Start]:
    """`await serve(app, ssl=None)` -> base URL of a loopback server (127.0.0.1, port 0)."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(app: web.Application, ssl: SSLContext | None = None) -> str:
            return await stack.enter_async_context(serving(app, tls=ssl))

        yield start


def recording_app(seen: Recorded, routes: dict[str, str | None]) -> web.Application:
    """`path -> redirect target` (None: answer healthy); every request's headers are recorded."""

    async def handle(request: web.Request) -> web.Response:
        seen.append((request.path, dict(request.headers)))
        target = routes[request.path]
        if target is not None:
            raise web.HTTPFound(target)
        return web.json_response({"status": "pass"})

    app = web.Application()
    for path in routes:
        app.router.add_get(path, handle)
    return app


def has_secrets(headers: dict[str, str]) -> bool:
    return headers.get("Authorization") == TOKEN or "X-Tenant" in headers


async def test_same_host_other_port_gets_no_configured_header(serve: Start) -> None:
    other: Recorded = []
    other_base = await serve(recording_app(other, {"/health": None}))
    home: Recorded = []
    home_base = await serve(recording_app(home, {"/health": other_base + "/health"}))
    async with aiohttp.ClientSession() as session:
        answer = await probe_http(session, with_secrets(make_check(home_base + "/health")))
    assert [path for path, _ in other] == ["/health"] and answer.redirects == 1
    assert has_secrets(home[0][1])
    assert not has_secrets(other[0][1]), "configured headers crossed to another port"
    assert answer.crossed_origin == origin_of(URL(other_base))
    verdict = normalize_response(answer)
    assert verdict.status is Status.HEALTHY
    assert "another origin" in verdict.detail and other_base in verdict.detail


async def test_same_origin_keeps_the_configured_headers(serve: Start) -> None:
    seen: Recorded = []
    base = await serve(recording_app(seen, {"/health": "/v2/health", "/v2/health": None}))
    async with aiohttp.ClientSession() as session:
        # an absolute Location naming the default-less same origin counts as the same origin
        answer = await probe_http(session, with_secrets(make_check(base + "/health")))
    assert [path for path, _ in seen] == ["/health", "/v2/health"]
    assert all(has_secrets(headers) for _, headers in seen)
    assert answer.crossed_origin == ""
    assert "another origin" not in normalize_response(answer).detail


async def test_https_to_http_on_the_same_host_is_followed_without_headers(
    serve: Start, tmp_path: Path
) -> None:
    ca = CertificateAuthority()
    plain: Recorded = []
    plain_base = await serve(recording_app(plain, {"/health": None}))
    secure: Recorded = []
    secure_base = await serve(
        recording_app(secure, {"/health": plain_base + "/health"}),
        ssl=ca.server_context("valid", tmp_path),
    )
    connector = aiohttp.TCPConnector(ssl=ca.client_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        answer = await probe_http(session, with_secrets(make_check(secure_base + "/health")))
    assert has_secrets(secure[0][1])
    assert len(plain) == 1 and not has_secrets(plain[0][1]), "secrets sent in clear"
    assert answer.crossed_origin.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("http://127.0.0.1/x", True),
        ("http://127.0.0.1:80/y", True),
        ("HTTP://127.0.0.1/z", True),
        ("http://127.0.0.1:8080/x", False),
        ("https://127.0.0.1/x", False),
        ("https://127.0.0.1:80/x", False),
        ("http://localhost/x", False),
    ],
)
def test_origin_is_scheme_host_and_port_with_default_ports_made_explicit(
    url: str, same: bool
) -> None:
    assert (origin_of(URL(url)) == origin_of(URL("http://127.0.0.1/health"))) is same


def hop_app(seen: Recorded) -> web.Application:
    """`/hop/N` redirects to `/hop/N-1`; `/hop/0` answers healthy."""

    async def hop(request: web.Request) -> web.Response:
        seen.append((request.path, dict(request.headers)))
        left = int(request.match_info["n"])
        if left > 0:
            raise web.HTTPFound(f"/hop/{left - 1}")
        return web.json_response({"status": "pass"})

    app = web.Application()
    app.router.add_get("/hop/{n}", hop)
    return app


async def test_max_redirects_zero_leaves_a_3xx_unfollowed(serve: Start) -> None:
    seen: Recorded = []
    base = await serve(hop_app(seen))
    async with aiohttp.ClientSession() as session:
        answer = await probe_http(session, make_check(base + "/hop/1", redirects=0))
    assert [path for path, _ in seen] == ["/hop/1"]
    assert answer.error is None and answer.status_code == 302 and answer.redirects == 0
    assert normalize_response(answer).reason is Reason.UNEXPECTED_REDIRECT


@pytest.mark.parametrize("limit", [1, 3])
async def test_exactly_max_redirects_hops_pass_and_one_more_fails(serve: Start, limit: int) -> None:
    seen: Recorded = []
    base = await serve(hop_app(seen))
    async with aiohttp.ClientSession() as session:
        within = await probe_http(session, make_check(f"{base}/hop/{limit}", redirects=limit))
        seen.clear()
        over = await probe_http(session, make_check(f"{base}/hop/{limit + 1}", redirects=limit))
    assert within.error is None and within.redirects == limit
    assert normalize_response(within).status is Status.HEALTHY
    assert over.error is TransportError.TOO_MANY_REDIRECTS
    assert normalize_response(over).reason is Reason.TOO_MANY_REDIRECTS
    assert len(seen) == limit + 1, "the hop beyond the limit must not be requested"
