"""A tiny safe template language for annotations: `{name}` from a flat dict, nothing else.

No attribute access, indexing or format specs (str.format would allow `{x.__class__}`), no
eval. `{{` and `}}` are literal braces. Unknown names are refused when the rules are loaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|\{|\}")

FIELDS = frozenset(
    {
        "alertname",
        "rule",
        "severity",
        "service",
        "status",
        "reason",
        "detail",
        "since",
        "team",
        "runbook",
        "check",
        "kind",
        "p95_ms",
        "target_ms",
        "value",
        "threshold",
        "window",
        "external_url",
        "dashboard_url",
        "likely_cause",
        "likely_cause_of",
    }
)
"""The names a template may use; documented in docs/alerting.md."""


def template_errors(text: str) -> list[str]:
    """What is wrong with `text` as a template (empty when it is fine)."""
    errors: list[str] = []
    for match in _FIELD.finditer(text):
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            continue
        if name is None:
            errors.append(
                f"stray {token!r} at offset {match.start()}; write {token * 2} for a brace"
            )
        elif name not in FIELDS:
            errors.append(f"unknown field {{{name}}}; expected one of {', '.join(sorted(FIELDS))}")
    return errors


def render(text: str, values: Mapping[str, object]) -> str:
    """Fill `{name}` from `values`; a missing or None value renders as an empty string."""

    def substitute(match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        if name is None:
            return token
        value = values.get(name)
        return "" if value is None else str(value)

    return _FIELD.sub(substitute, text)
