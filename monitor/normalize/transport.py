"""Failures before a full answer arrived: timeouts, refused, reset, DNS, TLS, redirects."""

from __future__ import annotations

from monitor.answer import Answer, TransportError
from monitor.model import Reason, Status, Verdict
from monitor.normalize._body import Body

_REASONS = {
    TransportError.TIMEOUT: (Reason.TIMEOUT, "no complete answer within the timeout"),
    TransportError.CONNECTION_REFUSED: (Reason.CONNECTION_REFUSED, "connection refused"),
    TransportError.CONNECTION_RESET: (Reason.CONNECTION_RESET, "connection reset by the service"),
    TransportError.DNS_FAILURE: (Reason.DNS_FAILURE, "host name did not resolve"),
    TransportError.TLS_CERTIFICATE_EXPIRED: (
        Reason.TLS_CERTIFICATE_EXPIRED,
        "TLS certificate has expired",
    ),
    TransportError.TLS_CERTIFICATE_UNTRUSTED: (
        Reason.TLS_CERTIFICATE_UNTRUSTED,
        "TLS certificate is not trusted",
    ),
    TransportError.TLS_ERROR: (Reason.TLS_ERROR, "TLS handshake failed"),
    TransportError.PROTOCOL_ERROR: (Reason.PROTOCOL_ERROR, "malformed HTTP answer"),
    TransportError.TOO_MANY_REDIRECTS: (Reason.TOO_MANY_REDIRECTS, "too many redirects"),
    TransportError.CONNECTION_ERROR: (Reason.CONNECTION_ERROR, "connection failed"),
}


def parse(answer: Answer, body: Body) -> Verdict | None:
    if answer.error is None:
        return None
    reason, summary = _REASONS[answer.error]
    detail = f"{summary}: {answer.error_detail}" if answer.error_detail else summary
    return Verdict(
        status=Status.UNHEALTHY,
        reason=reason,
        detail=detail[:300],
        http_status=answer.status_code,
        read=f"transport error {answer.error.value}",
    )
