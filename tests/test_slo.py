"""Latency against targets: which sample is judged, when a breach degrades, and the daemon
end to end with a smoke path that turns slow and recovers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.alerting.kinds.burn_rate import BurnRateRule
from monitor.answer import Answer, TransportError
from monitor.config import Check, parse_config
from monitor.latency import LatencyWindows, WindowSummary
from monitor.model import CheckKind, Reason, Status, Verdict
from monitor.runtime.daemon import Monitor
from monitor.simulator import Behavior, Latency, SimulatedFleet, fleet_config
from monitor.slo import (
    BURN_RATE_RULE_OBJECTIVE,
    P95_BUDGET,
    LatencySource,
    burn_rate,
    burning,
    error_budget,
    judge_latency,
    judged_latency,
    judging_window,
    within_target,
)
from tests.check_builders import check_config
from tests.polling import until


def check(kind: CheckKind, target: float = 0.005) -> Check:
    return check_config(kind=kind, target=target)


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


@pytest.mark.parametrize(
    ("ratio", "objective", "rate"),
    [
        (0.05, 0.95, 1.0),  # spending exactly the budget
        (0.72, 0.95, 14.4),  # the workbook's fast-burn page threshold
        (0.0, 0.95, 0.0),
        (1.0, 0.95, 20.0),  # the most a 95 % objective can burn
        (0.01, 0.999, 10.0),
        (0.3, 0.9, 3.0),
    ],
)
def test_burn_rate(ratio: float, objective: float, rate: float) -> None:
    assert burn_rate(ratio, objective) == pytest.approx(rate)


@pytest.mark.parametrize(
    ("ratio", "objective"), [(0.1, 1.0), (0.1, 0.0), (-0.1, 0.95), (1.1, 0.95)]
)
def test_burn_rate_refuses_out_of_range(ratio: float, objective: float) -> None:
    with pytest.raises(ValueError):
        burn_rate(ratio, objective)


@pytest.mark.parametrize(
    ("short", "long", "threshold", "fires"),
    [
        (15.0, 15.0, 14.4, True),
        (20.0, 14.5, 14.4, True),
        (20.0, 10.0, 14.4, False),  # a short spike the hour does not confirm
        (1.0, 20.0, 14.4, False),  # over already: the short window has reset
        (14.4, 14.4, 14.4, True),  # at least, as alerts.yaml and the PromQL export say
        (14.4, 14.399999, 14.4, False),
        (6.1, 6.1, 6.0, True),
    ],
)
def test_burning_needs_both_windows(
    short: float, long: float, threshold: float, fires: bool
) -> None:
    assert burning(long, short, threshold) is fires


def test_burn_alert_from_windows_end_to_end() -> None:
    """An RPC check that goes from 1 % to 80 % over 5 ms: fires once the hour agrees."""
    lw = LatencyWindows(0.005)
    for i in range(3000):  # 50 min healthy, one sample a second
        lw.record(0.010 if i % 100 == 0 else 0.002, float(i))
    for i in range(3000, 3600):  # 10 min bad
        lw.record(0.010 if i % 5 else 0.002, float(i))

    def rates(now: float) -> tuple[float, float]:
        short = lw.summary(300.0, now).over_target_ratio
        long = lw.summary(3600.0, now).over_target_ratio
        assert short is not None and long is not None
        return burn_rate(short), burn_rate(long)

    short, long = rates(3599.0)
    assert short == pytest.approx(16.0, rel=0.02)
    assert long == pytest.approx((30 + 480) / 3600 / 0.05)  # the hour has not caught up
    assert burning(long, short, 14.4) is False
    assert burning(long, short, 2.0) is True


@pytest.mark.parametrize(
    ("objective", "budget"), [(0.95, 0.05), (0.99, 0.01), (0.999, 0.001), (0.9995, 0.0005)]
)
def test_error_budget_is_the_decimal_complement(objective: float, budget: float) -> None:
    assert error_budget(objective) == budget  # exact: 1 - 0.99 in binary is 0.010000000000000009


def test_spending_exactly_the_budget_burns_at_exactly_one() -> None:
    # 0.05 / (1 - 0.95) would be 0.9999999999999991: under a threshold of 1.
    assert burn_rate(0.05) == 1.0
    assert burning(burn_rate(0.05), burn_rate(0.05), 1.0)


def test_the_p95_budget_and_the_rule_default() -> None:
    assert P95_BUDGET == 0.05
    assert BurnRateRule.model_fields["objective"].default == BURN_RATE_RULE_OBJECTIVE == 0.99
