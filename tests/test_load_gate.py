"""The load gate's pure parts: quantiles, the judgement at its boundaries, the rate and ratio
spellings, the request bytes, and the HTTP/1.1 answer parser fed byte by byte."""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

import pytest

from monitor.answer import Answer, TransportError
from monitor.config import parse_ratio
from monitor.durations import parse_rate
from monitor.gate.connection import Exchange, Http1Connection, build_request
from monitor.gate.load import Histogram, LoadPlan, LoadRecorder, judge_load


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.99, 0.999])
def test_histogram_quantiles_are_within_one_percent_up_to_p999(q: float) -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(math.log(0.003), 0.8) for _ in range(20_000)]
    values += [0.2 + rng.random() * 0.2 for _ in range(300)]  # a stalled tail
    histogram = Histogram()
    for v in values:
        histogram.add(v)
    got = histogram.quantiles([q])[0]
    assert got is not None
    assert abs(got - exact(values, q)) <= 0.01 * exact(values, q)
    assert histogram.max == max(values) and histogram.count == len(values)


def test_histogram_of_nothing_says_none_and_zero_reads_as_zero() -> None:
    histogram = Histogram()
    assert histogram.summary_ms() == dict.fromkeys(("p50", "p90", "p95", "p99", "p999", "max"))
    histogram.add(0.0)
    assert histogram.quantiles([0.5]) == [0.0]


PLAN = LoadPlan(url="http://127.0.0.1:1/", rate=100.0, duration=10.0, target_p95=0.050)


def recorder_with(
    sent: int, *, latency: float = 0.010, lag: float = 0.0, errors: int = 0, over: float = 10.0
) -> LoadRecorder:
    """`sent` requests over `over` s, all answered in `latency`, the first `errors` bad."""
    recorder = LoadRecorder(start=100.0)
    for i in range(sent):
        intended = 100.0 + i * (over / sent)
        recorder.record_sent(intended, intended + lag, waited_for_connection=False)
        error = "server_error" if i < errors else None
        recorder.record_answer(intended, intended + lag, intended + latency, error)
    return recorder


def names_failed(result: Any) -> list[str]:
    return [t.name for t in result.failed]


def test_exactly_99_percent_of_the_rate_passes_and_less_fails() -> None:
    assert names_failed(judge_load(PLAN, recorder_with(990), 10.0)) == []
    assert names_failed(judge_load(PLAN, recorder_with(989), 10.0)) == ["achieved_rate"]


def test_p95_at_the_target_passes_and_just_over_fails() -> None:
    at = judge_load(PLAN, recorder_with(1000, latency=0.0495), 10.0)
    over = judge_load(PLAN, recorder_with(1000, latency=0.052), 10.0)
    assert names_failed(at) == [] and at.ok
    assert names_failed(over) == ["p95_ms"]
    assert over.to_json()["ok"] is False


def test_the_error_ratio_holds_at_its_limit_and_names_the_reasons() -> None:
    plan = LoadPlan(url="http://x/", rate=100.0, duration=10.0, max_error_ratio=0.001)
    assert judge_load(plan, recorder_with(1000, errors=1), 10.0).ok
    over = judge_load(plan, recorder_with(1000, errors=2), 10.0)
    assert names_failed(over) == ["error_ratio"]
    assert over.errors == {"server_error": 2}
    assert "(server_error 2)" in over.failed[0].detail


def test_latency_counts_from_the_intended_time_service_time_from_the_send() -> None:
    result = judge_load(PLAN, recorder_with(1000, latency=0.030, lag=0.020), 10.0)
    assert result.latency_ms["p50"] == pytest.approx(30.0, rel=0.01)
    assert result.service_time_ms["p50"] == pytest.approx(10.0, rel=0.01)
    assert names_failed(result) == ["send_lag_p99_ms"]
    assert "short of CPU" in result.failed[0].detail


def test_waiting_for_connections_is_named_as_the_cause() -> None:
    recorder = LoadRecorder(start=0.0)
    for i in range(100):
        recorder.record_sent(i / 10, i / 10 + 0.5, waited_for_connection=i % 2 == 0)
        recorder.record_answer(i / 10, i / 10 + 0.5, i / 10 + 0.6, None)
    result = judge_load(PLAN, recorder, 10.0, connections_used=4)
    failed = {t.name: t.detail for t in result.failed}
    assert "connections exhausted" in failed["send_lag_p99_ms"]
    assert "one of 4 busy connections" in failed["send_lag_p99_ms"]


def test_an_interrupted_run_fails_on_its_duration_and_rates_over_the_time_it_ran() -> None:
    result = judge_load(PLAN, recorder_with(300, over=3.0), 3.0, interrupted=True)
    assert names_failed(result) == ["duration_s"]
    assert result.duration_s == 3.0 and result.achieved_rate == pytest.approx(100.0)


def test_requests_sent_after_the_window_do_not_count_as_the_rate() -> None:
    recorder = recorder_with(1000)
    recorder.last_sent = recorder.start + 20.0  # the generator fell 10 s behind
    assert names_failed(judge_load(PLAN, recorder, 10.0)) == ["achieved_rate"]


