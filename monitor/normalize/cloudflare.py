"""Error pages made by Cloudflare's edge, not by the service: `error code: 1101`, the HTML
error page, `Worker threw exception`, and 52x origin errors.

The codes are decoded so that the on-call person reads "Worker threw a JavaScript exception"
instead of "HTTP 500". Source: Cloudflare's Workers "Errors and exceptions" and 1XXX/5XX
troubleshooting pages.
"""

from __future__ import annotations

import re

from monitor.answer import Answer
from monitor.model import Reason, Status, Verdict
from monitor.normalize._body import Body
from monitor.normalize.evidence import evidence_snippet

_U, _D = Status.UNHEALTHY, Status.DEGRADED

CODES: dict[int, tuple[Status, Reason, str]] = {
    1101: (_U, Reason.WORKER_EXCEPTION, "Worker threw a JavaScript exception"),
    1102: (_U, Reason.WORKER_RESOURCE_LIMIT, "Worker exceeded its CPU time limit"),
    1103: (_U, Reason.EDGE_ERROR, "Worker disabled: the owner must contact Cloudflare support"),
    1104: (_U, Reason.EDGE_ERROR, "Worker script not found"),
    1015: (_D, Reason.RATE_LIMITED, "rate limited by Cloudflare (burst limit)"),
    1019: (_U, Reason.EDGE_ERROR, "Worker hit the loop limit (called itself or others > 16 times)"),
    1020: (_D, Reason.UNAUTHORIZED, "access denied by a Cloudflare firewall rule"),
    1021: (_U, Reason.EDGE_ERROR, "Worker requested a host it cannot access"),
    1022: (_U, Reason.EDGE_ERROR, "Cloudflare failed to route the request to the Worker"),
    1024: (_U, Reason.EDGE_ERROR, "Worker cannot make a subrequest to a Cloudflare-owned IP"),
    1025: (_D, Reason.RATE_LIMITED, "Worker request limit reached (check back later)"),
    1027: (_U, Reason.WORKER_RESOURCE_LIMIT, "Worker exceeded the free tier daily request limit"),
    1042: (_U, Reason.EDGE_ERROR, "Worker tried to fetch another Worker on the same zone"),
    1000: (_U, Reason.EDGE_ERROR, "DNS points to a prohibited IP"),
    1001: (_U, Reason.DNS_FAILURE, "DNS resolution error at Cloudflare"),
    1016: (_U, Reason.ORIGIN_UNREACHABLE, "origin DNS error"),
    520: (_U, Reason.ORIGIN_UNREACHABLE, "origin returned an unknown error (520)"),
    521: (_U, Reason.ORIGIN_UNREACHABLE, "origin web server is down (521)"),
    522: (_U, Reason.ORIGIN_UNREACHABLE, "connection to the origin timed out (522)"),
    523: (_U, Reason.ORIGIN_UNREACHABLE, "origin is unreachable (523)"),
    524: (_U, Reason.ORIGIN_UNREACHABLE, "origin did not answer in time (524)"),
    525: (_U, Reason.ORIGIN_UNREACHABLE, "TLS handshake with the origin failed (525)"),
    526: (_U, Reason.ORIGIN_UNREACHABLE, "origin TLS certificate is invalid (526)"),
    527: (_U, Reason.ORIGIN_UNREACHABLE, "Railgun connection to the origin failed (527)"),
    530: (_U, Reason.ORIGIN_UNREACHABLE, "origin error (530)"),
}

_TEXT_CODE = re.compile(r"^\s*error code:\s*(\d{3,5})\s*$", re.IGNORECASE)
_HTML_CODE = re.compile(
    r"cf-error-code[^>]*>\s*(\d{3,5})|Error\s*(?:<[^>]*>\s*)*(\d{4})\b", re.IGNORECASE
)
_WORKER_THREW = re.compile(r"\bworker threw (?:a javascript )?exception\b", re.IGNORECASE)


def _meaning(code: int) -> tuple[Status, Reason, str]:
    if code in CODES:
        return CODES[code]
    if 1100 <= code < 1200:
        return _U, Reason.EDGE_ERROR, f"Workers runtime error {code}"
    if 500 <= code < 600:
        return _U, Reason.ORIGIN_UNREACHABLE, f"origin error ({code})"
    return _U, Reason.EDGE_ERROR, f"Cloudflare error {code}"


def _find_code(answer: Answer, body: Body) -> int | None:
    header = answer.headers.get("cf-error-code", "").strip()
    if header.isdigit():
        return int(header)
    text = body.text or ""
    match = _TEXT_CODE.match(text)
    if match:
        return int(match.group(1))
    if "cloudflare" in text[:20000].lower() or "cf-error-type" in answer.headers:
        html = _HTML_CODE.search(text[:20000])
        if html:
            return int(html.group(1) or html.group(2))
    return None


def parse(answer: Answer, body: Body) -> Verdict | None:
    code = None if body.has_json else _find_code(answer, body)
    source = "Cloudflare"
    if code is None and not body.has_json and _WORKER_THREW.search((body.text or "")[:2000]):
        code, source = 1101, "Cloudflare Workers"
    if code is None:
        from_edge = answer.headers.get("server", "").lower() == "cloudflare"
        status_code = answer.status_code or 0
        if from_edge and 520 <= status_code <= 530:
            code = status_code
        elif "cf-error-type" in answer.headers:
            kind = answer.headers["cf-error-type"][:40]
            return Verdict(
                status=Status.UNHEALTHY,
                reason=Reason.EDGE_ERROR,
                detail=f"Cloudflare error page (type {kind}), HTTP {answer.status_code}",
                http_status=answer.status_code,
                evidence=evidence_snippet(answer.body),
                read=f"header cf-error-type: {kind}",
            )
        else:
            return None
    status, reason, meaning = _meaning(code)
    label = f"error {code}" if code >= 1000 else f"HTTP {code}"
    return Verdict(
        status=status,
        reason=reason,
        detail=f"{source} {label}: {meaning} (HTTP {answer.status_code})",
        http_status=answer.status_code,
        evidence=evidence_snippet(answer.body),
        read=f"{source} {label}",
    )
