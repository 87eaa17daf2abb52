"""A failed probe frees its connection by reference counting (monitor/tracebacks.py).

`monitor run` raises the young-generation threshold (gc_policy.py), so what only the cyclic
collector can free waits a long time. Here the collector is off altogether, the limit of that
tuning: after many probes against services that break the protocol or the TLS handshake, the
client-side protocols (each with its parser and read buffer) and TLS layers (a 256 KiB buffer
each) must already be gone, and so must the exceptions that reported them.
"""

from __future__ import annotations

import gc
from asyncio.sslproto import SSLProtocol
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp.client_proto import ResponseHandler

from monitor.model import Reason
from monitor.normalize import normalize_response
from monitor.probes.http import probe_http
from monitor.probes.timing import timed_connector
from monitor.receivers._base import Outcome, Request, post
from monitor.tracebacks import drop_tracebacks
from tests.hostile import HostileCorpus
from tests.polling import until
from tests.test_hostile import case_named, make_check

PROBES = 60
LEFT_OVER = 3  # the last connection may still be closing when the count is taken

CASES = {
    "not_http": Reason.PROTOCOL_ERROR,
    "broken_chunked": Reason.PROTOCOL_ERROR,
    "short_body": Reason.PROTOCOL_ERROR,
    "reset_mid_body": Reason.CONNECTION_RESET,
    "tls_expired": Reason.TLS_CERTIFICATE_EXPIRED,
}


def client_connections() -> tuple[int, int]:
    """Live client protocols and client-side TLS layers (the corpus's servers run here too)."""
    objects = gc.get_objects()
    protocols = sum(1 for o in objects if isinstance(o, ResponseHandler))
    tls = sum(1 for o in objects if isinstance(o, SSLProtocol) and not o._server_side)
    return protocols, tls


def client_exceptions(before: set[int]) -> list[BaseException]:
    """Exceptions alive now that were not alive at `before`, raised in the client (aiohttp, ssl)."""
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, BaseException)
        and id(o) not in before
        and type(o).__module__.split(".")[0] in ("aiohttp", "ssl", "socket")
    ]


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


@pytest.fixture
async def corpus() -> AsyncIterator[HostileCorpus]:
    async with HostileCorpus() as running:
        yield running


@pytest.mark.usefixtures("collector_off")
@pytest.mark.parametrize("name", list(CASES))
async def test_failed_probes_leave_nothing_for_the_collector(
    corpus: HostileCorpus, name: str
) -> None:
    check = make_check(case_named(corpus, name).url)
    connector = timed_connector(ssl=corpus.client_ssl_context())  # as the daemon's
    async with aiohttp.ClientSession(connector=connector) as session:
        before = {id(o) for o in gc.get_objects() if isinstance(o, BaseException)}
        for _ in range(PROBES):
            answer = await probe_http(session, check)
            assert normalize_response(answer).reason is CASES[name]

        def freed() -> bool:
            protocols, tls = client_connections()
            return protocols <= LEFT_OVER and tls <= LEFT_OVER

        try:
            await until(freed, timeout=3.0, every=0.1)
        except AssertionError:
            protocols, tls = client_connections()
            raise AssertionError(
                f"after {PROBES} probes: {protocols} client protocols, {tls} TLS layers alive"
            ) from None
        assert len(client_exceptions(before)) <= 2 * LEFT_OVER


@pytest.mark.usefixtures("collector_off")
@pytest.mark.parametrize("name", ["not_http", "broken_chunked", "tls_expired"])
async def test_failed_deliveries_leave_nothing_for_the_collector(
    corpus: HostileCorpus, name: str
) -> None:
    """The same for a receiver that fails every retry (receivers/_base.py `post`)."""
    request = Request("POST", case_named(corpus, name).url, {}, b"{}")
    connector = aiohttp.TCPConnector(ssl=corpus.client_ssl_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(PROBES):
            assert (await post(session, request, timeout=5.0)).outcome is Outcome.RETRY
        await until(lambda: max(client_connections()) <= LEFT_OVER, timeout=3.0, every=0.1)


def test_drop_tracebacks_follows_causes_contexts_and_groups() -> None:
    def raised(exc: BaseException) -> BaseException:
        try:
            raise exc
        except BaseException as caught:
            return caught

    inner = raised(ValueError("parser"))
    try:
        try:
            raise inner
        except ValueError as during:
            raise ExceptionGroup("group", [raised(OSError("reset"))]) from during
    except ExceptionGroup as outer:
        top = outer
    context_only = raised(KeyError("k"))
    top.__context__ = context_only
    drop_tracebacks(top)
    chain: list[BaseException] = [top, inner, context_only, *top.exceptions]
    assert all(e.__traceback__ is None for e in chain)
    assert top.__cause__ is inner  # the chain itself is kept for the message
