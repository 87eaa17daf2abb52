"""Bodies that cannot be read as what they claim to be: too large, a media type no health
answer has (image/png), bad charset, broken JSON.

Only for answers the HTTP status calls fine (< 400): an error status speaks for itself and is
left to later parsers. A 200 we cannot read is not healthy: it is `degraded`, with the reason.
"""

from __future__ import annotations

from monitor.answer import Answer
from monitor.model import Reason, Status, Verdict
from monitor.normalize._body import Body
from monitor.normalize.evidence import evidence_snippet

# Media types no health endpoint answers with: the body is not read as health, whatever it
# says. text/* and application/octet-stream stay lenient (frameworks and nginx's default_type
# label JSON and "OK" that way all the time).
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_TYPES = {"application/pdf", "application/zip", "application/gzip", "application/x-gzip"}


def _binary(media: str) -> bool:
    return media.startswith(_BINARY_PREFIXES) or media in _BINARY_TYPES


def parse(answer: Answer, body: Body) -> Verdict | None:
    code = answer.status_code
    if code is None or code >= 400:
        return None
    if answer.truncated:
        reason, detail = (
            Reason.BODY_TOO_LARGE,
            f"HTTP {code} body is larger than the {answer.body_cap or len(answer.body)}-byte "
            "cap; not read further",
        )
    elif _binary(answer.content_type) and body.raw.strip():
        reason, detail = (
            Reason.UNEXPECTED_CONTENT_TYPE,
            f"HTTP {code} answers with {answer.content_type}, not a health answer; "
            "is the path routed to the right handler?",
        )
    elif body.text is None:
        reason, detail = (
            Reason.INVALID_ENCODING,
            f"HTTP {code} body is not valid text in its declared charset",
        )
    elif body.declared_json and not body.has_json:
        why = body.json_error or "empty body"
        reason, detail = (
            Reason.INVALID_JSON,
            f"HTTP {code} declares {answer.content_type} but the body is not JSON ({why})",
        )
    else:
        return None
    return Verdict(
        status=Status.DEGRADED,
        reason=reason,
        detail=detail[:300],
        http_status=code,
        evidence=evidence_snippet(answer.body),
        read=f"HTTP {code}, {answer.content_type or 'untyped'} body of {len(answer.body)} bytes",
    )
