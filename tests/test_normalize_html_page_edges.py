"""Small HTML status pages (normalize/html_page.py) at their edges: the title read first,
invisible script and style skipped, a reason-phrase heading skipped, entities decoded, 40
visible lines and one more, 16,000 characters and one more, pages painted one colour."""

from __future__ import annotations

import pytest

from monitor.model import Reason, Status
from monitor.normalize import Explanation
from tests.answers import explained
from tests.padding import padded

H, D, U = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY


def _explain(html: str, code: int = 200, content_type: str = "text/html") -> Explanation:
    return explained(html.encode(), code, content_type)


def _page(html: str, code: int = 200, content_type: str = "text/html") -> Explanation:
    return explained(html.encode(), code, content_type, decided_by="html_page")


@pytest.mark.parametrize(
    ("html", "code", "status", "reason", "detail", "read"),
    [
        (
            "<html><head><title>Status</title></head><body><h1>Application up</h1></body></html>",
            200,
            H,
            Reason.OK,
            "reports healthy (HTML page)",
            "the page line 'Application up'",
        ),
        (
            "<html><head><title>Backend is unhealthy</title><style>p{}</style>"
            "<script>var ok=1</script></head><body><p>Service ready.</p></body></html>",
            200,
            U,
            Reason.REPORTED_UNHEALTHY,
            "reports unhealthy with HTTP 200",
            "the page line 'Backend is unhealthy'",
        ),
        (
            "<html><body><h1>502 Bad Gateway</h1><p>Service ready.</p></body></html>",
            502,
            D,
            Reason.INCONSISTENT_STATUS,
            "HTML page body reports healthy but HTTP status is 502",
            "the page line 'Service ready.'",
        ),
        (
            "<p>Service &amp; db ready.</p>",
            200,
            H,
            Reason.OK,
            "reports healthy (HTML page)",
            "the page line 'Service & db ready.'",
        ),
    ],
)
def test_the_first_status_line_in_page_order_decides(
    html: str, code: int, status: Status, reason: Reason, detail: str, read: str
) -> None:
    verdict = _page(html, code).verdict
    assert (verdict.status, verdict.reason, verdict.detail, verdict.read) == (
        status,
        reason,
        detail,
        read,
    )


@pytest.mark.parametrize(
    ("html", "content_type"),
    [
        ("<!doctype html><p>Service ready.</p>", "text/plain"),
        ("<?xml version='1.0'?><p>Service ready.</p>", ""),
    ],
)
def test_markup_is_a_page_whatever_its_media_type(html: str, content_type: str) -> None:
    assert _page(html, content_type=content_type).verdict.status is H


@pytest.mark.parametrize(
    ("html", "code", "status", "read"),
    [
        ('<html><body style="background-color: green"></body></html>', 200, H, "green"),
        ('<html><body style="background: RED"></body></html>', 503, U, "red"),
    ],
)
def test_a_page_painted_one_colour(html: str, code: int, status: Status, read: str) -> None:
    verdict = _page(html, code).verdict
    assert (verdict.status, verdict.read) == (status, f"a page painted {read}, with no text")


@pytest.mark.parametrize(
    "html",
    [
        '<html><body style="background-color: green"><div style="background: red"></div></body>',
        '<html><body style="background-color: blue"></body></html>',
    ],
)
def test_two_colours_or_one_that_is_no_status_say_nothing(html: str) -> None:
    assert _explain(html).decided_by == "http_status"


@pytest.mark.parametrize(("lines", "read_as_page"), [(39, True), (40, False)])
def test_at_most_40_visible_lines(lines: int, read_as_page: bool) -> None:
    body = "".join(f"<p>line {i}</p>" for i in range(lines)) + "<p>Service ready.</p>"
    html = f"<html><body>{body}</body></html>"
    assert (_explain(html).decided_by == "html_page") is read_as_page


@pytest.mark.parametrize(("length", "read_as_page"), [(16_000, True), (16_001, False)])
def test_at_most_16000_characters(length: int, read_as_page: bool) -> None:
    html = padded("<html><body><p>Service ready.</p>", "</body></html>", length, " ")
    assert (_explain(html).decided_by == "html_page") is read_as_page


@pytest.mark.parametrize(
    ("html", "content_type"),
    [("<HTML><p>Service ready.</p></HTML>", ""), ("  <html><p>Service ready.</p>", "text/plain")],
)
def test_an_html_start_tag_in_any_case_makes_a_page(html: str, content_type: str) -> None:
    assert _page(html, content_type=content_type).verdict.status is H


def test_a_painted_page_names_its_format_and_an_unknown_colour_fails_no_parser() -> None:
    green = _page('<html><body style="background-color: green"></body></html>').verdict
    assert green.detail == "reports healthy (HTML page)"
    blue = _explain('<html><body style="background-color: blue"></body></html>')
    assert blue.failed == ()


def test_long_text_sent_as_html_without_markup_is_not_a_page() -> None:
    text = "Service ready.\n" + "x " * 1200  # too long for plain_text, and not markup
    assert _explain(text).decided_by == "http_status"


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>Service <b>ready</b></title></head></html>",
        "<html><head><style>p{}</style></head>Service ready.</html>",
        "<html><head><script>var x</script></head>ok</html>",
    ],
)
def test_tags_inside_the_title_and_invisible_blocks_leave_the_words(html: str) -> None:
    assert _page(html).verdict.status is H
