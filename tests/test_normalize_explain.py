"""`explain`: which parser decided, what it read and why, which declined or failed; and a
parser that raises is logged, counted and skipped, never fatal."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

import monitor.normalize as normalize
from monitor.answer import Answer, TransportError
from monitor.model import Reason, Status
from monitor.normalize import PARSERS, explain, normalize_response

JSON = {"content-type": "application/json"}
TEXT = {"content-type": "text/plain"}


def answer(code: int | None, headers: dict[str, str], body: bytes = b"", **kw: Any) -> Answer:
    return Answer(url="http://svc.test/health", status_code=code, headers=headers, body=body, **kw)


def explode(*_: Any) -> None:
    raise RuntimeError("parser bug")


def parsers_before(name: str) -> list[str]:
    names = [n for n, _ in PARSERS]
    return names[: names.index(name)]


def test_explain_names_the_parser_the_field_and_the_reason() -> None:
    body = {"status": "UP", "components": {"db": {"status": "DOWN"}}}
    got = explain(answer(200, JSON, json.dumps(body).encode()))
    assert got.decided_by == "spring"
    assert got.read == "status='UP' (Spring Boot Actuator)"
    assert (got.verdict.status, got.verdict.reason) == (Status.DEGRADED, Reason.COMPONENT_UNHEALTHY)
    assert got.why == "reports healthy, but db unhealthy"
    assert got.declined == tuple(parsers_before("spring"))
    assert got.failed == ()


def test_explain_reads_a_plain_string_component_map() -> None:
    got = explain(answer(503, JSON, b'{"commit": "0871", "database": "failing", "version": "5"}'))
    assert got.decided_by == "generic_json"
    assert got.read == "parts with a status of their own: database"
    assert got.verdict.components["database"].status is Status.UNHEALTHY
    assert got.verdict.version == "5"


def test_explain_falls_back_to_the_http_status() -> None:
    got = explain(answer(200, JSON, b'{"uptime": 3}'))
    assert got.decided_by == "http_status"
    assert got.read == "HTTP 200"
    assert got.verdict.reason is Reason.UNRECOGNIZED_BODY
    assert got.declined == tuple(n for n, _ in PARSERS)


def test_explain_of_a_transport_failure() -> None:
    got = explain(answer(None, {}, error=TransportError.TIMEOUT))
    assert (got.decided_by, got.read, got.declined) == ("transport", "transport error timeout", ())


def test_explain_as_dict_and_render() -> None:
    got = explain(answer(200, TEXT, b"Prometheus Server is Healthy.\n"))
    data = got.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["decided_by"] == "plain_text"
    assert data["read"] == "the line 'Prometheus Server is Healthy.'"
    assert (data["status"], data["reason"]) == ("healthy", "ok")
    text = got.render()
    assert "decided by: plain_text" in text and "read:       the line" in text
    assert "declined:   transport, cloudflare" in text


def test_a_raising_parser_is_logged_counted_and_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(normalize, "PARSERS", (("boom", explode), *PARSERS))
    counted: list[str] = []
    caplog.set_level(logging.DEBUG, logger="monitor.normalize")
    verdict = normalize_response(
        answer(200, JSON, b'{"status": "ok"}'), on_parser_error=counted.append
    )
    assert (verdict.status, verdict.reason) == (Status.HEALTHY, Reason.OK)  # the next one decided
    assert counted == ["boom"]
    assert any("boom" in r.getMessage() and "parser bug" in r.getMessage() for r in caplog.records)


def test_explain_names_the_parser_that_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalize, "PARSERS", (("boom", explode), *PARSERS))
    got = explain(answer(200, JSON, b'{"status": "ok"}'))
    assert got.decided_by == "generic_json"
    assert [(f.parser, f.error) for f in got.failed] == [("boom", "RuntimeError: parser bug")]
    assert "boom" not in got.declined
    assert got.as_dict()["failed"] == [{"parser": "boom", "error": "RuntimeError: parser bug"}]
