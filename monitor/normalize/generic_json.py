"""Everything else JSON: `{"status": "ok"}`, `{"healthy": true}`, `{"status": {...}}`, with
sub-objects that carry their own status (`"postgres": {"status": "error", ...}`) as components,
and bodies that only say `{"error": ...}`.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.answer import Answer
from monitor.model import Reason, Status, Verdict, worst
from monitor.normalize._body import Body
from monitor.normalize._reported import verdict_from_report
from monitor.normalize._vocabulary import (
    components_of,
    message_of,
    short,
    status_of,
    status_word,
    version_of,
)
from monitor.normalize.evidence import evidence_snippet


def parse(answer: Answer, body: Body) -> Verdict | None:
    if not body.has_json:
        return None
    data = body.json
    if not isinstance(data, Mapping):
        scalar = status_word(data)
        if scalar is None:
            return None
        return verdict_from_report(answer, scalar, fmt="JSON")
    reported = status_of(data)
    components = components_of(data)
    if reported is None:
        error = data.get("error") or data.get("errors")
        code = answer.status_code or 0
        if error and code < 400:
            return Verdict(
                status=Status.UNHEALTHY,
                reason=Reason.REPORTED_UNHEALTHY,
                detail=f"HTTP {code} but the body reports an error: {short(str(error))}",
                http_status=code,
                evidence=evidence_snippet(answer.body),
            )
        if not components:
            return None
        # no overall status, only components: the service is as healthy as its parts say
        reported = worst(c.status for c in components.values())
    return verdict_from_report(
        answer,
        reported,
        fmt="JSON",
        message=message_of(data),
        components=components,
        version=version_of(data),
    )
