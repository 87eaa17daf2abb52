"""Cloudflare's own error pages (normalize/cloudflare.py) at their edges: the code from the
header, the one-line body and the HTML page, each within its reading limit; the ranges of
codes without their own words; the 520-530 band; and the error-type header."""

from __future__ import annotations

import pytest

from monitor.answer import Answer
from monitor.model import Reason, Status
from monitor.normalize import Explanation, explain

U, D = Status.UNHEALTHY, Status.DEGRADED
HTML = {"content-type": "text/html"}


def _explain(body: str, code: int = 500, headers: dict[str, str] | None = None) -> Explanation:
    answer = Answer("http://svc.test/health", code, headers or {}, body.encode())
    explanation = explain(answer)
    assert explanation.failed == ()
    return explanation


def _cloudflare(
    body: str, code: int = 500, headers: dict[str, str] | None = None
) -> tuple[Status, Reason, str, str]:
    explanation = _explain(body, code, headers)
    assert explanation.decided_by == "cloudflare"
    verdict = explanation.verdict
    assert verdict.http_status == code
    return verdict.status, verdict.reason, verdict.detail, verdict.read


@pytest.mark.parametrize(
    ("code", "reason", "meaning", "label"),
    [
        (1099, Reason.EDGE_ERROR, "Cloudflare error 1099", "error 1099"),
        (1100, Reason.EDGE_ERROR, "Workers runtime error 1100", "error 1100"),
        (1199, Reason.EDGE_ERROR, "Workers runtime error 1199", "error 1199"),
        (1200, Reason.EDGE_ERROR, "Cloudflare error 1200", "error 1200"),
        (499, Reason.EDGE_ERROR, "Cloudflare error 499", "HTTP 499"),
        (500, Reason.ORIGIN_UNREACHABLE, "origin error (500)", "HTTP 500"),
        (599, Reason.ORIGIN_UNREACHABLE, "origin error (599)", "HTTP 599"),
        (600, Reason.EDGE_ERROR, "Cloudflare error 600", "HTTP 600"),
        (999, Reason.EDGE_ERROR, "Cloudflare error 999", "HTTP 999"),
        (1000, Reason.EDGE_ERROR, "DNS points to a prohibited IP", "error 1000"),
        (1101, Reason.WORKER_EXCEPTION, "Worker threw a JavaScript exception", "error 1101"),
        (520, Reason.ORIGIN_UNREACHABLE, "origin returned an unknown error (520)", "HTTP 520"),
    ],
)
def test_a_code_in_the_header_is_decoded_by_its_range(
    code: int, reason: Reason, meaning: str, label: str
) -> None:
    assert _cloudflare("", headers={"cf-error-code": f" {code} "}) == (
        U,
        reason,
        f"Cloudflare {label}: {meaning} (HTTP 500)",
        f"Cloudflare {label}",
    )


def test_a_header_that_is_no_number_is_not_a_code() -> None:
    assert _explain("", headers={"cf-error-code": "n/a"}).decided_by == "http_status"


@pytest.mark.parametrize(
    ("body", "status", "reason", "meaning", "code"),
    [
        (
            "error code: 1102",
            U,
            Reason.WORKER_RESOURCE_LIMIT,
            "Worker exceeded its CPU time limit",
            1102,
        ),
        (
            "  Error Code:  1015  \n",
            D,
            Reason.RATE_LIMITED,
            "rate limited by Cloudflare (burst limit)",
            1015,
        ),
        (
            "error code: 522",
            U,
            Reason.ORIGIN_UNREACHABLE,
            "connection to the origin timed out (522)",
            522,
        ),
    ],
)
def test_a_one_line_error_code_body_is_decoded(
    body: str, status: Status, reason: Reason, meaning: str, code: int
) -> None:
    label = f"error {code}" if code >= 1000 else f"HTTP {code}"
    assert _cloudflare(body) == (
        status,
        reason,
        f"Cloudflare {label}: {meaning} (HTTP 500)",
        f"Cloudflare {label}",
    )


