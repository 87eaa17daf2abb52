"""The fallback parser's own words (normalize/http_status.py): what an answer no parser
recognized reads as on /status, in alerts and in `monitor explain`. The details are the
user-visible output, so they are written out whole, with every cut tested at its limit and
one past it (docs/testing.md, mutation testing)."""

from __future__ import annotations

import pytest

from monitor.answer import Answer
from monitor.model import Reason, Status, Verdict
from monitor.normalize import explain, normalize_response
from tests.padding import padded

URL = "http://svc.test/health"
D, U, K = Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN


def _answer(
    code: int | None,
    body: bytes = b"",
    content_type: str = "",
    headers: dict[str, str] | None = None,
    **kw: object,
) -> Answer:
    all_headers = {"content-type": content_type} if content_type else {}
    all_headers.update(headers or {})
    return Answer(url=URL, status_code=code, headers=all_headers, body=body, **kw)  # type: ignore[arg-type]


def _fallback(answer: Answer) -> Verdict:
    """The verdict, checked to come from the fallback (or `refused`, which hands over to it)."""
    explanation = explain(answer)
    assert explanation.decided_by in ("http_status", "refused")
    return explanation.verdict


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        (401, D, Reason.UNAUTHORIZED),
        (403, D, Reason.UNAUTHORIZED),
        (405, D, Reason.CLIENT_ERROR),
        (406, D, Reason.CLIENT_ERROR),
        (407, D, Reason.UNAUTHORIZED),
        (408, D, Reason.CLIENT_ERROR),
        (404, D, Reason.NOT_FOUND),
        (410, D, Reason.NOT_FOUND),
        (409, D, Reason.CLIENT_ERROR),
        (429, D, Reason.RATE_LIMITED),
    ],
)
def test_each_4xx_code_has_its_reason(code: int, status: Status, reason: Reason) -> None:
    verdict = normalize_response(_answer(code))
    assert (verdict.status, verdict.reason) == (status, reason)


# --- what the body adds to the detail ------------------------------------------------------


def test_an_html_title_is_the_gist() -> None:
    page = b"<html><head><title>  Acme \n  Portal </title></head><body><p>Later</p></body></html>"
    verdict = _fallback(_answer(503, page, "text/html"))
    assert (verdict.status, verdict.reason) == (U, Reason.SERVER_ERROR)
    assert verdict.detail == "HTTP 503 (Acme Portal)"
    assert verdict.read == "HTTP 503"
    assert verdict.evidence.startswith("<html><head><title> Acme Portal </title>")


@pytest.mark.parametrize(("length", "gist"), [(100, "t" * 100), (101, "t" * 99 + "…")])
def test_an_html_title_is_cut_at_100_characters(length: int, gist: str) -> None:
    page = f"<html><head><title>{'t' * length}</title></head></html>".encode()
    assert _fallback(_answer(503, page, "text/html")).detail == f"HTTP 503 ({gist})"


def _page_whose_title_ends_at(end: int) -> bytes:
    """One line of HTML whose `</title>` ends at character `end` (the title is searched for in
    the first 4000 characters only: a page is not read to its end for a few words)."""
    head, tail = '<html><head><meta name="pad" content="', '"><title>Acme Portal</title>'
    return (padded(head, tail, end, "p") + "</head></html>").encode()


def test_a_title_that_ends_at_character_4000_is_read() -> None:
    page = _page_whose_title_ends_at(4000)
    assert _fallback(_answer(503, page, "text/html")).detail == "HTTP 503 (Acme Portal)"


def test_a_title_that_ends_past_character_4000_is_not_read() -> None:
    page = _page_whose_title_ends_at(4001)
    first_line = '<html><head><meta name="pad" content="' + "p" * 61 + "…"
    assert _fallback(_answer(503, page, "text/html")).detail == f"HTTP 503 ({first_line})"


def test_a_json_message_is_the_gist_cut_at_100_characters() -> None:
    for length, gist in [(100, "m" * 100), (101, "m" * 99 + "…")]:
        body = b'{"message": "' + b"m" * length + b'"}'
        verdict = _fallback(_answer(500, body, "application/json"))
        assert verdict.detail == f"HTTP 500 ({gist})"


def test_a_json_document_without_a_message_adds_nothing() -> None:
    assert _fallback(_answer(500, b"[1, 2]", "application/json")).detail == "HTTP 500"
    assert _fallback(_answer(500, b'{"n": 1}', "application/json")).detail == "HTTP 500"


def test_the_first_line_of_text_is_the_gist_cut_at_100_characters() -> None:
    verdict = _fallback(_answer(500, b"  Something happened\nat line 2", "text/plain"))
    assert verdict.detail == "HTTP 500 (Something happened)"
    for length, gist in [(100, "w" * 100), (101, "w" * 99 + "…")]:
        verdict = _fallback(_answer(500, b"w" * length, "text/plain"))
        assert verdict.detail == f"HTTP 500 ({gist})"


