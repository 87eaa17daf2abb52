"""Every edge of the status-code ranges, through `normalize_response`: 199/200, 299/300,
399/400, 499/500, 599/600. The expected verdicts are written out from docs/reasons.md, never
computed by the normalizer's own helpers, so a moved boundary (`400 <= code` -> `400 < code`)
fails a row."""

from __future__ import annotations

import pytest

from monitor.answer import Answer
from monitor.model import Reason, Status
from monitor.normalize import normalize_response

H, D, U, K = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN
JSON = {"content-type": "application/json"}


def _answer(code: int, headers: dict[str, str], body: bytes) -> Answer:
    return Answer(url="http://svc.test/health", status_code=code, headers=headers, body=body)


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        (199, K, Reason.UNRECOGNIZED_BODY),
        (200, H, Reason.OK),
        (299, H, Reason.OK),
        (300, D, Reason.UNEXPECTED_REDIRECT),
        (399, D, Reason.UNEXPECTED_REDIRECT),
        (400, D, Reason.CLIENT_ERROR),
        (499, D, Reason.CLIENT_ERROR),
        (500, U, Reason.SERVER_ERROR),
        (599, U, Reason.SERVER_ERROR),
        (600, K, Reason.UNRECOGNIZED_BODY),
    ],
)
def test_empty_body_is_judged_by_the_status_code_alone(
    code: int, status: Status, reason: Reason
) -> None:
    verdict = normalize_response(_answer(code, {}, b""))
    assert (verdict.status, verdict.reason, verdict.http_status) == (status, reason, code)


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        (200, H, Reason.OK),
        (299, H, Reason.OK),
        (399, H, Reason.OK),
        # from 400 on, a body that claims health is contradicted by its own status line
        (400, D, Reason.INCONSISTENT_STATUS),
        (499, D, Reason.INCONSISTENT_STATUS),
        (500, D, Reason.INCONSISTENT_STATUS),
        (599, D, Reason.INCONSISTENT_STATUS),
    ],
)
def test_status_ok_body_is_healthy_only_below_400(
    code: int, status: Status, reason: Reason
) -> None:
    verdict = normalize_response(_answer(code, JSON, b'{"status":"ok"}'))
    assert (verdict.status, verdict.reason) == (status, reason)


def test_http_400_with_status_ok_names_the_contradiction() -> None:
    verdict = normalize_response(_answer(400, JSON, b'{"status":"ok"}'))
    assert verdict.detail == "JSON body reports healthy but HTTP status is 400"


@pytest.mark.parametrize(
    ("code", "detail"),
    [
        (399, "reports unhealthy with HTTP 399"),
        (400, "reports unhealthy"),
    ],
)
def test_an_unhealthy_body_names_a_status_code_that_does_not_say_so(code: int, detail: str) -> None:
    verdict = normalize_response(_answer(code, JSON, b'{"status":"down"}'))
    assert (verdict.status, verdict.reason) == (U, Reason.REPORTED_UNHEALTHY)
    assert verdict.detail == detail


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        # below 400 a body that cannot be read is the finding ...
        (200, D, Reason.INVALID_JSON),
        (399, D, Reason.INVALID_JSON),
        # ... from 400 on the status code speaks for itself
        (400, D, Reason.CLIENT_ERROR),
        (499, D, Reason.CLIENT_ERROR),
        (500, U, Reason.SERVER_ERROR),
    ],
)
def test_broken_json_is_the_finding_only_below_400(
    code: int, status: Status, reason: Reason
) -> None:
    verdict = normalize_response(_answer(code, JSON, b'{"status": "ok"'))
    assert (verdict.status, verdict.reason) == (status, reason)
