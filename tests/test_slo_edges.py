"""Latency judging at its edges: the detail a person reads for each window length, exactly 20
samples, a check's own minimum, no answer at all, and the 16 KiB JSON sniff limit."""

from __future__ import annotations

import json

import pytest

from monitor.answer import Answer, TransportError
from monitor.config import Check
from monitor.latency import WindowSummary
from monitor.model import Reason, Status, Verdict
from monitor.slo import LatencySource, judge_latency, judged_latency
from tests.check_builders import check_config

OK = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="fine")


def summary(window: float, count: int, p95: float) -> WindowSummary:
    return WindowSummary(window, count, p95, p95, p95, 3, 0.1)


@pytest.mark.parametrize(
    ("window", "words"), [(59, "59s"), (60, "1m"), (90, "1.5m"), (3600, "60m")]
)
def test_the_detail_names_p95_target_window_and_counts(window: float, words: str) -> None:
    judged = judge_latency(OK, [summary(window, 30, 0.0071)], 0.005)
    assert judged.detail == (
        f"p95 7.10 ms is over the 5 ms target ({words} window, 30 samples, 3 over target)"
    )


def test_exactly_twenty_samples_are_enough() -> None:
    judged = judge_latency(OK, [summary(60, 20, 0.050)], 0.005)
    assert (judged.status, judged.reason) == (Status.DEGRADED, Reason.LATENCY_OVER_TARGET)


def test_a_smaller_minimum_is_honoured() -> None:
    judged = judge_latency(OK, [summary(60, 5, 0.050)], 0.005, min_samples=5)
    assert judged.status is Status.DEGRADED
    assert judge_latency(OK, [summary(60, 4, 0.050)], 0.005, min_samples=5) == OK


def _rpc() -> Check:
    return check_config()


def test_no_answer_and_a_failed_answer_record_no_sample() -> None:
    nothing = Answer(url="http://x", duration_s=0.2)
    assert judged_latency(_rpc(), nothing) == (None, LatencySource.ROUND_TRIP)
    failed = Answer(url="http://x", status_code=200, error=TransportError.TIMEOUT, duration_s=1)
    assert judged_latency(_rpc(), failed) == (None, LatencySource.ROUND_TRIP)


def _json_of_size(size: int) -> bytes:
    body = json.dumps({"rpc_ms": 2.5}).encode()
    return body + b" " * (size - len(body))


@pytest.mark.parametrize(
    ("size", "source"),
    [(16384, LatencySource.JSON), (16385, LatencySource.ROUND_TRIP)],
)
def test_the_json_body_is_read_up_to_16_kib(size: int, source: LatencySource) -> None:
    answer = Answer(
        url="http://x",
        status_code=200,
        headers={"content-type": "application/json"},
        body=_json_of_size(size),
        duration_s=0.0123,
    )
    value, got = judged_latency(_rpc(), answer)
    assert got is source
    assert value == (0.0025 if source is LatencySource.JSON else 0.0123)
