"""CEL expectations: compiled at load, judged after the normalizer, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.answer import Answer
from monitor.config import parse_config
from monitor.expectations import Expectation
from monitor.expectations.program import MAX_DEPTH, bounded_json
from monitor.model import Reason, Status
from monitor.normalize import normalize_response
from monitor.secrets_scrub import Scrubber
from tests.refusals import assert_refused

JSON = {"content-type": "application/json; charset=utf-8"}
TEXT = {"content-type": "text/plain"}


def answer(
    body: bytes, *, status: int = 200, headers: dict[str, str] | None = None, cel: str = ""
) -> Answer:
    return Answer(
        url="http://127.0.0.1:1/x",
        status_code=status,
        headers=(JSON if body[:1] in b"{[" else TEXT) if headers is None else headers,
        body=body,
        duration_s=0.0125,
        expect=Expectation(cel=cel),
    )


DEEP = b"[" * 32768 + b"]" * 32768  # 64 KiB of nesting
WITHIN = json.dumps(json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)).encode()
HUGE = json.dumps({"s": "x" * 1_000_000}).encode()


@pytest.mark.parametrize(
    ("body", "cel", "status", "reason"),
    [
        # true: the expectation says what healthy means where the body states no health
        (b'{"id": "a1"}', 'json.id != ""', Status.HEALTHY, Reason.OK),
        (b'{"rows": 3}', "json.rows >= 1 && status == 200", Status.HEALTHY, Reason.OK),
        (
            b'{"rows": 3}',
            'headers["content-type"].startsWith("application/json")',
            Status.HEALTHY,
            Reason.OK,
        ),
        (b'{"rows": 3}', "latency_ms == 12.5", Status.HEALTHY, Reason.OK),
        (b"pong", 'body == "pong" && json == null', Status.HEALTHY, Reason.OK),
        (b'{"rows": 3}', "tls == null", Status.HEALTHY, Reason.OK),
        # false
        (b'{"rows": 0}', "json.rows >= 1", Status.UNHEALTHY, Reason.ASSERTION_FAILED),
        (
            b'{"items": [{"n": 1}, {"n": 2}]}',
            "json.items.all(i, i.n > 0)",
            Status.HEALTHY,
            Reason.OK,
        ),
        (
            b'{"items": [{"n": 1}, {"n": 0}]}',
            "json.items.exists(x, x.n == 0) && json.items.map(i, i.n).size() == 1",
            Status.UNHEALTHY,
            Reason.ASSERTION_FAILED,
        ),
        (b"pong", 'body == "ping"', Status.UNHEALTHY, Reason.ASSERTION_FAILED),
        # cannot be evaluated: missing key, wrong type, not a boolean
        (b'{"rows": 3}', "json.missing == 1", Status.DEGRADED, Reason.ASSERTION_ERROR),
        (b'{"rows": "3"}', "json.rows >= 1", Status.DEGRADED, Reason.ASSERTION_ERROR),
        (b'{"rows": 3}', "json.rows", Status.DEGRADED, Reason.ASSERTION_ERROR),
        (b"pong", "json.rows >= 1", Status.DEGRADED, Reason.ASSERTION_ERROR),
        # hostile bodies
        (DEEP, "json == null && size(body) == 65536", Status.DEGRADED, Reason.INVALID_JSON),
        (DEEP, "json != null", Status.UNHEALTHY, Reason.ASSERTION_FAILED),
        (WITHIN, "size(json) == 1", Status.HEALTHY, Reason.OK),
        (b'{"a": ' * 100 + b"1" + b"}" * 100, "json == null", Status.HEALTHY, Reason.OK),
        (
            b"\xff\xfe not text",
            'body.contains("not text")',
            Status.DEGRADED,
            Reason.INVALID_ENCODING,
        ),
        (HUGE, 'json.s.endsWith("x")', Status.HEALTHY, Reason.OK),
        (HUGE, 'json.s == "y"', Status.UNHEALTHY, Reason.ASSERTION_FAILED),
        (
            b'{"s": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}',
            'json.s.matches("^(a+)+$")',
            Status.UNHEALTHY,
            Reason.ASSERTION_FAILED,
        ),
    ],
)
def test_expectations_table(body: bytes, cel: str, status: Status, reason: Reason) -> None:
    verdict = normalize_response(answer(body, cel=cel))
    assert (verdict.status, verdict.reason) == (status, reason), verdict.detail
    assert len(verdict.detail) < 600


def test_a_false_expectation_names_the_expression_and_the_values_it_read() -> None:
    verdict = normalize_response(
        answer(b'{"rows": 0, "other": 1}', cel="json.rows >= 1 && status == 200")
    )
    assert verdict.detail == (
        "expectation `json.rows >= 1 && status == 200` is false; it read status=200, "
        'json={"rows":0,"other":1}'
    )


def test_the_values_quoted_are_cut_and_scrubbed() -> None:
    token = "s3cr3t-token-value"
    body = json.dumps({"token": token, "pad": "y" * 500}).encode()
    verdict = normalize_response(answer(body, cel='json.pad == ""'), Scrubber([token]))
    assert token not in verdict.detail
    assert "[redacted]" in verdict.detail
    assert "…" in verdict.detail and len(verdict.detail) < 300


def test_an_evaluation_error_says_what_failed() -> None:
    verdict = normalize_response(answer(b'{"rows": 3}', cel="json.missing == 1"))
    assert verdict.detail.startswith("expectation `json.missing == 1` could not be evaluated: ")
    assert verdict.detail.endswith('it read json={"rows":3}')


@pytest.mark.parametrize(
    ("body", "http", "cel", "status", "reason"),
    [
        # the normalizer decides first: a held expectation never hides what the body reports
        (b'{"status": "fail"}', 200, "status == 200", Status.UNHEALTHY, Reason.REPORTED_UNHEALTHY),
        (b'{"status": "warn"}', 200, "status == 200", Status.DEGRADED, Reason.REPORTED_DEGRADED),
        (
            b'{"status": "ok"}',
            503,
            'json.status == "ok"',
            Status.DEGRADED,
            Reason.INCONSISTENT_STATUS,
        ),
        (b"oops", 503, 'body == "oops"', Status.UNHEALTHY, Reason.SERVER_ERROR),
        # ... and a failed one only makes it worse
        (b'{"status": "warn"}', 200, "status == 201", Status.UNHEALTHY, Reason.ASSERTION_FAILED),
        (b'{"status": "ok"}', 200, 'json.version == "2"', Status.DEGRADED, Reason.ASSERTION_ERROR),
        (b'{"status": "fail"}', 200, "json.nope", Status.UNHEALTHY, Reason.REPORTED_UNHEALTHY),
    ],
)
def test_health_answers_are_judged_first(
    body: bytes, http: int, cel: str, status: Status, reason: Reason
) -> None:
    verdict = normalize_response(answer(body, status=http, cel=cel))
    assert (verdict.status, verdict.reason) == (status, reason), verdict.detail


@pytest.mark.parametrize(
    ("statuses", "http", "status", "reason"),
    [
        ((201,), 201, Status.HEALTHY, Reason.OK),
        ((201,), 200, Status.UNHEALTHY, Reason.ASSERTION_FAILED),
        ((), 204, Status.HEALTHY, Reason.OK),
    ],
)
def test_expected_status_codes(
    statuses: tuple[int, ...], http: int, status: Status, reason: Reason
) -> None:
    a = answer(b'{"id": "x"}', status=http)
    verdict = normalize_response(Answer(**{**_fields(a), "expect": Expectation(statuses=statuses)}))
    assert (verdict.status, verdict.reason) == (status, reason), verdict.detail


def _fields(a: Answer) -> dict[str, Any]:
    return {name: getattr(a, name) for name in a.__dataclass_fields__}


def test_a_transport_failure_is_not_judged_again() -> None:
    from monitor.answer import TransportError

    a = Answer(
        url="http://x", error=TransportError.CONNECTION_REFUSED, expect=Expectation(cel="false")
    )
    assert normalize_response(a).reason is Reason.CONNECTION_REFUSED


def test_nesting_is_bounded_without_recursion() -> None:
    deep: Any = 0
    for _ in range(100_000):
        deep = [deep]
    assert bounded_json(deep) is None
    assert bounded_json({"a": [1, {"b": 2}]}) == {"a": [1, {"b": 2}]}


BASE = """
services:
  - name: gw
    url: http://127.0.0.1:9
    http:
      - name: create
        path: /api/items
