"""Latency against targets: which sample is judged, when a breach degrades, and the daemon
end to end with a smoke path that turns slow and recovers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.answer import Answer, TransportError
from monitor.config import Check, parse_config
from monitor.latency import WindowSummary
from monitor.model import CheckKind, Reason, Status, Verdict
from monitor.runtime.daemon import Monitor
from monitor.simulator import Behavior, Latency, SimulatedFleet, fleet_config
from monitor.slo import (
    LatencySource,
    judge_latency,
    judged_latency,
    judging_window,
    within_target,
)
from tests.polling import until


def check(kind: CheckKind, target: float = 0.005) -> Check:
    return Check(
        service="gw",
        name="db",
        kind=kind,
        url="http://x/smoke/db",
        method="GET",
        interval=1,
        timeout=1,
        target=target,
        max_body_bytes=65536,
        max_redirects=0,
    )


def answer(headers: dict[str, str] | None = None, body: bytes = b"", **kw: Any) -> Answer:
    return Answer(
        url="http://x",
        status_code=kw.pop("status_code", 200),
        headers=headers or {},
        body=body,
        duration_s=0.0123,
        **kw,
    )


@pytest.mark.parametrize(
    ("kind", "ans", "expected", "source"),
    [
        (
            CheckKind.RPC,
            answer({"server-timing": "db;dur=9, rpc;dur=2.5"}),
            0.0025,
            LatencySource.SERVER_TIMING,
        ),
        (
            CheckKind.RPC,
            answer({"content-type": "application/json"}, b'{"rpc_ms": 3.25}'),
            0.00325,
            LatencySource.JSON,
        ),
        (
            CheckKind.RPC,
            answer({"content-type": "application/json"}, b'{"timing": {"rpc_ms": 1}}'),
            0.001,
            LatencySource.JSON,
        ),
        (CheckKind.RPC, answer({"server-timing": "rpc;dur=abc"}), 0.0123, LatencySource.ROUND_TRIP),
        (
            CheckKind.RPC,
            answer({"content-type": "application/json"}, b"{broken"),
            0.0123,
            LatencySource.ROUND_TRIP,
        ),
        (
            CheckKind.HTTP,
            answer({"server-timing": "rpc;dur=2.5"}),
            0.0123,
            LatencySource.ROUND_TRIP,
        ),
        (CheckKind.HEALTH, answer(), 0.0123, LatencySource.ROUND_TRIP),
        (
            CheckKind.RPC,
            answer(status_code=None, error=TransportError.TIMEOUT),
            None,
            LatencySource.ROUND_TRIP,
        ),
    ],
)
def test_judged_latency(
    kind: CheckKind, ans: Answer, expected: float | None, source: LatencySource
) -> None:
    value, got = judged_latency(check(kind), ans)
    assert got is source
    assert value == (None if expected is None else pytest.approx(expected))


def summary(window: float, count: int, p95: float | None) -> WindowSummary:
    return WindowSummary(window, count, p95, p95, p95, 0, 0.0 if count else None)


OK = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="fine")


@pytest.mark.parametrize(
    ("verdict", "summaries", "status", "reason"),
    [
        (OK, [summary(60, 30, 0.007)], Status.DEGRADED, Reason.LATENCY_OVER_TARGET),
        (OK, [summary(60, 30, 0.005)], Status.HEALTHY, Reason.OK),  # at target is within
        (OK, [summary(60, 19, 0.050)], Status.HEALTHY, Reason.OK),  # too few samples
        # 1m has too few, 1h has enough and is within: within
        (OK, [summary(60, 5, 0.050), summary(3600, 120, 0.004)], Status.HEALTHY, Reason.OK),
        # the shortest window with enough samples decides
        (
            OK,
            [summary(60, 25, 0.009), summary(3600, 900, 0.004)],
            Status.DEGRADED,
            Reason.LATENCY_OVER_TARGET,
        ),
        (
            Verdict(status=Status.UNHEALTHY, reason=Reason.TIMEOUT, detail="t"),
            [summary(60, 30, 0.5)],
            Status.UNHEALTHY,
            Reason.TIMEOUT,
        ),
    ],
)
def test_judge_latency(
    verdict: Verdict, summaries: list[WindowSummary], status: Status, reason: Reason
) -> None:
    judged = judge_latency(verdict, summaries, 0.005)
    assert (judged.status, judged.reason) == (status, reason)
    if reason is Reason.LATENCY_OVER_TARGET:
        assert "over the 5 ms target" in judged.detail


@pytest.mark.parametrize(
    ("p95", "target", "within"),
    [(0.004, 0.005, True), (0.005, 0.005, True), (0.0050001, 0.005, False), (None, 0.005, None)],
)
def test_within_target_includes_the_target_itself(
    p95: float | None, target: float, within: bool | None
) -> None:
    assert within_target(p95, target) is within


def test_judging_window_is_the_shortest_with_enough() -> None:
    rows = [summary(3600, 500, 0.001), summary(60, 25, 0.002), summary(300, 100, 0.003)]
    chosen = judging_window(rows)
    assert chosen is not None and chosen.window_s == 60
    assert judging_window([summary(60, 3, 0.1)]) is None


async def test_slow_smoke_path_degrades_the_service_then_it_recovers(
    fleet: SimulatedFleet,
) -> None:
    data: dict[str, Any] = fleet_config(fleet, interval="50ms", timeout="45ms")
    data["services"] = [s for s in data["services"] if s["name"] == "do-gateway"]
    data["services"][0].pop("depends_on")
    data["latency"] = {"windows": ["2s", "10s"], "status_window": "2s", "min_samples": 10}
    monitor = Monitor(parse_config(json.dumps(data)))
    fast = Behavior(body='{"ok": true}', rpc=Latency(0.001, 0.002))
    slow = Behavior(body='{"ok": true}', rpc=Latency(0.012, 0.015))
    fleet.set_behavior("do-gateway", fast, path="/smoke/db")

    def gateway() -> Any:
        return next(s for s in monitor.status().services if s.name == "do-gateway")

    await monitor.start()
    try:
        await until(lambda: gateway().checks[1].within_target is True)
        assert gateway().status is Status.HEALTHY
        rpc = gateway().checks[1]
        assert rpc.latency_source == "server_timing" and rpc.target_ms == 5.0
        assert rpc.latency_ms is not None and rpc.latency_ms.p95 is not None
        assert rpc.latency_ms.p95 < 5.0 and rpc.latency_ms.window == "2s"

        fleet.set_behavior("do-gateway", slow, path="/smoke/db")
        await until(lambda: gateway().status is Status.DEGRADED)
        service = gateway()
        assert service.reason is Reason.LATENCY_OVER_TARGET
        assert service.detail.startswith("rpc check db: p95")
        assert service.checks[1].within_target is False
        labels = {"service": "do-gateway", "check": "db", "kind": "rpc"}
        assert (
            monitor.registry.get_sample_value("monitor_check_latency_seconds_count", labels) or 0
        ) >= 10

        fleet.set_behavior("do-gateway", fast, path="/smoke/db")
        await until(lambda: gateway().status is Status.HEALTHY)
        assert gateway().checks[1].within_target is True
    finally:
        await monitor.stop()
