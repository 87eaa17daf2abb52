"""Normalization: any answer, whatever its shape, to one `Verdict`.

Pure functions, no I/O. Each module knows one family of answers and exposes
`parse(answer, body) -> Verdict | None` (None: "not mine"). `PARSERS` is the one registry: the
first parser that recognizes the answer decides, so the order goes from the most certain
(transport failures, the edge's own error pages, answers that never reached the health report)
to the least (the bare HTTP status). `explain` runs the same chain and says which parser decided,
what it read and why, and which parsers declined or failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from monitor.answer import Answer
from monitor.model import Verdict
from monitor.normalize import (
    cloudflare,
    generic_json,
    health_json,
    html_page,
    http_status,
    kubernetes,
    malformed,
    plain_text,
    refused,
    spring,
    standby,
    text_table,
    transport,
)
from monitor.normalize._body import Body, decode_body
from monitor.normalize._scrubbed import scrubbed_answer, scrubbed_verdict
from monitor.secrets_scrub import NO_SECRETS, Scrubber

Parser = Callable[[Answer, Body], Verdict | None]
ParserErrorHook = Callable[[str], None]

PARSERS: Final[tuple[tuple[str, Parser], ...]] = (
    ("transport", transport.parse),
    ("cloudflare", cloudflare.parse),
    ("refused", refused.parse),
    ("malformed", malformed.parse),
    ("standby", standby.parse),
    ("health_json", health_json.parse),
    ("spring", spring.parse),
    ("generic_json", generic_json.parse),
    ("kubernetes", kubernetes.parse),
    ("text_table", text_table.parse),
    ("plain_text", plain_text.parse),
    ("html_page", html_page.parse),
)
FALLBACK: Final = "http_status"

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParserFailure:
    """A parser that raised: a bug in it, never the service's fault. The answer went on to the
    next parser."""

    parser: str
    error: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """How one answer was classified: what an operator needs when they disagree with a verdict.

    `decided_by` is the parser whose verdict stands (`http_status` when none recognized the
    body), `read` the field or line it rests on, `why` the verdict's detail; `declined` are the
    parsers that said "not mine" before it, in order, and `failed` those that raised.
    """

    verdict: Verdict
    decided_by: str
    declined: tuple[str, ...] = ()
    failed: tuple[ParserFailure, ...] = ()

    @property
    def read(self) -> str:
        return self.verdict.read

    @property
    def why(self) -> str:
        return self.verdict.detail

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for `monitor explain --json`."""
        return {
            "status": self.verdict.status.value,
            "reason": self.verdict.reason.value,
            "decided_by": self.decided_by,
            "read": self.read,
            "why": self.why,
            "http_status": self.verdict.http_status,
            "components": {
                name: {"status": c.status.value, "detail": c.detail}
                for name, c in self.verdict.components.items()
            },
            "declined": list(self.declined),
            "failed": [{"parser": f.parser, "error": f.error} for f in self.failed],
            "evidence": self.verdict.evidence,
        }

    def render(self) -> str:
        """The account as lines of text, for a terminal."""
        v = self.verdict
        lines = [
            f"verdict:    {v.status.value} ({v.reason.value})",
            f"decided by: {self.decided_by}",
            f"read:       {self.read or '-'}",
            f"why:        {self.why}",
        ]
        lines += [
            f"  component {n}: {c.status.value} {c.detail}".rstrip()
            for n, c in v.components.items()
        ]
        lines.append(f"declined:   {', '.join(self.declined) or '-'}")
        lines += [f"failed:     {f.parser}: {f.error}" for f in self.failed]
        if v.evidence:
            lines.append(f"evidence:   {v.evidence}")
        return "\n".join(lines)


def _run(
    answer: Answer,
    on_parser_error: ParserErrorHook | None,
    declined: list[str] | None,
    failed: list[ParserFailure] | None,
) -> tuple[str, Verdict]:
    """The chain, once: the first parser that recognizes the answer decides. A parser that
    raises is logged (debug), reported to `on_parser_error` and skipped."""
    body = decode_body(answer)
    for name, parser in PARSERS:
        try:
            verdict = parser(answer, body)
        except Exception as exc:  # a parser bug must not take the daemon down
            error = f"{type(exc).__name__}: {exc}"[:200]
            _log.debug("normalize: parser %s raised %s", name, error)
            if on_parser_error is not None:
                on_parser_error(name)
            if failed is not None:
                failed.append(ParserFailure(name, error))
            continue
        if verdict is not None:
            return name, verdict
        if declined is not None:
            declined.append(name)
    return FALLBACK, http_status.parse(answer, body)


def _finish(answer: Answer, verdict: Verdict, scrubber: Scrubber) -> Verdict:
    if answer.crossed_origin:
        verdict = verdict.model_copy(
            update={
                "detail": f"{verdict.detail}; a redirect went to another origin, "
                f"{answer.crossed_origin}, without the configured headers"
            }
        )
    return scrubbed_verdict(verdict, scrubber)


def normalize_response(
    answer: Answer,
    scrubber: Scrubber = NO_SECRETS,
    on_parser_error: ParserErrorHook | None = None,
) -> Verdict:
    """Classify one answer. Never raises: a parser that fails is skipped (and named to
    `on_parser_error`, which the daemon counts), and the HTTP status always has the last word.
    No secret `scrubber` knows survives into the verdict (see _scrubbed.py)."""
    answer = scrubbed_answer(answer, scrubber)
    return _finish(answer, _run(answer, on_parser_error, None, None)[1], scrubber)


def explain(answer: Answer, scrubber: Scrubber = NO_SECRETS) -> Explanation:
    """Classify one answer like `normalize_response`, and say how."""
    declined: list[str] = []
    failed: list[ParserFailure] = []
    answer = scrubbed_answer(answer, scrubber)
    name, verdict = _run(answer, None, declined, failed)
    return Explanation(_finish(answer, verdict, scrubber), name, tuple(declined), tuple(failed))


__all__ = [
    "FALLBACK",
    "PARSERS",
    "Explanation",
    "Parser",
    "ParserErrorHook",
    "ParserFailure",
    "explain",
    "normalize_response",
]
