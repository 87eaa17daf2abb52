"""The load generator against the hostile corpus (tests/hostile.py): whatever a service sends,
every request due gets an outcome, a misbehaving answer is an error with a reason, a good one
is not, and nothing hangs or grows: a body over the cap ends the answer and its connection.
And against a well-behaved server over plain TCP and TLS."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import pytest

from monitor.gate.load import LoadPlan
from monitor.gate.open_loop import LoadTargetError, OpenLoopGenerator
from monitor.model import Status
from tests.hostile import HostileCorpus
from tests.test_hostile import CASE_NAMES
from tests.test_stamped_transport import DELAY, delayed_server

__all__ = ["delayed_server"]  # the fixture: plain and TLS servers in their own process

REQUESTS = 4


@pytest.fixture
async def corpus() -> AsyncIterator[HostileCorpus]:
    async with HostileCorpus() as running:
        yield running


@pytest.mark.parametrize("name", [n for n in CASE_NAMES if n != "dns_failure"])
async def test_every_hostile_answer_is_an_outcome_never_a_crash(
    corpus: HostileCorpus, name: str
) -> None:
    case = next(c for c in corpus.cases if c.name == name)
    plan = LoadPlan(url=case.url, rate=20.0, duration=REQUESTS / 20.0, timeout=0.5)
    generator = OpenLoopGenerator(plan, tls=corpus.client_ssl_context())
    await generator.run()
    recorder = generator.recorder
    assert recorder.finished == REQUESTS  # answered or failed, none lost
    if case.expected_status is Status.HEALTHY:
        assert not recorder.errors, recorder.errors
    else:
        assert recorder.errors.total() >= 1, f"{name}: no error counted"
    assert not generator.busy and not generator.idle  # every connection closed at the end


async def test_a_host_that_does_not_resolve_is_refused_before_any_request(
    corpus: HostileCorpus,
) -> None:
    case = next(c for c in corpus.cases if c.name == "dns_failure")
    generator = OpenLoopGenerator(LoadPlan(url=case.url, rate=10.0, duration=1.0))
    with pytest.raises(LoadTargetError, match="cannot resolve"):
        await generator.run()


async def test_plain_and_tls_answers_are_timed_on_the_stamped_transport(
    delayed_server: tuple[str, ssl.SSLContext | None],
) -> None:
    """https runs TLS over the same kernel-stamped transport as the probes: the service time
    holds the server's 20 ms hold, and nothing fails."""
    url, tls = delayed_server
    plan = LoadPlan(url=url + "/health", rate=20.0, duration=1.0, timeout=2.0)
    generator = OpenLoopGenerator(plan, tls=tls)
    await generator.run()
    recorder = generator.recorder
    assert recorder.finished == 20 and not recorder.errors
    p50 = recorder.service.quantiles([0.5])[0]
    assert p50 is not None and p50 >= DELAY * 0.99
