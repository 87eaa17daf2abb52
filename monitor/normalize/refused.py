"""Answers that never reached the health report: 401 / 403 / 407 (the monitor is not allowed
in) and 404 / 405 / 410 (no such endpoint).

Whatever the body of such an answer says is about the request, not the service's health: a
Kubernetes `Status` object with `"status": "Failure"` on a 403, an API gateway's
`{"message": "Forbidden"}`, a hosting platform's 404 page. The HTTP status decides, with the
body's message in the detail. Cloudflare's own 1020 page on a 403 is decoded before this.
"""

from __future__ import annotations

from monitor.answer import Answer
from monitor.model import Verdict
from monitor.normalize import http_status
from monitor.normalize._body import Body

REFUSED = frozenset({401, 403, 404, 405, 407, 410})


def parse(answer: Answer, body: Body) -> Verdict | None:
    if answer.status_code not in REFUSED:
        return None
    return http_status.parse(answer, body)
