"""A probe's own findings (normalize/_findings.py), through `normalize_response`: the verdict
of a tcp or mcp exchange, and a finding that can only make an HTTP verdict worse. Pure, no
probe: the findings are written as a probe would hand them over."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from monitor.answer import Answer, Finding, TransportError
from monitor.model import Certificate, Reason, Status
from monitor.normalize import explain, normalize_response

H, D, U = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY
URL = "tcp://db.test:5432"
OK_JSON = {"content-type": "application/json"}

EXPIRING = Finding(Status.DEGRADED, Reason.CERTIFICATE_EXPIRING, "certificate expires in 3 days")
MCP_DOWN = Finding(Status.UNHEALTHY, Reason.MCP_ERROR, "initialize failed: -32601")
SLOW_START = Finding(Status.DEGRADED, Reason.PROTOCOL_ERROR, "banner after 2 s")


def _cert(verified: bool) -> Certificate:
    when = datetime(2027, 1, 1, tzinfo=UTC)
    return Certificate(
        host="svc.test", not_after=when, chain_not_after=when, days_left=31, verified=verified
    )


def test_a_completed_exchange_is_judged_by_its_worst_finding() -> None:
    answer = Answer(url=URL, findings=(EXPIRING, MCP_DOWN, SLOW_START))
    explanation = explain(answer)
    assert explanation.decided_by == "probe"
    verdict = explanation.verdict
    assert (verdict.status, verdict.reason, verdict.detail) == (
        Status.UNHEALTHY,
        Reason.MCP_ERROR,
        "initialize failed: -32601",
    )


def test_of_equally_bad_findings_the_first_is_the_verdict() -> None:
    verdict = normalize_response(Answer(url=URL, findings=(EXPIRING, SLOW_START)))
    assert (verdict.reason, verdict.detail) == (
        Reason.CERTIFICATE_EXPIRING,
        "certificate expires in 3 days",
    )


def test_a_transport_failure_outranks_the_findings() -> None:
    answer = Answer(url=URL, error=TransportError.CONNECTION_REFUSED, findings=(EXPIRING,))
    explanation = explain(answer)
    assert explanation.decided_by == "transport"
    assert explanation.verdict.reason is Reason.CONNECTION_REFUSED


def _http(reported: str, findings: tuple[Finding, ...] = ()) -> Answer:
    """A 200 whose JSON body reports `reported`, with what its probe found."""
    body = f'{{"status": "{reported}"}}'.encode()
    return Answer("https://svc.test/health", 200, OK_JSON, body, findings=findings)


def test_an_http_answer_is_read_by_the_parsers_then_made_worse() -> None:
    assert explain(_http("ok", (EXPIRING,))).decided_by == "generic_json"


@pytest.mark.parametrize(
    ("reported", "findings", "status", "reason", "detail"),
    [
        ("ok", (EXPIRING,), D, Reason.CERTIFICATE_EXPIRING, "certificate expires in 3 days"),
        # never better ...
        ("down", (EXPIRING,), U, Reason.REPORTED_UNHEALTHY, "reports unhealthy with HTTP 200"),
        # ... and as bad is not worse
        ("degraded", (EXPIRING,), D, Reason.REPORTED_DEGRADED, "reports degraded"),
        ("ok", (EXPIRING, MCP_DOWN, SLOW_START), U, Reason.MCP_ERROR, "initialize failed: -32601"),
        ("ok", (), H, Reason.OK, "reports healthy (JSON)"),
    ],
)
def test_a_finding_only_makes_a_verdict_worse(
    reported: str, findings: tuple[Finding, ...], status: Status, reason: Reason, detail: str
) -> None:
    verdict = normalize_response(_http(reported, findings))
    assert (verdict.status, verdict.reason, verdict.detail, verdict.tls) == (
        status,
        reason,
        detail,
        None,
    )


def test_the_certificate_rides_along_and_an_unverified_one_says_so() -> None:
    checked = normalize_response(replace(_http("ok"), tls=_cert(verified=True)))
    assert (checked.tls, checked.detail) == (_cert(verified=True), "reports healthy (JSON)")
    skipped = normalize_response(replace(_http("ok"), tls=_cert(verified=False)))
    assert skipped.tls == _cert(verified=False)
    assert skipped.detail == (
        "reports healthy (JSON); certificate not verified (insecure_skip_verify)"
    )
    worse = normalize_response(replace(_http("ok", (EXPIRING,)), tls=_cert(verified=False)))
    assert worse.detail == (
        "certificate expires in 3 days; certificate not verified (insecure_skip_verify)"
    )
