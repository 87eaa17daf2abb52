"""How a body's own status is weighed against its HTTP status (normalize/_reported.py), and
how a body that cannot be read is named (normalize/malformed.py): the 5xx rules at 499/500,
the details people read, the `read` line `monitor explain` shows. Expected words are written
out (docs/testing.md, mutation testing)."""

from __future__ import annotations

import json

import pytest

from monitor.answer import Answer
from monitor.model import Reason, Status, Verdict
from monitor.normalize import explain, normalize_response

URL = "http://svc.test/health"
H, D, U, K = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN


def _json(code: int, data: object) -> Verdict:
    body = json.dumps(data).encode()
    answer = Answer(
        url=URL, status_code=code, headers={"content-type": "application/json"}, body=body
    )
    return normalize_response(answer)


def _text(code: int, text: str) -> Verdict:
    answer = Answer(
        url=URL, status_code=code, headers={"content-type": "text/plain"}, body=text.encode()
    )
    return normalize_response(answer)


# --- parts without an overall status ------------------------------------------------------

UP = {"status": "up"}


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        (200, H, Reason.OK),
        # below 500 the healthy parts claim health against the code: one of them lies
        (499, D, Reason.INCONSISTENT_STATUS),
        # from 500 on the code is the overall the body left out
        (500, U, Reason.SERVER_ERROR),
        (503, U, Reason.SERVER_ERROR),
    ],
)
def test_healthy_parts_under_each_code(code: int, status: Status, reason: Reason) -> None:
    verdict = _json(code, {"db": UP, "cache": UP})
    assert (verdict.status, verdict.reason) == (status, reason)
    assert set(verdict.components) == {"db", "cache"}
    assert verdict.read == "parts with a status of their own: db, cache"


def test_healthy_parts_name_the_format_they_were_read_in() -> None:
    assert _json(200, {"db": UP}).detail == "reports healthy (JSON)"
    assert _json(499, {"db": UP}).detail == "JSON body reports healthy but HTTP status is 499"


def test_healthy_parts_under_a_5xx_are_named_and_kept() -> None:
    verdict = _json(503, {"db": UP, "cache": {"status": "degraded"}, "version": "1.2"})
    assert verdict.detail == ("HTTP 503; the parts the JSON body names: db healthy, cache degraded")
    assert {n: c.status for n, c in verdict.components.items()} == {"db": H, "cache": D}
    assert (verdict.version, verdict.http_status) == ("1.2", 503)
    assert verdict.read == "parts with a status of their own: db, cache"
    assert verdict.evidence.startswith('{"db": {"status": "up"}')


def test_a_5xx_names_at_most_eight_parts() -> None:
    verdict = _json(503, {f"c{i}": UP for i in range(9)})
    named = ", ".join(f"c{i} healthy" for i in range(8))
    assert verdict.detail == f"HTTP 503; the parts the JSON body names: {named}"
    assert len(verdict.components) == 9


def test_a_5xx_parts_detail_is_cut_at_300_characters() -> None:
    names = [chr(ord("a") + i) * 40 for i in range(8)]
    verdict = _json(503, {name: UP for name in names})
    full = "HTTP 503; the parts the JSON body names: " + ", ".join(f"{n} healthy" for n in names)
    assert len(full) > 301
    assert verdict.detail == full[:300]


def test_an_unhealthy_part_under_a_5xx_is_the_service_reporting_it() -> None:
    verdict = _json(503, {"db": {"status": "down"}, "cache": UP})
    assert (verdict.status, verdict.reason) == (U, Reason.REPORTED_UNHEALTHY)
    assert verdict.detail == "reports unhealthy: db unhealthy"


def test_parts_with_a_message_and_a_version_under_a_2xx() -> None:
    verdict = _json(200, {"db": {"status": "down"}, "message": "db lost", "version": "7"})
    assert verdict.detail == "reports unhealthy with HTTP 200: db lost; db unhealthy"
    assert verdict.version == "7"


def test_a_list_of_checks_names_only_the_failing_ones() -> None:
    checks = [{"name": "db", "status": "down"}, {"name": "queue", "status": "passing"}]
    verdict = _json(200, checks)
    assert (verdict.status, verdict.reason) == (U, Reason.REPORTED_UNHEALTHY)
    assert verdict.detail == "reports unhealthy with HTTP 200: db unhealthy"


# --- an overall status ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "reason", "detail"),
    [
        (200, K, Reason.REPORTED_UNKNOWN, "reports unknown"),
        (499, K, Reason.REPORTED_UNKNOWN, "reports unknown"),
        (500, U, Reason.SERVER_ERROR, "HTTP 500; the JSON body reports unknown"),
        (599, U, Reason.SERVER_ERROR, "HTTP 599; the JSON body reports unknown"),
    ],
)
def test_unknown_under_a_5xx_is_the_code_speaking(
    code: int, status: Status, reason: Reason, detail: str
) -> None:
    verdict = _json(code, {"status": "unknown"})
    assert (verdict.status, verdict.reason, verdict.detail) == (status, reason, detail)


def test_unknown_under_a_5xx_keeps_the_service_message() -> None:
    verdict = _json(500, {"status": "unknown", "message": "probe pending"})
    assert verdict.detail == "HTTP 500; the JSON body reports unknown: probe pending"


def test_failing_components_are_listed_with_their_details() -> None:
    verdict = _json(
        200,
        {
            "status": "down",
            "message": "partial outage",
            "db": {"status": "down"},
            "queue": {"status": "degraded", "detail": "slow consumers"},
            "cache": UP,
        },
    )
    assert verdict.detail == (
        "reports unhealthy with HTTP 200: partial outage; db unhealthy; "
        "queue degraded: slow consumers"
    )


# --- one line of text -----------------------------------------------------------------


def test_a_text_status_line_gives_its_message_and_format() -> None:
    said = _text(503, "Ingester not ready: waiting for 15s")
    assert (said.status, said.reason) == (U, Reason.REPORTED_UNHEALTHY)
    assert said.detail == "reports unhealthy: waiting for 15s"
    assert said.read == "the line 'Ingester not ready: waiting for 15s'"
    ready = _text(200, "Service ready.")
    assert (ready.status, ready.detail) == (H, "reports healthy (text)")
    assert _text(503, "down").detail == "reports unhealthy"


def test_a_text_status_line_is_quoted_up_to_80_characters() -> None:
    for length, quoted in [(80, "x" * 61), (81, "x" * 60 + "…")]:
        line = "Service not ready: " + "x" * (length - 19)
        verdict = _text(503, line)
        assert verdict.read == f"the line 'Service not ready: {quoted}'"


# --- bodies that cannot be read (malformed) --------------------------------------------------


def test_a_malformed_body_says_what_was_read_and_quotes_it() -> None:
    answer = Answer(
        url=URL, status_code=200, headers={"content-type": "application/json"}, body=b'{"a":'
    )
    verdict = explain(answer).verdict
    assert verdict.reason is Reason.INVALID_JSON
    assert verdict.read == "HTTP 200, application/json body of 5 bytes"
    assert verdict.evidence == '{"a":'


def test_a_malformed_body_without_a_media_type_is_untyped() -> None:
    verdict = explain(Answer(url=URL, status_code=200, body=b"ok \xff")).verdict
    assert (verdict.status, verdict.reason) == (D, Reason.INVALID_ENCODING)
    assert verdict.read == "HTTP 200, untyped body of 4 bytes"
