"""The normalizer's chain and its account (normalize/__init__.py) at their edges: the order
parsers declined in, a parser that raises (named, its error cut at 200 characters, the answer
going on), `monitor explain`'s text and JSON written out, and a redirect to another origin."""

from __future__ import annotations

import json
import logging

import pytest

from monitor.answer import Answer, TransportError
from monitor.expectations import Expectation
from monitor.model import Reason, Status, Verdict
from monitor.normalize import explain, normalize_response
from monitor.normalize._body import Body

JSON = {"content-type": "application/json"}
DOWN = {"status": "down", "db": {"status": "down", "message": "gone"}, "queue": {"status": "up"}}


def _answer(data: object, code: int = 503, **fields: object) -> Answer:
    return Answer("http://svc.test/health", code, JSON, json.dumps(data).encode(), **fields)  # type: ignore[arg-type]


def test_the_account_as_text() -> None:
    assert explain(_answer(DOWN)).render() == "\n".join(
        [
            "verdict:    unhealthy (reported_unhealthy)",
            "decided by: generic_json",
            "read:       status='down'",
            "why:        reports unhealthy: db unhealthy: gone",
            "  component db: unhealthy gone",
            "  component queue: healthy",
            "declined:   transport, cloudflare, refused, malformed, standby, health_json, spring",
            f"evidence:   {json.dumps(DOWN)}",
        ]
    )


def test_the_account_as_json() -> None:
    assert explain(_answer(DOWN)).as_dict() == {
        "status": "unhealthy",
        "reason": "reported_unhealthy",
        "decided_by": "generic_json",
        "read": "status='down'",
        "why": "reports unhealthy: db unhealthy: gone",
        "http_status": 503,
        "components": {
            "db": {"status": "unhealthy", "detail": "gone"},
            "queue": {"status": "healthy", "detail": ""},
        },
        "declined": [
            *("transport", "cloudflare", "refused", "malformed", "standby"),
            *("health_json", "spring"),
        ],
        "failed": [],
        "evidence": json.dumps(DOWN),
    }


def test_an_answer_without_a_read_or_evidence_says_so() -> None:
    failed = Answer(
        "http://svc.test/health", None, {}, b"", error=TransportError.CONNECTION_REFUSED
    )
    text = explain(failed).render()
    assert "declined:   -" in text.splitlines()
    assert not any(line.startswith("evidence:") for line in text.splitlines())


def _raising(answer: Answer, body: Body) -> Verdict | None:
    raise RuntimeError("x" * 300)


def test_a_parser_that_raises_is_named_cut_and_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import monitor.normalize as normalize

    monkeypatch.setattr(normalize, "PARSERS", (("broken", _raising), *normalize.PARSERS))
    explanation = explain(_answer(DOWN))
    assert explanation.decided_by == "generic_json"
    ((name, error),) = [(f.parser, f.error) for f in explanation.failed]
    assert (name, error) == ("broken", "RuntimeError: " + "x" * 186)
    assert explanation.declined[:2] == ("transport", "cloudflare")
    assert "failed:     broken: RuntimeError: " + "x" * 186 in explanation.render().splitlines()
    assert explanation.as_dict()["failed"] == [{"parser": "broken", "error": error}]
    named: list[str] = []
    with caplog.at_level(logging.DEBUG, logger="monitor.normalize"):
        verdict = normalize_response(_answer(DOWN), on_parser_error=named.append)
    assert (named, verdict.status) == (["broken"], Status.UNHEALTHY)
    assert [r.getMessage() for r in caplog.records] == [
        "normalize: parser broken raised RuntimeError: " + "x" * 186
    ]


def test_when_no_parser_recognizes_the_body_the_status_code_decides() -> None:
    explanation = explain(_answer({"uptime": 5}, 200))
    assert explanation.decided_by == "http_status"
    assert explanation.declined[-1] == "html_page"
    assert len(explanation.declined) == 12
    assert explanation.verdict.reason is Reason.UNRECOGNIZED_BODY


def test_a_redirect_to_another_origin_is_said_in_the_detail() -> None:
    answer = _answer({"status": "ok"}, 200, crossed_origin="https://other.test")
    verdict = normalize_response(answer)
    assert verdict.detail == (
        "reports healthy (JSON); a redirect went to another origin, https://other.test, "
        "without the configured headers"
    )
    assert normalize_response(_answer({"status": "ok"}, 200)).detail == "reports healthy (JSON)"


@pytest.mark.parametrize(
    ("body", "cel", "status"),
    [
        (b'{"rows": 3}', "json.rows >= 1 && status == 200 && tls == null", Status.HEALTHY),
        (b'{"rows": 0}', "json.rows >= 1", Status.UNHEALTHY),
        (b"pong", 'body == "pong" && json == null', Status.HEALTHY),
        (b"pang", 'body == "pong"', Status.UNHEALTHY),
    ],
)
def test_the_check_s_expectation_judges_the_body_it_was_given(
    body: bytes, cel: str, status: Status
) -> None:
    headers = JSON if body.startswith(b"{") else {"content-type": "text/plain"}
    answer = Answer("http://svc.test/x", 200, headers, body, expect=Expectation(cel=cel))
    explanation = explain(answer)
    assert explanation.verdict.status is status
    assert normalize_response(answer).status is status
    if status is Status.UNHEALTHY:
        assert explanation.verdict.reason is Reason.ASSERTION_FAILED
