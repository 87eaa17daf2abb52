"""Bodies that cannot be read as what they claim to be: too large, bad charset, broken JSON.

Only for answers the HTTP status calls fine (< 400): an error status speaks for itself and is
left to later parsers. A 200 we cannot read is not healthy: it is `degraded`, with the reason.
"""

from __future__ import annotations

from monitor.answer import Answer
from monitor.model import Reason, Status, Verdict
from monitor.normalize._body import Body
from monitor.normalize.evidence import evidence_snippet


def parse(answer: Answer, body: Body) -> Verdict | None:
    code = answer.status_code
    if code is None or code >= 400:
        return None
    if answer.truncated:
        reason, detail = (
            Reason.BODY_TOO_LARGE,
            f"HTTP {code} body is larger than the {len(answer.body)}-byte cap; not read further",
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
    )
