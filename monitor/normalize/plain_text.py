"""Short plain-text answers: `OK`, `healthy`, one sentence (`Prometheus Server is Healthy.`,
`Ingester not ready: waiting for 15s`), `status: ok` lines, and 2xx text that says it failed
(`Error: database unreachable`)."""

from __future__ import annotations

import re

from monitor.answer import Answer
from monitor.model import Component, Status, Verdict, worst
from monitor.normalize._body import Body
from monitor.normalize._reported import (
    verdict_from_failure,
    verdict_from_line,
    verdict_from_report,
)
from monitor.normalize._vocabulary import short, status_word

_MAX_TEXT = 2000
_EXTRA_HEALTHY = {
    "pong",
    "alive",
    "i'm alive",
    "im alive",
    "healthy!",
    "ok!",
    "all good",
    "success",
}
_PAIR = re.compile(r"^\s*([A-Za-z0-9_.\- ]{1,40}?)\s*[:=]\s*(\S.*?)\s*$")
_FAILURE = re.compile(
    r"(?<!\bno )(?<!\b0 )\b(unhealthy|exception|traceback|panic|fatal|failed|failure|fail|"
    r"errors?|down|unavailable|not ok|refused|timed out|timeout)\b",
    re.IGNORECASE,
)


def _is_html(answer: Answer, text: str) -> bool:
    """Markup, not a label: frameworks send plain strings as text/html (Express `res.send`)."""
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html")):
        return True
    return answer.content_type == "text/html" and "<" in text


def _from_pairs(answer: Answer, lines: list[str]) -> Verdict | None:
    """`status: ok` / `db=down` lines: a `status` line is the overall, others are components."""
    overall: Status | None = None
    components: dict[str, Component] = {}
    for line in lines[:50]:
        match = _PAIR.match(line)
        if not match:
            return None
        key, value = match.group(1).strip(), match.group(2)
        status = status_word(value)
        if key.lower() in ("status", "state", "health", "overall"):
            overall = status
        elif status is not None:
            components[short(key, 60)] = Component(status=status)
    if overall is None and not components:
        return None
    if overall is None:
        overall = worst(c.status for c in components.values())
    return verdict_from_report(
        answer, overall, fmt="text", components=components, read=f"{len(lines)} key: value lines"
    )


def parse(answer: Answer, body: Body) -> Verdict | None:
    if body.has_json or body.text is None or answer.truncated:
        return None
    text = body.text.strip()
    if not text or len(text) > _MAX_TEXT or _is_html(answer, text):
        return None
    first = text.splitlines()[0].strip().rstrip(".!")
    word = status_word(first)
    if word is None and first.lower() in _EXTRA_HEALTHY:
        word = Status.HEALTHY
    lines = [line for line in text.splitlines() if line.strip()]
    if word is not None and len(lines) == 1:
        return verdict_from_report(answer, word, fmt="text", read=f"the line {short(first, 60)!r}")
    said = (
        verdict_from_line(answer, lines[0], fmt="text", where="the line")
        if len(lines) == 1
        else None
    )
    if said is not None:
        return said
    pairs = _from_pairs(answer, lines)
    if pairs is not None:
        return pairs
    code = answer.status_code or 0
    if 200 <= code < 300 and _FAILURE.search(text[:500]):
        failure = f"says it failed: {short(text, 120)}"
        return verdict_from_failure(answer, failure, read=f"a failure word in {short(text, 60)!r}")
    return None