"""


@pytest.mark.parametrize(
    ("extra", "line", "field", "message"),
    [
        (
            "        expect: {cel: 'json.id != \"\" &&'}",
            8,
            "services[0].http[0].expect.cel",
            "ERROR: <input>:1:17: Syntax error",
        ),
        (
            "        expect: {cel: 'secret == 1'}",
            8,
            "services[0].http[0].expect.cel",
            "unknown variable secret",
        ),
        ("        expect: {cel: ''}", 8, "services[0].http[0].expect.cel", "empty expression"),
        (
            "        expect: {status: [99]}",
            8,
            "services[0].http[0].expect.status[0]",
            "greater than or equal to 100",
        ),
        ("        json: {a: 1}", 6, "services[0].http[0]", "a request body needs method: POST"),
        (
            "        method: POST\n        json: {a: 1}\n        body: x",
            6,
            "services[0].http[0]",
            "either json: or body:",
        ),
    ],
)
def test_bad_expectations_and_bodies_are_config_errors(
    extra: str, line: int, field: str, message: str
) -> None:
    assert_refused(lambda: parse_config(BASE + extra + "\n", "monitor.yaml"), line, field, message)


def test_a_post_check_sends_its_json_and_keeps_its_expectation() -> None:
    text = (
        BASE
        + "        method: POST\n        json: {name: smoke}\n"
        + "        expect: {status: [201], cel: 'json.id != \"\"'}\n"
    )
    [_, check] = parse_config(text).checks()
    assert (check.method, check.body, check.content_type) == (
        "POST",
        b'{"name":"smoke"}',
        "application/json",
    )
    assert check.expect == Expectation(statuses=(201,), cel='json.id != ""')


@pytest.mark.parametrize("module", ["monitor.answer", "monitor.expectations.judge"])
def test_the_modules_import_first_without_a_cycle(module: str) -> None:
    """answer.py needs Expectation and judge.py needs Answer: importing either first, in a
    fresh interpreter, must work (tests/load_server.py imports monitor.answer first)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-400:]
