"""The last word: what the HTTP status alone says when no parser recognized the body.

A 2xx with a body nobody recognized is `unknown`, never `healthy`: a shape we do not know is
not evidence of health. An empty 2xx is healthy: the status code is the whole answer; so is a
2xx whose body is an empty JSON document (`{}`, `[]`), which states nothing either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from monitor.answer import Answer
from monitor.model import Reason, Status, Verdict
from monitor.normalize._body import Body
from monitor.normalize._vocabulary import message_of, short
from monitor.normalize.evidence import evidence_snippet

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _gist(answer: Answer, body: Body) -> str:
    """A few words of the body for the detail: an HTML title or the first line of text."""
    text = body.text or ""
    title = _TITLE.search(text[:4000])
    if title:
        return short(title.group(1), 100)
    if body.has_json:
        return short(message_of(body.json), 100) if isinstance(body.json, Mapping) else ""
    if not text.strip():
        return ""
    return short(text.strip().splitlines()[0], 100)


def _other_host(answer: Answer, location: str) -> bool:
    """Whether a Location points away from the host that answered (relative ones never do)."""
    try:
        target = urlsplit(location).hostname
        here = urlsplit(answer.final_url or answer.url).hostname
    except ValueError:
        return False
    return target is not None and target != here


def parse(answer: Answer, body: Body) -> Verdict:
    code = answer.status_code or 0
    gist = _gist(answer, body)
    said = f" ({gist})" if gist else ""
    path = urlsplit(answer.final_url or answer.url).path or "/"
    if 200 <= code < 300:
        if not body.raw.strip():
            status, reason, detail = Status.HEALTHY, Reason.OK, f"HTTP {code} with an empty body"
        elif body.has_json and body.json in ({}, []):
            status, reason = Status.HEALTHY, Reason.OK
            detail = f"HTTP {code} with an empty JSON document"
        else:
            kind = answer.content_type or "untyped"
            status, reason = Status.UNKNOWN, Reason.UNRECOGNIZED_BODY
            detail = f"HTTP {code}, but the {kind} body states no health we recognize{said}"
    elif 300 <= code < 400:
        location = answer.headers.get("location", "?")
        status, reason = Status.DEGRADED, Reason.UNEXPECTED_REDIRECT
        detail = f"HTTP {code} redirect to {short(location, 120)} was not followed"
        if _other_host(answer, location):
            detail += ": it leads to another host (cross_host_redirects is off)"
    elif code in (401, 403, 407):
        status, reason = Status.DEGRADED, Reason.UNAUTHORIZED
        detail = f"HTTP {code}: the monitor is not allowed to read the health endpoint{said}"
    elif code in (404, 410):
        status, reason = Status.DEGRADED, Reason.NOT_FOUND
        detail = f"HTTP {code} at {short(path, 120)}: the service answers but has no such endpoint"
    elif code == 429:
        retry = answer.headers.get("retry-after")
        status, reason = Status.DEGRADED, Reason.RATE_LIMITED
        detail = "HTTP 429: rate limited" + (f", retry after {short(retry, 40)}" if retry else "")
    elif 400 <= code < 500:
        status, reason = Status.DEGRADED, Reason.CLIENT_ERROR
        detail = f"HTTP {code}: the service refused the monitor's request{said}"
    elif 500 <= code < 600:
        status, reason = Status.UNHEALTHY, Reason.SERVER_ERROR
        detail = f"HTTP {code}{said}"
    else:
        status, reason = Status.UNKNOWN, Reason.UNRECOGNIZED_BODY
        detail = f"unexpected HTTP status {code}"
    return Verdict(
        status=status,
        reason=reason,
        detail=detail,
        http_status=answer.status_code,
        evidence=evidence_snippet(answer.body),
        read=f"HTTP {code}" if body.raw.strip() else f"HTTP {code}, empty body",
    )
