"""The load generator against the hostile corpus (tests/hostile.py): whatever a service sends,
every request due gets an outcome, a misbehaving answer is an error with a reason, a good one
is not, and nothing hangs or grows: a body over the cap ends the answer and its connection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from monitor.gate.load import LoadPlan
from monitor.gate.open_loop import LoadTargetError, OpenLoopGenerator
from monitor.model import Status
from tests.hostile import HostileCorpus
from tests.test_hostile import CASE_NAMES

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