def test_per_second_rows_are_by_intended_send_time() -> None:
    recorder = LoadRecorder(start=10.0)
    recorder.record_answer(10.2, 10.2, 10.3, None)
    recorder.record_answer(11.9, 12.5, 12.6, None)  # sent late: still second 1
    recorder.record_failure(12.0, "timeout")
    rows = judge_load(PLAN, recorder, 10.0).per_second
    assert [(i, n, e) for i, n, e, _, _ in rows] == [(0, 1, 0), (1, 1, 0), (2, 1, 1)]


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("1000/s", 1000.0), ("1000", 1000.0), ("60/m", 1.0), ("5/100ms", 50.0), ("7/2s", 3.5)],
)
def test_rates(text: str, per_second: float) -> None:
    assert parse_rate(text) == per_second


@pytest.mark.parametrize("text", ["0", "0/s", "-1/s", "fast", "1/0s", "10/x", True])
def test_bad_rates(text: object) -> None:
    with pytest.raises(ValueError, match="rate"):
        parse_rate(text)


@pytest.mark.parametrize(("text", "ratio"), [("0.1%", 0.001), ("0.001", 0.001), ("100%", 1.0)])
def test_ratios(text: str, ratio: float) -> None:
    assert parse_ratio(text) == pytest.approx(ratio)


@pytest.mark.parametrize("text", ["101%", "-1", "lots", True])
def test_bad_ratios(text: object) -> None:
    with pytest.raises(ValueError, match="ratio"):
        parse_ratio(text)


def test_the_request_is_built_once_with_its_host_and_body() -> None:
    request = build_request("http://h.example:8080/a?b=1", "POST", (("X-K", "v"),), b"{}")
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /a?b=1 HTTP/1.1"
    assert "Host: h.example:8080" in lines and "X-K: v" in lines
    assert "Content-Length: 2" in lines and body == b"{}"


@pytest.mark.parametrize(
    "headers",
    [(("Host", "other.example"),), (("X", "a\r\nHost: b"),), (("Content-Length", "9"),)],
)
def test_headers_that_redirect_or_break_the_request_are_refused(
    headers: tuple[tuple[str, str], ...],
) -> None:
    with pytest.raises(ValueError):
        build_request("http://h.example/", "GET", headers, b"")


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.closed = False
        self.written = b""

    def write(self, data: Any) -> None:
        self.written += bytes(data)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return 5.0 if name == "received_at" else default

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


def exchange(chunks: list[bytes], head_only: bool = False) -> tuple[list[Any], FakeTransport]:
    """Feed an answer in pieces; returns what the connection reported."""
    events: list[Any] = []
    conn = Http1Connection(
        "http://x/",
        head_only,
        16,
        lambda c, e, answer, at: events.append((answer, at)),
        lambda c, e, error, detail: events.append((error, detail)),
    )
    transport = FakeTransport()
    conn.connection_made(transport)
    conn.send(Exchange(0, 1.0, 2.0), b"GET / HTTP/1.1\r\n\r\n")
    for chunk in chunks:
        conn.data_received(chunk)
    return events, transport


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def test_a_content_length_answer_split_anywhere_is_one_answer() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello"
    events, transport = exchange(one_byte_at_a_time(raw))
    [(answer, received)] = events
    assert isinstance(answer, Answer)
    assert (answer.status_code, answer.body, answer.headers["x-a"]) == (200, b"hello", "1, 2")
    assert received == 5.0 and answer.duration_s == 3.0  # kernel stamp minus the send
    assert not transport.closed


def test_chunked_with_trailers_a_1xx_first_and_a_capped_body() -> None:
    raw = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"a;x=1\r\n0123456789\r\n10\r\nabcdefghijklmnop\r\n0\r\nTrailer: t\r\n\r\n"
    )
    [(answer, _)], _ = exchange(one_byte_at_a_time(raw))
    assert answer.status_code == 503
    assert answer.body == b"0123456789abcdef" and answer.truncated  # 16-byte cap


def test_a_close_delimited_body_ends_at_eof_and_closes() -> None:
    events: list[Any] = []
    conn = Http1Connection("u", False, 100, lambda *a: events.append(a[2]), lambda *a: None)
    transport = FakeTransport()
    conn.connection_made(transport)
    conn.send(Exchange(0, 0.0, 0.0), b"x")
    conn.data_received(b"HTTP/1.0 200 OK\r\n\r\nbody")
    assert events == []
    conn.eof_received()
    assert [a.body for a in events] == [b"body"] and transport.closed


def test_head_and_204_have_no_body_even_with_a_content_length() -> None:
    [(answer, _)], _ = exchange([b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"], True)
    assert answer.body == b""
    [(answer, _)], _ = exchange([b"HTTP/1.1 204 No Content\r\n\r\n"])
    assert answer.status_code == 204


@pytest.mark.parametrize(
    "raw",
    [b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
)  # fmt: skip
def test_what_is_not_http_is_a_protocol_error(raw: bytes) -> None:
    events, transport = exchange([raw])
    [(error, _detail)] = events
    assert error is TransportError.PROTOCOL_ERROR and transport.closed


def test_connection_close_closes_after_the_answer() -> None:
    raw = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    events, transport = exchange([raw])
    assert len(events) == 1 and transport.closed
