"""What a probe got back from a target: the raw material the normalizer classifies.

A probe never raises for a failing target; it returns an `Answer` whose `error` says what went
wrong on the way. Kept free of aiohttp so that the normalizer stays pure.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

ERROR_DETAIL_CHARS = 300
"""`Answer.error_detail` is cut to this length; text of exactly this length may have been cut."""


class TransportError(enum.StrEnum):
    """Failures before a complete HTTP answer was in hand."""

    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_RESET = "connection_reset"
    DNS_FAILURE = "dns_failure"
    TLS_CERTIFICATE_EXPIRED = "tls_certificate_expired"
    TLS_CERTIFICATE_UNTRUSTED = "tls_certificate_untrusted"
    TLS_ERROR = "tls_error"
    PROTOCOL_ERROR = "protocol_error"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    CONNECTION_ERROR = "connection_error"


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
    error: TransportError | None = None
    error_detail: str = ""
    duration_s: float = 0.0
    redirects: int = 0
    final_url: str = ""
    crossed_origin: str = ""
    """The first other origin (`scheme://host:port`) a redirect led to; the configured headers
    were not sent there. Empty if every request went to the check's own origin."""

    @property
    def content_type(self) -> str:
        """The media type alone, lower-cased: `application/json`, `text/plain`, or ''."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