@pytest.mark.parametrize(
    ("body", "content_type", "read"),
    [
        (b"", "", "HTTP 500, empty body"),
        (b"  \n\t ", "text/plain", "HTTP 500, empty body"),
        (b"\xff\xfe", "text/plain; charset=utf-8", "HTTP 500"),  # not text: no gist
    ],
)
def test_a_body_with_nothing_to_quote_adds_nothing(
    body: bytes, content_type: str, read: str
) -> None:
    verdict = _fallback(_answer(500, body, content_type))
    assert (verdict.detail, verdict.read) == ("HTTP 500", read)


# --- 2xx nobody recognized ---------------------------------------------------------------


def test_an_unrecognized_2xx_names_its_media_type_and_gist() -> None:
    verdict = _fallback(_answer(200, b"Hello from the api", "text/plain"))
    assert (verdict.status, verdict.reason) == (K, Reason.UNRECOGNIZED_BODY)
    assert verdict.detail == (
        "HTTP 200, but the text/plain body states no health we recognize (Hello from the api)"
    )
    assert (verdict.read, verdict.evidence) == ("HTTP 200", "Hello from the api")


def test_an_unrecognized_2xx_without_a_media_type_is_untyped() -> None:
    verdict = _fallback(_answer(200, b"Hello from the api"))
    assert verdict.detail == (
        "HTTP 200, but the untyped body states no health we recognize (Hello from the api)"
    )


def test_empty_2xx_answers_say_why_they_are_healthy() -> None:
    assert _fallback(_answer(204)).detail == "HTTP 204 with an empty body"
    empty_json = _fallback(_answer(200, b"{}", "application/json"))
    assert (empty_json.status, empty_json.detail) == (
        Status.HEALTHY,
        "HTTP 200 with an empty JSON document",
    )


def test_an_answer_without_a_status_line_is_unknown() -> None:
    verdict = _fallback(Answer(url=URL))
    assert (verdict.status, verdict.reason) == (K, Reason.UNRECOGNIZED_BODY)
    assert verdict.detail == "unexpected HTTP status 0"


# --- redirects ---------------------------------------------------------------------------

ELSEWHERE = ": it leads to another host (cross_host_redirects is off)"


@pytest.mark.parametrize(
    ("location", "final_url", "suffix"),
    [
        ("/v2/health", "", ""),
        ("http://svc.test/v2/health", "", ""),
        ("https://login.example/sso", "", ELSEWHERE),
        # the host that answered is the last one a followed redirect reached
        ("http://other.test/b", "http://other.test/a", ""),
        ("http://svc.test/b", "http://other.test/a", ELSEWHERE),
        # a Location that is not a URL is not claimed to lead anywhere
        ("http://[::1", "", ""),
    ],
)
def test_an_unfollowed_redirect_says_where_it_leads(
    location: str, final_url: str, suffix: str
) -> None:
    verdict = _fallback(_answer(302, headers={"location": location}, final_url=final_url))
    assert (verdict.status, verdict.reason) == (D, Reason.UNEXPECTED_REDIRECT)
    assert verdict.detail == f"HTTP 302 redirect to {location} was not followed{suffix}"


def test_a_redirect_without_location_and_a_long_location() -> None:
    assert _fallback(_answer(307)).detail == "HTTP 307 redirect to ? was not followed"
    for length, shown in [(120, "l" * 120), (121, "l" * 119 + "…")]:
        verdict = _fallback(_answer(301, headers={"location": "l" * length}))
        assert verdict.detail == f"HTTP 301 redirect to {shown} was not followed"


# --- 4xx ---------------------------------------------------------------------------------


def test_a_refusal_quotes_what_the_gateway_said() -> None:
    verdict = _fallback(_answer(403, b'{"message": "Forbidden"}', "application/json"))
    assert verdict.detail == (
        "HTTP 403: the monitor is not allowed to read the health endpoint (Forbidden)"
    )
    verdict = _fallback(_answer(409, b"Conflict, try again", "text/plain"))
    assert verdict.detail == (
        "HTTP 409: the service refused the monitor's request (Conflict, try again)"
    )


@pytest.mark.parametrize(
    ("url", "final_url", "path"),
    [
        (URL, "", "/health"),
        ("http://svc.test", "", "/"),
        (URL, "http://svc.test/v2/health", "/v2/health"),
        ("http://svc.test/" + "p" * 119, "", "/" + "p" * 119),
        ("http://svc.test/" + "p" * 120, "", "/" + "p" * 118 + "…"),
    ],
)
def test_not_found_names_the_path_that_answered(url: str, final_url: str, path: str) -> None:
    verdict = _fallback(Answer(url=url, status_code=404, final_url=final_url))
    assert verdict.detail == (f"HTTP 404 at {path}: the service answers but has no such endpoint")


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "HTTP 429: rate limited"),
        ({"retry-after": "120"}, "HTTP 429: rate limited, retry after 120"),
        ({"retry-after": "r" * 40}, "HTTP 429: rate limited, retry after " + "r" * 40),
        ({"retry-after": "r" * 41}, "HTTP 429: rate limited, retry after " + "r" * 39 + "…"),
    ],
)
def test_rate_limited_says_when_to_come_back(headers: dict[str, str], detail: str) -> None:
    assert _fallback(_answer(429, headers=headers)).detail == detail
