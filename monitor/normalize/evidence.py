"""A short, safe excerpt of what a service sent, for people reading /status and alerts."""

from __future__ import annotations

import re

from monitor.normalize._vocabulary import CONTROL_CHARS as _CONTROL

EVIDENCE_CHARS = 200

_SPACE = re.compile(r"\s+")
_KEY = (
    r"(?:proxy-authorization|authorization|x-api-key|api[_-]?key|access[_-]?token|"
    r"refresh[_-]?token|client[_-]?secret|token|password|passwd|secret|signature|sig)"
)
_VALUE = r"[^\s\"',;&}<>]+"
# What a credential looks like where the monitor does not know its value (its own secrets are
# removed by value, see monitor/secrets_scrub.py), in the shapes error pages echo them:
_SECRET_SHAPES = (
    # JSON: "password": "a b c" (the whole string, spaces and escapes included)
    re.compile(rf'(?i)("{_KEY}"\s*:\s*")(?:[^"\\]|\\.)*(")'),
    # header or key=value: `Authorization: Bearer abc`, `token=abc`, `?access_token=abc`
    re.compile(
        rf"(?i)(\b{_KEY}[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|digest|token)\s+)?){_VALUE}()"
    ),
    # a scheme word and its credential anywhere: `Bearer abc`
    re.compile(rf"(?i)(\b(?:bearer|basic)\s+){_VALUE}()"),
)


def redact_credentials(text: str) -> str:
    """Replace whatever follows a credential's name or scheme word by `[redacted]`, keeping the
    name (`Authorization: Bearer [redacted]`) so a reader still sees what was there."""
    for pattern in _SECRET_SHAPES:
        text = pattern.sub(lambda m: m.group(1) + "[redacted]" + m.group(2), text)
    return text


def evidence_snippet(body: bytes, limit: int = EVIDENCE_CHARS) -> str:
    """At most `limit` characters: decoded leniently, control characters dropped, white space
    folded and anything shaped like a credential replaced by `[redacted]` before the cut."""
    text = body[: limit * 4].decode("utf-8", errors="replace")
    text = _CONTROL.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    text = redact_credentials(text)
    if len(text) > limit or len(body) > limit * 4:
        return text[: limit - 1] + "…"
    return text
