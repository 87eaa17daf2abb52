"""The one `/status` client of `monitor status --from` and `monitor verify --from`, against a
real loopback server: the size cap at its boundary, non-JSON and wrong-schema answers, the
bearer token and the deadline; and both commands refusing the same answer with the same words."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web

from monitor.config import ServiceConfig
from monitor.fleet.merge import merge
from monitor.fleet.status_client import (
    MAX_STATUS_BYTES,
    fetch_all,
    parse_status,
    status_url,
)
from monitor.gate.rounds import VerifyOptions, verify
from monitor.model import CheckKind, CheckStatus, FleetStatus, Reason, Status
from monitor.status import service_status
from tests.loopback import serving
from tests.test_verify import monitor_cli

DOCUMENT = (
    FleetStatus(
        status=Status.HEALTHY,
        generated_at=datetime(2026, 11, 30, tzinfo=UTC),
        counts={s: 0 for s in Status},
        services=[],
    )
    .model_dump_json()
    .encode()
)
CHUNK = b" " * (1 << 20)
TOKEN = "s3cret-read-token"


async def _padded(request: web.Request, size: int) -> web.StreamResponse:
    """The document padded with JSON whitespace to exactly `size` bytes, sent chunked."""
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(DOCUMENT)
    left = size - len(DOCUMENT)
    try:
        while left > 0:
            await response.write(CHUNK[: min(left, len(CHUNK))])
            left -= len(CHUNK)
    except ConnectionResetError:  # the client stopped reading at the cap
        return response
    await response.write_eof()
    return response


async def exact(request: web.Request) -> web.StreamResponse:
    return await _padded(request, MAX_STATUS_BYTES)


async def over(request: web.Request) -> web.StreamResponse:
    return await _padded(request, MAX_STATUS_BYTES + 1)


async def declared_over(request: web.Request) -> web.StreamResponse:
    """Content-Length says one byte over the cap: refused before the body is read."""
    response = web.StreamResponse(headers={"Content-Length": str(MAX_STATUS_BYTES + 1)})
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):
        await response.write(DOCUMENT)
    return response


async def not_json(request: web.Request) -> web.Response:
    return web.Response(text="<html>login</html>", content_type="text/html")


async def wrong_schema(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def guarded(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.Response(status=401)
    return web.Response(body=DOCUMENT, content_type="application/json")


async def silent(request: web.Request) -> web.Response:
    await asyncio.Event().wait()  # never answers; the client's deadline ends it
    raise AssertionError("unreachable")


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    for path, handler in [
        ("/exact", exact),
        ("/over", over),
        ("/declared-over", declared_over),
        ("/not-json", not_json),
        ("/wrong-schema", wrong_schema),
        ("/guarded", guarded),
        ("/silent", silent),
    ]:
        app.router.add_get(path, handler)
    async with serving(app, shutdown_timeout=0.1) as url:
        yield url


async def test_exactly_the_cap_passes_and_one_byte_more_is_refused(server: str) -> None:
    at, over_by_one = await fetch_all([f"{server}/exact", f"{server}/over"], timeout=60)
    assert at.error is None and at.status is not None
    assert at.status.status is Status.HEALTHY
    assert (over_by_one.status, over_by_one.error) == (None, "/status is larger than 256 MiB")


@pytest.mark.parametrize(
    ("path", "token", "error"),
    [
        ("/declared-over", None, "/status is larger than 256 MiB"),
        ("/not-json", None, "not JSON (Invalid JSON: expected value at line 1 column 1)"),
        ("/wrong-schema", None, "not a monitor /status document (status: Input should be"),
        ("/guarded", None, "HTTP 401, expected 200"),
        ("/guarded", "wrong", "HTTP 401, expected 200"),
        ("/silent", None, "no answer within 0.2s"),
    ],
)
async def test_unusable_answers_have_a_clear_reason(
    server: str, path: str, token: str | None, error: str
) -> None:
    [answer] = await fetch_all([server + path], timeout=0.2, token=token)
    assert answer.status is None and answer.error is not None
    assert answer.error.startswith(error), answer.error


async def test_the_bearer_token_is_sent(server: str) -> None:
    [answer] = await fetch_all([f"{server}/guarded"], timeout=5, token=TOKEN)
    assert answer.error is None and answer.status is not None


@pytest.mark.parametrize(
    ("source", "url"),
    [
        ("http://m-0:8700", "http://m-0:8700/status"),
        ("http://m-0:8700/", "http://m-0:8700/status"),
        ("https://m-0/status", "https://m-0/status"),
        ("http://m-0/other/path", "http://m-0/other/path"),
    ],
)
def test_status_url(source: str, url: str) -> None:
    assert status_url(source) == url


@pytest.mark.parametrize("source", ["ftp://m-0", "m-0:8700", "http://"])
def test_status_url_needs_http(source: str) -> None:
    with pytest.raises(ValueError, match="expected an http:// or https:// URL"):
        status_url(source)


def test_parse_status_round_trips_a_document() -> None:
    parsed = parse_status(DOCUMENT)
    assert isinstance(parsed, FleetStatus) and parsed.services == []


@pytest.mark.parametrize("path", ["/declared-over", "/not-json", "/wrong-schema"])
async def test_verify_refuses_an_answer_with_the_clients_reason(server: str, path: str) -> None:
    url = server + path
    [expected] = await fetch_all([url], timeout=5)
    assert expected.error is not None
    code, out, err = await monitor_cli("verify", "--from", url)
    assert (code, out) == (2, "")
    assert f"--from {url}: {expected.error}" in err


async def test_status_refuses_each_answer_with_the_clients_reason(server: str) -> None:
    """The same reasons as `verify` (above): one `status` run reports every replica."""
    urls = [server + path for path in ("/declared-over", "/not-json", "/wrong-schema")]
    expected = await fetch_all(urls, timeout=5)
    code, out, err = await monitor_cli(
        "status", *(arg for url in urls for arg in ("--from", url)), "--json"
    )
    assert code == 1, err
    replicas = json.loads(out)["replicas"]
    assert [(r["ok"], r["error"]) for r in replicas] == [(False, e.error) for e in expected]
    assert all(e.error for e in expected)


def _sharded(checks: list[CheckStatus]) -> bytes:
    """A replica's /status holding some of service `a`'s checks, aggregated as the daemon does."""
    service = service_status(ServiceConfig(name="a", url="http://a"), checks, None)
    return (
        FleetStatus(
            status=service.status,
            generated_at=datetime(2026, 11, 30, tzinfo=UTC),
            counts={s: int(s is service.status) for s in Status},
            services=[service],
        )
        .model_dump_json()
        .encode()
    )


async def test_both_commands_merge_replicas_with_one_rule() -> None:
    """r0 holds `a`'s health check (healthy, version 2.0), r1 only its smoke check (failing):
    the service is degraded by the smoke check and keeps the health check's version. Taking one
    replica's whole service (the gate's old rule) lost the version and the health check."""
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    health = CheckStatus(
        name="health", kind=CheckKind.HEALTH, url="http://a/health", status=Status.HEALTHY,
        reason=Reason.OK, detail="ok", version="2.0", checked_at=at, since=at,
    )  # fmt: skip
    smoke = CheckStatus(
        name="db", kind=CheckKind.RPC, url="http://a/db", status=Status.UNHEALTHY,
        reason=Reason.SERVER_ERROR, detail="HTTP 500", checked_at=at, since=at,
    )  # fmt: skip
    bodies = {"/r0": _sharded([health]), "/r1": _sharded([smoke])}

    async def replica(request: web.Request) -> web.Response:
        return web.Response(body=bodies[request.path], content_type="application/json")

    app = web.Application()
    app.router.add_get("/{name}", replica)
    async with serving(app) as url:
        urls = tuple(f"{url}{p}" for p in bodies)
        merged = merge(await fetch_all(urls, timeout=5), at)
        report = await verify(None, VerifyOptions(sources=urls, expect_version="2.0"))
    [service] = merged.fleet.services
    assert (service.status, service.version) == (Status.DEGRADED, "2.0")
    assert [c.name for c in service.checks] == ["health", "db"]
    [verdict] = report.services
    assert (verdict.status, verdict.reason, verdict.detail) == (
        service.status,
        service.reason,
        service.detail,
    )
    assert verdict.version == "2.0" and not verdict.ok
