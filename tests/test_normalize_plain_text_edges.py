"""Short plain-text answers (normalize/plain_text.py) at their edges: the words it takes as
healthy, `key: value` lines (fifty read), the failure words of a 2xx (only in the first 500
characters, not after `no` or `0`), 2000 characters and one more, markup left to html_page."""

from __future__ import annotations

import pytest

from monitor.model import Reason, Status, Verdict
from monitor.normalize import Explanation
from tests.answers import explained

H, D, U = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY


def _explain(text: str, code: int = 200, content_type: str = "text/plain") -> Explanation:
    return explained(text.encode(), code, content_type)


def _text(text: str, code: int = 200, content_type: str = "text/plain") -> Verdict:
    return explained(text.encode(), code, content_type, decided_by="plain_text").verdict


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("pong", "the line 'pong'"),
        ("I'm alive", 'the line "I\'m alive"'),
        ("ALL GOOD", "the line 'ALL GOOD'"),
        ("OK.", "the line 'OK'"),
        ("  failed  \n   \n", "the line 'failed'"),
    ],
)
def test_one_word_or_phrase_is_the_whole_answer(text: str, read: str) -> None:
    verdict = _text(text)
    assert verdict.read == read
    assert verdict.detail == (
        "reports unhealthy with HTTP 200" if "failed" in text else "reports healthy (text)"
    )


def test_an_express_string_sent_as_html_is_still_text_but_markup_is_not() -> None:
    assert _text("OK", content_type="text/html").status is H
    assert _explain("a < b failed", content_type="text/html").decided_by == "http_status"
    assert _explain("<!doctype html><p>ok</p>").decided_by == "html_page"


def test_key_value_lines_a_status_line_is_the_overall() -> None:
    verdict = _text("status: ok\ndb: down\ncache=up\nversion: 1.2.3")
    assert (verdict.status, verdict.reason) == (D, Reason.COMPONENT_UNHEALTHY)
    assert verdict.detail == "reports healthy, but db unhealthy"
    assert {n: c.status for n, c in verdict.components.items()} == {"db": U, "cache": H}
    assert verdict.read == "4 key: value lines"


@pytest.mark.parametrize(
    ("text", "status", "detail"),
    [
        ("db: down\ncache: up", U, "reports unhealthy with HTTP 200: db unhealthy"),
        ("state: down\nversion: 1.2.3", U, "reports unhealthy with HTTP 200"),
        ("health = degraded", D, "reports degraded"),
        ("Overall: ok", H, "reports healthy (text)"),
    ],
)
def test_key_value_lines_without_or_with_another_status_key(
    text: str, status: Status, detail: str
) -> None:
    verdict = _text(text)
    assert (verdict.status, verdict.detail) == (status, detail)


@pytest.mark.parametrize(("pairs", "decided"), [(50, "pairs"), (49, "failure")])
def test_fifty_key_value_lines_are_read(pairs: int, decided: str) -> None:
    text = "\n".join(f"c{i}: ok" for i in range(pairs)) + "\nnot a pair, it failed"
    verdict = _text(text)
    if decided == "pairs":  # the line after the fiftieth is not read
        assert (verdict.status, len(verdict.components)) == (H, 50)
    else:
        assert verdict.detail.startswith("HTTP 200 but the body says it failed: c0: ok c1: ok")


@pytest.mark.parametrize("code", [200, 299])
def test_a_failure_word_in_a_2xx_is_unhealthy(code: int) -> None:
    verdict = _text("Started\nError: database unreachable", code)
    assert (verdict.status, verdict.reason) == (U, Reason.REPORTED_UNHEALTHY)
    assert verdict.detail == (
        f"HTTP {code} but the body says it failed: Started Error: database unreachable"
    )
    assert verdict.read == "a failure word in 'Started Error: database unreachable'"


@pytest.mark.parametrize("code", [199, 300, 503])
def test_a_failure_word_outside_2xx_is_left_to_the_status(code: int) -> None:
    assert _explain("Started\nError: database unreachable", code).decided_by == "http_status"


@pytest.mark.parametrize("text", ["0 errors\nall fine", "no error today\nall fine"])
def test_a_negated_failure_word_is_no_failure(text: str) -> None:
    assert _explain(text).verdict.reason is Reason.UNRECOGNIZED_BODY


@pytest.mark.parametrize(("pad", "found"), [(495, True), (496, False)])
def test_failure_words_are_looked_for_in_the_first_500_characters(pad: int, found: bool) -> None:
    explanation = _explain("x" * pad + " down\nsecond line")
    assert (explanation.decided_by == "plain_text") is found


def test_the_failure_detail_and_read_are_cut() -> None:
    verdict = _text("Started\nfailed " + "y" * 200)
    assert verdict.detail == (
        "HTTP 200 but the body says it failed: Started failed " + "y" * 104 + "…"
    )
    assert verdict.read == "a failure word in 'Started failed " + "y" * 44 + "…'"


@pytest.mark.parametrize(("length", "read_as_text"), [(2000, True), (2001, False)])
def test_at_most_2000_characters_are_read(length: int, read_as_text: bool) -> None:
    head = "Started\nfailed\n"
    text = head + "x" * (length - len(head))
    assert (_explain(text).decided_by == "plain_text") is read_as_text


def test_an_overall_line_is_the_overall_not_a_component() -> None:
    verdict = _text("overall: down\ndb: ok")
    assert (verdict.detail, list(verdict.components)) == ("reports unhealthy with HTTP 200", ["db"])


@pytest.mark.parametrize(
    "page", ["<!DOCTYPE html><p>Error: db down</p>", "  <HTML><p>Error: db down</p></HTML>"]
)
def test_a_page_in_any_case_is_left_to_html_page(page: str) -> None:
    verdict = _explain(page).verdict
    assert verdict.detail == "reports unhealthy with HTTP 200: db down"


def test_a_status_line_followed_by_more_text_is_not_the_answer() -> None:
    assert _explain("Service ready.\nuptime 5 days").decided_by == "http_status"


def test_the_failure_verdict_keeps_the_code_and_the_evidence() -> None:
    verdict = _text("Started\nError: database unreachable", 203)
    assert (verdict.http_status, verdict.evidence) == (
        203,
        "Started Error: database unreachable",
    )
