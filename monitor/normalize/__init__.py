"""Normalization: any answer, whatever its shape, to one `Verdict`.

Pure functions, no I/O. Each module knows one family of answers and exposes
`parse(answer, body) -> Verdict | None` (None: "not mine"). `PARSERS` is the one registry: the
first parser that recognizes the answer decides, so the order goes from the most certain
(transport failures, the edge's own error pages) to the least (the bare HTTP status).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Final

from monitor.answer import ERROR_DETAIL_CHARS, Answer
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
from monitor.normalize.evidence import EVIDENCE_CHARS
from monitor.secrets_scrub import NO_SECRETS, Scrubber

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


def normalize_response(answer: Answer, scrubber: Scrubber = NO_SECRETS) -> Verdict:
    """Classify one answer. Never raises: a parser that fails is skipped, and the HTTP status
    always has the last word. No secret `scrubber` knows survives into the verdict: the answer
    is scrubbed before parsing (so a cut never halves a secret) and the verdict's text after."""
    answer = _scrubbed_answer(answer, scrubber)
    body = decode_body(answer)
    verdict = None
    for _name, parser in PARSERS:
        try:
            verdict = parser(answer, body)
        except Exception:  # a parser bug must not take the daemon down; the fallback answers
            continue
        if verdict is not None:
            break
    if verdict is None:
        verdict = http_status.parse(answer, body)
    if answer.crossed_origin:
        verdict = verdict.model_copy(
            update={
                "detail": f"{verdict.detail}; a redirect went to another origin, "
                f"{answer.crossed_origin}, without the configured headers"
            }
        )
    return _scrubbed_verdict(verdict, scrubber)


def _scrubbed_answer(answer: Answer, scrubber: Scrubber) -> Answer:
    cut = answer.truncated or len(answer.error_detail) >= ERROR_DETAIL_CHARS
    untouched = not cut and not scrubber.finds(answer.error_detail, *answer.headers.values())
    if untouched and scrubber.scrub_bytes(answer.body) is answer.body:
        return answer
    body = scrubber.scrub_bytes(answer.body, cut=answer.truncated)
    detail = scrubber.scrub(answer.error_detail, cut=len(answer.error_detail) >= ERROR_DETAIL_CHARS)
    headers = {name: scrubber.scrub(value) for name, value in answer.headers.items()}
    if body == answer.body and detail == answer.error_detail and headers == answer.headers:
        return answer
    return dataclasses.replace(answer, body=body, error_detail=detail, headers=headers)


def _scrubbed_verdict(verdict: Verdict, scrubber: Scrubber) -> Verdict:
    """The verdict's text scrubbed again: evidence drops control characters and folds spaces,
    which can join what the body kept apart."""
    texts = [verdict.detail, verdict.evidence, verdict.version or ""]
    texts.extend(c.detail for c in verdict.components.values())
    if not verdict.evidence.endswith("…") and not scrubber.finds(*texts):
        return verdict
    evidence = verdict.evidence
    if evidence.endswith("…"):
        evidence = scrubber.scrub(evidence[:-1], cut=True) + "…"
    else:
        evidence = scrubber.scrub(evidence)
    if len(evidence) > EVIDENCE_CHARS:  # `[redacted]` is longer than what it replaced
        evidence = scrubber.scrub(evidence[: EVIDENCE_CHARS - 1], cut=True) + "…"
    update: dict[str, object] = {
        "detail": scrubber.scrub(verdict.detail),
        "evidence": evidence,
        "version": None if verdict.version is None else scrubber.scrub(verdict.version),
    }
    components = {name: scrubber.scrub(c.detail) for name, c in verdict.components.items()}
    if any(detail != verdict.components[name].detail for name, detail in components.items()):
        update["components"] = {
            name: c.model_copy(update={"detail": components[name]})
            for name, c in verdict.components.items()
        }
    if all(update[key] == getattr(verdict, key) for key in update):
        return verdict
    return verdict.model_copy(update=update)


__all__ = ["PARSERS", "Parser", "normalize_response"]
