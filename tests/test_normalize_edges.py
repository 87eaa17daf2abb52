"""Edges of the normalizer's parsers that the shape table does not reach: exact details, cuts
at their limits, and the order in which a parser decides. Written against mutation testing
(docs/testing.md): each test names behaviour a user sees, with the words written out."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.answer import Answer, TransportError
from monitor.model import Reason, Status
from monitor.normalize import normalize_response
from monitor.secrets_scrub import Scrubber

URL = "http://svc.test/health"


def test_transport_detail_is_the_summary_alone_without_error_text() -> None:
    verdict = normalize_response(Answer(url=URL, error=TransportError.CONNECTION_REFUSED))
    assert (verdict.status, verdict.reason) == (Status.UNHEALTHY, Reason.CONNECTION_REFUSED)
    assert verdict.detail == "connection refused"


def test_transport_detail_adds_the_error_text() -> None:
    verdict = normalize_response(
        Answer(url=URL, error=TransportError.TIMEOUT, error_detail="after 5.0s")
    )
    assert verdict.detail == "no complete answer within the timeout: after 5.0s"


def test_transport_detail_is_cut_at_300_characters() -> None:
    verdict = normalize_response(
        Answer(url=URL, error=TransportError.CONNECTION_RESET, error_detail="x" * 299)
    )
    assert len(verdict.detail) == 300
    assert verdict.detail.startswith("connection reset by the service: xxx")


TEXT = {"content-type": "text/plain; charset=utf-8"}


def _k8s(text: str, code: int = 200) -> Any:
    return normalize_response(Answer(url=URL, status_code=code, headers=TEXT, body=text.encode()))


def test_kubernetes_all_passing_is_healthy_and_names_the_format() -> None:
    verdict = _k8s("[+]ping ok\n[+]etcd ok\nhealthz check passed\n")
    assert (verdict.status, verdict.reason) == (Status.HEALTHY, Reason.OK)
    assert verdict.detail == "reports healthy (Kubernetes healthz)"
    assert {name: c.detail for name, c in verdict.components.items()} == {"ping": "", "etcd": ""}


def test_kubernetes_only_failing_lines_are_still_recognized() -> None:
    verdict = _k8s("[-]etcd failed: reason withheld\nhealthz check failed\n")
    assert (verdict.status, verdict.reason) == (Status.UNHEALTHY, Reason.REPORTED_UNHEALTHY)
    ((name, etcd),) = verdict.components.items()
    assert (name, etcd.status, etcd.detail) == ("etcd", Status.UNHEALTHY, "reason withheld")


def test_kubernetes_summary_line_outranks_the_worst_component() -> None:
    """`healthz check passed` with a failing line: the service says healthy, one component
    disagrees: degraded, not unhealthy."""
    verdict = _k8s("[+]ping ok\n[-]poststarthook failed: not finished\nhealthz check passed\n")
    assert (verdict.status, verdict.reason) == (Status.DEGRADED, Reason.COMPONENT_UNHEALTHY)


def test_kubernetes_without_summary_takes_the_worst_component() -> None:
    verdict = _k8s("[+]ping ok\n[-]poststarthook failed: not finished\n")
    assert (verdict.status, verdict.reason) == (Status.UNHEALTHY, Reason.REPORTED_UNHEALTHY)


def test_kubernetes_component_names_are_cut_at_60_characters() -> None:
    name = "n" * 61
    verdict = _k8s(f"[+]{name} ok\n")
    assert list(verdict.components) == ["n" * 59 + "…"]
    exact = "m" * 60
    assert list(_k8s(f"[+]{exact} ok\n").components) == [exact]


def test_kubernetes_reads_only_the_first_200_lines() -> None:
    lines = [f"[+]check{i} ok" for i in range(200)] + ["[-]late failed: past the cap"]
    verdict = _k8s("\n".join(lines))
    assert verdict.status is Status.HEALTHY
    assert len(verdict.components) == 200


def _answer(code: int, content_type: str, body: bytes, **kw: Any) -> Answer:
    return Answer(
        url=URL, status_code=code, headers={"content-type": content_type}, body=body, **kw
    )


@pytest.mark.parametrize(
    ("code", "content_type", "body", "options", "status", "reason", "detail"),
    [
        pytest.param(
            200,
            "application/json",
            b'{"status":',
            {"truncated": True},
            Status.DEGRADED,
            Reason.BODY_TOO_LARGE,
            "HTTP 200 body is larger than the 10-byte cap; not read further",
            id="a truncated body names the cap",
        ),
        pytest.param(
            200,
            "image/png",
            b"\x89PNG\r\n",
            {},
            Status.DEGRADED,
            Reason.UNEXPECTED_CONTENT_TYPE,
            "HTTP 200 answers with image/png, not a health answer; "
            "is the path routed to the right handler?",
            id="a binary media type is not a health answer",
        ),
        pytest.param(
            204,
            "image/png",
            b"",
            {},
            Status.HEALTHY,
            Reason.OK,
            None,
            id="an empty binary answer is judged by its status",
        ),
        pytest.param(
            200,
            "text/plain; charset=utf-8",
            b"ok \xff",
            {},
            Status.DEGRADED,
            Reason.INVALID_ENCODING,
            "HTTP 200 body is not valid text in its declared charset",
            id="text in another charset than declared is invalid encoding",
        ),
        pytest.param(
            200,
            "application/json",
            b"  ",
            {},
            Status.DEGRADED,
            Reason.INVALID_JSON,
            "HTTP 200 declares application/json but the body is not JSON (empty body)",
            id="declared json that is empty says so",
        ),
    ],
)
def test_a_body_that_cannot_be_read_says_why(
    code: int,
    content_type: str,
    body: bytes,
    options: dict[str, Any],
    status: Status,
    reason: Reason,
    detail: str | None,
) -> None:
    verdict = normalize_response(_answer(code, content_type, body, **options))
    assert (verdict.status, verdict.reason) == (status, reason)
    if detail is not None:
        assert verdict.detail == detail


def test_a_truncated_body_names_the_probe_s_cap_even_when_a_secret_was_scrubbed_from_it() -> None:
    """The scrubber changes the body's length: the detail names the probe's cap, not that."""
    body = b'{"token": "s3cr3t-value-0123456789", "status":'
    answer = _answer(200, "application/json", body, truncated=True, body_cap=len(body))
    verdict = normalize_response(answer, Scrubber(["s3cr3t-value-0123456789"]))
    assert verdict.detail == "HTTP 200 body is larger than the 46-byte cap; not read further"


def test_a_pdf_is_not_a_health_answer_either() -> None:
    pdf = normalize_response(_answer(200, "application/pdf", b"%PDF-1.7"))
    assert pdf.reason is Reason.UNEXPECTED_CONTENT_TYPE


def test_a_malformed_detail_is_cut_at_300_characters() -> None:
    media = "application/" + "x" * 300 + "+json"
    verdict = normalize_response(_answer(200, media, b"{"))
    assert verdict.reason is Reason.INVALID_JSON
    assert len(verdict.detail) == 300


def _json(code: int, body: str) -> Any:
    return normalize_response(_answer(code, "application/json", body.encode()))


def test_an_error_body_under_a_fine_status_is_unhealthy_up_to_399() -> None:
    for code in (200, 399):
        verdict = _json(code, '{"error": "db down"}')
        assert (verdict.status, verdict.reason) == (Status.UNHEALTHY, Reason.REPORTED_UNHEALTHY)
        assert verdict.detail == f"HTTP {code} but the body reports an error: db down"
    plural = _json(200, '{"errors": ["a", "b"]}')
    assert plural.detail == "HTTP 200 but the body reports an error: ['a', 'b']"
    assert _json(400, '{"error": "bad request"}').reason is Reason.CLIENT_ERROR


def test_a_json_scalar_is_read_as_a_status_word() -> None:
    verdict = _json(200, '"ok"')
    assert (verdict.status, verdict.detail) == (Status.HEALTHY, "reports healthy (JSON)")
    assert _json(200, '"banana"').reason is Reason.UNRECOGNIZED_BODY


def test_json_components_alone_decide_the_status() -> None:
    verdict = _json(200, '{"db": {"status": "down"}, "cache": {"status": "up"}}')
    assert (verdict.status, verdict.reason) == (Status.UNHEALTHY, Reason.REPORTED_UNHEALTHY)
    assert set(verdict.components) == {"db", "cache"}


def test_json_message_and_version_are_kept() -> None:
    verdict = _json(200, '{"status": "down", "message": "disk full", "version": "1.2.3"}')
    assert verdict.detail == "reports unhealthy with HTTP 200: disk full"
    assert verdict.version == "1.2.3"


def test_a_transport_failure_after_a_status_line_keeps_the_status() -> None:
    verdict = normalize_response(
        Answer(url=URL, status_code=302, error=TransportError.TOO_MANY_REDIRECTS)
    )
    assert (verdict.reason, verdict.http_status) == (Reason.TOO_MANY_REDIRECTS, 302)


def test_kubernetes_failure_detail_keeps_its_own_words() -> None:
    verdict = _k8s("[-]tracing failed: X-Ray agent unreachable\n")
    assert verdict.components["tracing"].detail == "X-Ray agent unreachable"


def test_control_and_direction_characters_never_reach_a_detail() -> None:
    body = "boom\x00bang\u202eevil".encode()
    verdict = normalize_response(_answer(500, "text/plain", body))
    assert verdict.detail == "HTTP 500 (boombangevil)"


def test_a_secret_split_by_a_zero_width_space_is_still_scrubbed_from_the_detail() -> None:
    message = "bad token s3cr3t\u200b-value-0123456789"
    body = f'{{"status": "down", "message": "{message}"}}'.encode()
    verdict = normalize_response(
        _answer(503, "application/json", body), Scrubber(["s3cr3t-value-0123456789"])
    )
    assert verdict.detail == "reports unhealthy: bad token [redacted]"


def test_a_status_object_is_not_a_spring_answer_and_fails_no_parser() -> None:
    """`{"status": {...}}` made the Spring parser raise (unhashable) on every such answer."""
    failed: list[str] = []
    body = b'{"status": {"state": "ok"}, "components": {"db": {"status": ["UP"]}}}'
    normalize_response(
        _answer(200, "application/json", body),
        on_parser_error=failed.append,
    )
    assert failed == []
