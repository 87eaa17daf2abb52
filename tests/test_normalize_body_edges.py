"""How a body is decoded once for every parser (normalize/_body.py), seen through the verdict:
the declared charset, JSON recognized by its first character whatever the media type says,
and the reason a declared JSON body is not JSON, quoted in the detail."""

from __future__ import annotations

import pytest

from monitor.answer import Answer
from monitor.model import Reason, Status
from monitor.normalize import normalize_response

URL = "http://svc.test/health"
LATIN = "Fehler: Datei gel\xf6scht".encode("latin-1")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset=iso-8859-1",
        "text/plain;charset=iso-8859-1",
        'text/plain; charset="iso-8859-1"',
        "text/plain; format=flowed; charset=ISO-8859-1",
    ],
)
def test_the_declared_charset_decodes_the_body(content_type: str) -> None:
    answer = Answer(URL, 500, {"content-type": content_type}, LATIN)
    assert normalize_response(answer).detail == "HTTP 500 (Fehler: Datei gelöscht)"


def test_without_a_charset_the_body_is_utf_8() -> None:
    answer = Answer(URL, 200, {"content-type": "text/plain; format=flowed"}, LATIN)
    assert normalize_response(answer).reason is Reason.INVALID_ENCODING


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (b' {"status": "ok"}', Status.HEALTHY, "reports healthy (JSON)"),
        (
            b'[{"name": "db", "status": "down"}]',
            Status.UNHEALTHY,
            "reports unhealthy with HTTP 200: db unhealthy",
        ),
    ],
)
def test_json_is_recognized_by_its_first_character_under_any_media_type(
    body: bytes, status: Status, detail: str
) -> None:
    verdict = normalize_response(Answer(URL, 200, {"content-type": "text/plain"}, body))
    assert (verdict.status, verdict.detail) == (status, detail)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (
            b'{"status": "ok"',
            "JSONDecodeError: Expecting ',' delimiter: line 1 column 16 (char 15)",
        ),
        (b"ok", "JSONDecodeError: Expecting value: line 1 column 1 (char 0)"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
    ],
)
def test_a_declared_json_body_that_is_not_json_says_why(body: bytes, why: str) -> None:
    answer = Answer(URL, 200, {"content-type": "application/json"}, body)
    verdict = normalize_response(answer)
    assert (verdict.status, verdict.reason) == (Status.DEGRADED, Reason.INVALID_JSON)
    assert verdict.detail == f"HTTP 200 declares application/json but the body is not JSON ({why})"
