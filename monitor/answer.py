"""What a probe got back from a target: the raw material the normalizer classifies.

A probe never raises for a failing target; it returns an `Answer` whose `error` says what went
wrong on the way. Kept free of aiohttp so that the normalizer stays pure.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.expectations.program import Expectation
from monitor.model import Certificate, Reason, Status

ERROR_DETAIL_CHARS = 300
"""`Answer.error_detail` is cut to this length; text of exactly this length may have been cut."""


class TransportError(enum.StrEnum):
    """Failures before a complete HTTP answer was in hand; each is worded as the `Reason` its
    verdict carries, so the two vocabularies cannot drift apart."""

    TIMEOUT = Reason.TIMEOUT.value
    CONNECTION_REFUSED = Reason.CONNECTION_REFUSED.value
    CONNECTION_RESET = Reason.CONNECTION_RESET.value
    DNS_FAILURE = Reason.DNS_FAILURE.value
    TLS_CERTIFICATE_EXPIRED = Reason.TLS_CERTIFICATE_EXPIRED.value
    TLS_CERTIFICATE_UNTRUSTED = Reason.TLS_CERTIFICATE_UNTRUSTED.value
    TLS_ERROR = Reason.TLS_ERROR.value
    PROTOCOL_ERROR = Reason.PROTOCOL_ERROR.value
    TOO_MANY_REDIRECTS = Reason.TOO_MANY_REDIRECTS.value
    CONNECTION_ERROR = Reason.CONNECTION_ERROR.value


@dataclass(frozen=True, slots=True)
class Finding:
    """What a probe judged itself (a certificate about to expire, a protocol exchange that
    went wrong): it can only make the normalizer's verdict worse. On an answer with neither an
    HTTP status nor a transport error (a tcp or mcp exchange), the worst finding is the verdict."""

    status: Status
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class Answer:
    """One probe's outcome.

    `headers` has lower-cased names (repeated headers joined with ", "). `body` holds at most
    the probe's cap of *decoded* bytes; `truncated` says the service sent more.
    """

    url: str
    status_code: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    body_cap: int = 0
    """The probe's cap on `body` when `truncated` (the scrubber may change the body's length)."""
    error: TransportError | None = None
    error_detail: str = ""
    duration_s: float = 0.0
    redirects: int = 0
    final_url: str = ""
    crossed_origin: str = ""
    """The first other origin (`scheme://host:port`) a redirect led to; the configured headers
    were not sent there. Empty if every request went to the check's own origin."""
    expect: Expectation | None = None
    """The check's `expect:`, judged by the normalizer on the scrubbed answer."""
    tls: Certificate | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def completed(self) -> bool:
        """The exchange came back whole: an HTTP answer, or a non-HTTP probe's own verdict.
        Only a completed exchange is a latency sample."""
        return self.error is None and (self.status_code is not None or bool(self.findings))

    @property
    def content_type(self) -> str:
        """The media type alone, lower-cased: `application/json`, `text/plain`, or ''."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
