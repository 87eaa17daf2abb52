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


BODIES = {
    "empty": ({}, b""),  # judged by the status code alone
    "status-ok": (JSON, b'{"status":"ok"}'),  # healthy only below 400
    "broken-json": (JSON, b'{"status": "ok"'),  # the finding only below 400
}
EDGES = [
    ("empty", 199, K, Reason.UNRECOGNIZED_BODY),
    ("empty", 200, H, Reason.OK),
    ("empty", 299, H, Reason.OK),
    ("empty", 300, D, Reason.UNEXPECTED_REDIRECT),
    ("empty", 399, D, Reason.UNEXPECTED_REDIRECT),
    ("empty", 400, D, Reason.CLIENT_ERROR),
    ("empty", 499, D, Reason.CLIENT_ERROR),
    ("empty", 500, U, Reason.SERVER_ERROR),
    ("empty", 599, U, Reason.SERVER_ERROR),
    ("empty", 600, K, Reason.UNRECOGNIZED_BODY),
    ("status-ok", 200, H, Reason.OK),
    ("status-ok", 299, H, Reason.OK),
    ("status-ok", 399, H, Reason.OK),
    # from 400 on, a body that claims health is contradicted by its own status line
    ("status-ok", 400, D, Reason.INCONSISTENT_STATUS),
    ("status-ok", 499, D, Reason.INCONSISTENT_STATUS),
    ("status-ok", 500, D, Reason.INCONSISTENT_STATUS),
    ("status-ok", 599, D, Reason.INCONSISTENT_STATUS),
    # below 400 a body that cannot be read is the finding ...
    ("broken-json", 200, D, Reason.INVALID_JSON),
    ("broken-json", 399, D, Reason.INVALID_JSON),
    # ... from 400 on the status code speaks for itself
    ("broken-json", 400, D, Reason.CLIENT_ERROR),
    ("broken-json", 499, D, Reason.CLIENT_ERROR),
    ("broken-json", 500, U, Reason.SERVER_ERROR),
]


@pytest.mark.parametrize(
    ("body", "code", "status", "reason"), EDGES, ids=[f"{b}-{c}" for b, c, _, _ in EDGES]
)
def test_each_edge_of_the_status_code_ranges(
    body: str, code: int, status: Status, reason: Reason
) -> None:
    verdict = normalize_response(_answer(code, *BODIES[body]))
    assert (verdict.status, verdict.reason, verdict.http_status) == (status, reason, code)


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
