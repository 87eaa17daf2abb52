"""A probe's answer and a verdict with every secret the scrubber knows removed.

The answer is scrubbed before parsing, so that a cut (a truncated body, a shortened error) never
halves a secret; the verdict's text again after, because evidence drops control characters and
folds spaces, which can join what the body kept apart.
"""

from __future__ import annotations

import dataclasses

from monitor.answer import ERROR_DETAIL_CHARS, Answer
from monitor.model import Verdict
from monitor.normalize.evidence import EVIDENCE_CHARS
from monitor.secrets_scrub import Scrubber


def scrubbed_answer(answer: Answer, scrubber: Scrubber) -> Answer:
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


def scrubbed_verdict(verdict: Verdict, scrubber: Scrubber) -> Verdict:
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
