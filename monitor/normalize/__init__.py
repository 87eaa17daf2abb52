"""Normalization: any answer, whatever its shape, to one `Verdict`.

Pure functions, no I/O. Each module knows one family of answers and exposes
`parse(answer, body) -> Verdict | None` (None: "not mine"). `PARSERS` is the one registry: the
first parser that recognizes the answer decides, so the order goes from the most certain
(transport failures, the edge's own error pages) to the least (the bare HTTP status).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from monitor.answer import Answer
from monitor.model import Verdict
from monitor.normalize import (
    cloudflare,
    generic_json,
    health_json,
    http_status,
    kubernetes,
    malformed,
    plain_text,
    spring,
    transport,
)
from monitor.normalize._body import Body, decode_body

Parser = Callable[[Answer, Body], Verdict | None]

PARSERS: Final[tuple[tuple[str, Parser], ...]] = (
    ("transport", transport.parse),
    ("cloudflare", cloudflare.parse),
    ("malformed", malformed.parse),
    ("health_json", health_json.parse),
    ("spring", spring.parse),
    ("generic_json", generic_json.parse),
    ("kubernetes", kubernetes.parse),
    ("plain_text", plain_text.parse),
)


def normalize_response(answer: Answer) -> Verdict:
    """Classify one answer. Never raises: a parser that fails is skipped, and the HTTP status
    always has the last word."""
    body = decode_body(answer)
    for _name, parser in PARSERS:
        try:
            verdict = parser(answer, body)
        except Exception:  # a parser bug must not take the daemon down; the fallback answers
            continue
        if verdict is not None:
            return verdict
    return http_status.parse(answer, body)


__all__ = ["PARSERS", "Parser", "normalize_response"]