@pytest.mark.parametrize("body", ["error code: 12", "error code: 123456", '{"error code": 1101}'])
def test_codes_of_two_or_six_digits_and_json_bodies_are_not_read(body: str) -> None:
    headers = {"content-type": "application/json"} if body.startswith("{") else {}
    assert _explain(body, headers=headers).decided_by == "http_status"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("<html>cloudflare <span class='cf-error-code'>1016</span></html>", HTML),
        ("<html>Cloudflare Error <b>1016</b></html>", HTML),
        ("<html>Error <b>1016</b></html>", {**HTML, "cf-error-type": "x"}),
    ],
)
def test_an_html_error_page_from_cloudflare_is_decoded(body: str, headers: dict[str, str]) -> None:
    assert _cloudflare(body, headers=headers) == (
        U,
        Reason.ORIGIN_UNREACHABLE,
        "Cloudflare error 1016: origin DNS error (HTTP 500)",
        "Cloudflare error 1016",
    )


def test_an_html_error_page_not_from_cloudflare_is_not_decoded() -> None:
    assert _explain("<html>Error <b>1016</b></html>", headers=HTML).decided_by != "cloudflare"


@pytest.mark.parametrize(("padding", "decided_by"), [(0, "cloudflare"), (1, "http_status")])
def test_the_word_cloudflare_is_looked_for_in_the_first_20000_characters(
    padding: int, decided_by: str
) -> None:
    head = "<p>Error 1016</p>"
    body = head + "x" * (20000 - len(head) - len("cloudflare") + padding) + "cloudflare"
    assert _explain(body, headers=HTML).decided_by == decided_by


@pytest.mark.parametrize(("padding", "decided_by"), [(0, "cloudflare"), (1, "http_status")])
def test_the_html_code_is_looked_for_in_the_first_20000_characters(
    padding: int, decided_by: str
) -> None:
    head, tail = "cloudflare ", "Error 1016"
    body = head + "x" * (20000 - len(head) - len(tail) + padding) + tail
    assert _explain(body, headers=HTML).decided_by == decided_by


@pytest.mark.parametrize(("padding", "decided_by"), [(0, "cloudflare"), (1, "http_status")])
def test_a_thrown_worker_exception_is_looked_for_in_the_first_2000_characters(
    padding: int, decided_by: str
) -> None:
    phrase = " Worker threw exception"
    explanation = _explain("x" * (2000 - len(phrase) + padding) + phrase)
    assert explanation.decided_by == decided_by


@pytest.mark.parametrize(
    "phrase", ["Worker threw exception", "worker threw a JavaScript exception"]
)
def test_a_thrown_worker_exception_is_error_1101_of_workers(phrase: str) -> None:
    assert _cloudflare(f"Error: {phrase}.") == (
        U,
        Reason.WORKER_EXCEPTION,
        "Cloudflare Workers error 1101: Worker threw a JavaScript exception (HTTP 500)",
        "Cloudflare Workers error 1101",
    )


@pytest.mark.parametrize(
    ("code", "decided_by"),
    [(519, "http_status"), (520, "cloudflare"), (530, "cloudflare"), (531, "http_status")],
)
def test_the_edge_s_own_answer_is_read_from_520_to_530(code: int, decided_by: str) -> None:
    assert _explain("", code, {"server": "Cloudflare"}).decided_by == decided_by


def test_a_52x_from_another_server_is_not_the_edge_s() -> None:
    assert _explain("", 522, {"server": "nginx"}).decided_by == "http_status"


def test_a_52x_from_the_edge_names_its_code() -> None:
    assert _cloudflare("", 530, {"server": "cloudflare"}) == (
        U,
        Reason.ORIGIN_UNREACHABLE,
        "Cloudflare HTTP 530: origin error (530) (HTTP 530)",
        "Cloudflare HTTP 530",
    )


def test_an_error_type_header_alone_is_an_edge_error_cut_at_40_characters() -> None:
    kind = "t" * 39 + "uv"
    assert _cloudflare("oops", 503, {"cf-error-type": kind}) == (
        U,
        Reason.EDGE_ERROR,
        f"Cloudflare error page (type {'t' * 39}u), HTTP 503",
        f"header cf-error-type: {'t' * 39}u",
    )
    evidence = _explain("oops", 503, {"cf-error-type": "origin"}).verdict.evidence
    assert evidence == "oops"


def test_a_decoded_page_keeps_the_body_as_evidence() -> None:
    verdict = _explain("error code: 1102").verdict
    assert verdict.evidence == "error code: 1102"


def test_a_json_body_speaks_for_itself_whatever_the_edge_headers_say() -> None:
    headers = {"content-type": "application/json", "cf-error-code": "1101"}
    explanation = _explain('{"status": "ok", "note": "cloudflare Error 1016"}', 200, headers)
    assert explanation.decided_by == "generic_json"
    assert explanation.verdict.status is Status.HEALTHY
