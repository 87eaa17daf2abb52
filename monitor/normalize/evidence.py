"""A short, safe excerpt of what a service sent, for people reading /status and alerts."""

from __future__ import annotations

import re

EVIDENCE_CHARS = 200

_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]"
)
_SPACE = re.compile(r"\s+")
_SECRET = re.compile(
    r"(?i)(\b(?:bearer|basic)\s+|\b(?:token|password|passwd|secret|api[_-]?key|authorization)"
    r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&}]+"
)


def evidence_snippet(body: bytes, limit: int = EVIDENCE_CHARS) -> str:
    """At most `limit` characters: decoded leniently, control characters dropped, white space
    folded and anything shaped like a credential replaced by `[redacted]`."""
    text = body[: limit * 4].decode("utf-8", errors="replace")
    text = _CONTROL.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    text = _SECRET.sub(lambda m: m.group(1) + "[redacted]", text)
    if len(text) > limit or len(body) > limit * 4:
        return text[: limit - 1] + "…"
    return text
