"""A probe's own findings (normalize/_findings.py), through `normalize_response`: the verdict
of a tcp or mcp exchange, and a finding that can only make an HTTP verdict worse. Pure, no
probe: the findings are written as a probe would hand them over."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from monitor.answer import Answer, Finding, TransportError
from monitor.model import Certificate, Reason, Status
from monitor.normalize import explain, normalize_response

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


def test_an_http_answer_is_read_by_the_parsers_and_made_worse_by_a_finding() -> None:
    answer = Answer(
        url="https://svc.test/health",
        status_code=200,
        headers=OK_JSON,
        body=b'{"status": "ok"}',
        findings=(EXPIRING,),
    )
    explanation = explain(answer)
    assert explanation.decided_by == "generic_json"
    verdict = explanation.verdict
    assert (verdict.status, verdict.reason, verdict.detail) == (
        Status.DEGRADED,
        Reason.CERTIFICATE_EXPIRING,
        "certificate expires in 3 days",
    )


def test_a_finding_never_makes_a_verdict_better() -> None:
    answer = Answer(
        url="https://svc.test/health",
        status_code=200,
        headers=OK_JSON,
        body=b'{"status": "down"}',
        findings=(EXPIRING,),
    )
    verdict = normalize_response(answer)
    assert (verdict.status, verdict.reason, verdict.detail) == (
        Status.UNHEALTHY,
        Reason.REPORTED_UNHEALTHY,
        "reports unhealthy with HTTP 200",
    )


def test_a_finding_as_bad_as_the_verdict_leaves_it_alone() -> None:
    answer = Answer(
        url="https://svc.test/health",
        status_code=200,
        headers=OK_JSON,
        body=b'{"status": "degraded"}',
        findings=(EXPIRING,),
    )
    verdict = normalize_response(answer)
    assert (verdict.reason, verdict.detail) == (Reason.REPORTED_DEGRADED, "reports degraded")


def test_the_worst_of_several_findings_applies() -> None:
    answer = Answer(
        url="https://svc.test/health",
        status_code=200,
        headers=OK_JSON,
        body=b'{"status": "ok"}',
        findings=(EXPIRING, MCP_DOWN, SLOW_START),
    )
    verdict = normalize_response(answer)
    assert (verdict.status, verdict.reason) == (Status.UNHEALTHY, Reason.MCP_ERROR)


def test_the_certificate_rides_along_and_an_unverified_one_says_so() -> None:
    base = Answer(
        url="https://svc.test/health", status_code=200, headers=OK_JSON, body=b'{"status": "ok"}'
    )
    checked = normalize_response(replace(base, tls=_cert(verified=True)))
    assert checked.tls == _cert(verified=True)
    assert (checked.status, checked.detail) == (Status.HEALTHY, "reports healthy (JSON)")
    skipped = normalize_response(replace(base, tls=_cert(verified=False)))
    assert skipped.tls == _cert(verified=False)
    assert skipped.detail == (
        "reports healthy (JSON); certificate not verified (insecure_skip_verify)"
    )
    worse = normalize_response(replace(base, tls=_cert(verified=False), findings=(EXPIRING,)))
    assert worse.detail == (
        "certificate expires in 3 days; certificate not verified (insecure_skip_verify)"
    )


def test_without_findings_or_certificate_the_verdict_is_the_parsers() -> None:
    answer = Answer(
        url="https://svc.test/health", status_code=200, headers=OK_JSON, body=b'{"status": "ok"}'
    )
    verdict = normalize_response(answer)
    assert (verdict.detail, verdict.tls) == ("reports healthy (JSON)", None)
