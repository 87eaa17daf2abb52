"""The simulated fleet's own behaviours that tests rely on: answers that change in time."""

from __future__ import annotations

import random

import aiohttp
import pytest

from monitor.simulator import Behavior, Latency, SimService, SimulatedFleet
from monitor.simulator.server import _Service

DOWN, UP, LATER = Behavior(status=500), Behavior(status=200), Behavior(status=204)


def service(behavior: Behavior) -> _Service:
    return _Service(SimService("s", {}), {"/health": behavior}, random.Random(1))


@pytest.mark.parametrize(
    ("times", "statuses"),
    [
        ([10.0, 11.9, 12.0, 50.0], [500, 500, 200, 200]),  # the clock starts at the first request
        ([0.0, 1.0], [500, 500]),
    ],
)
def test_then_switches_after_the_first_request(times: list[float], statuses: list[int]) -> None:
    sim = service(Behavior(status=500, then=UP, then_after=2.0))
    got = [sim.behavior("/health", t) for t in times]
    assert [b.status if b else None for b in got] == statuses


def test_then_chains_each_timer_from_the_previous_switch() -> None:
    sim = service(
        Behavior(status=500, then=Behavior(status=200, then=LATER, then_after=1.0), then_after=2.0)
    )
    got = [sim.behavior("/health", t) for t in (0.0, 2.0, 2.9, 3.0)]
    assert [b.status if b else None for b in got] == [500, 200, 200, 204]


def test_setting_a_behavior_restarts_its_clock() -> None:
    sim = service(Behavior(status=500, then=UP, then_after=2.0))
    assert sim.behavior("/health", 0.0) == Behavior(status=500, then=UP, then_after=2.0)
    sim.set("/health", Behavior(status=503, then=UP, then_after=2.0))
    assert [sim.behavior("/health", t).status for t in (5.0, 6.9, 7.0)] == [503, 503, 200]  # type: ignore[union-attr]


async def test_control_api_accepts_then() -> None:
    async with SimulatedFleet([SimService("s", {"/health": Behavior()})]) as fleet:
        body = {"status": 500, "then": {"status": 200}, "then_after_s": 0}
        async with aiohttp.ClientSession() as session:
            async with session.put(fleet.url("s") + "/__sim__/behavior", json=body) as r:
                assert r.status == 200
            async with session.get(fleet.url("s") + "/health") as r:
                assert r.status == 200  # then_after 0: switched on the first request


async def test_injected_latency_is_kept_only_when_asked() -> None:
    slow = Behavior(latency=Latency(0.004, 0.006))
    async with (
        SimulatedFleet([SimService("kept", {"/health": slow})], record_latency=True) as kept,
        SimulatedFleet([SimService("not", {"/health": slow})]) as default,
        aiohttp.ClientSession() as session,
    ):
        for fleet, name in ((kept, "kept"), (default, "not")):
            for _ in range(3):
                async with session.get(fleet.url(name) + "/health") as r:
                    assert r.status == 200
        held = kept.injected("kept")
        assert len(held) == 3 and all(0.001 < h < 1.0 for h in held)
        with pytest.raises(RuntimeError, match="record_latency"):
            default.injected("not")  # a long-running demo must not grow a list per request
