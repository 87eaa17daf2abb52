"""Edges of the normalizer's parsers that the shape table does not reach: exact details, cuts
at their limits, and the order in which a parser decides. Written against mutation testing
(docs/testing.md): each test names behaviour a user sees, with the words written out."""

from __future__ import annotations

from monitor.answer import Answer, TransportError
from monitor.model import Reason, Status
from monitor.normalize import normalize_response

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
