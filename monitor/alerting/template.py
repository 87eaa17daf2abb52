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


# Per rule kind; a rule's own `annotations` override these key by key.
DEFAULT_ANNOTATIONS: dict[str, dict[str, str]] = {
    "status": {
        "summary": "{service} is {status} ({reason})",
        "description": "{service} has been {status} since {since}: {reason}: {detail}",
    },
    "latency": {
        "summary": "{service} {check} p95 {p95_ms} ms is over its {target_ms} ms target",
        "description": "The rolling p95 of {service}/{check} ({kind}) is {p95_ms} ms; "
        "the target is {target_ms} ms.",
    },
    "burn_rate": {
        "summary": "{service} {check} burns its error budget {value}x too fast",
        "description": "Checks of {service}/{check} failed or missed the {target_ms} ms target "
        "{value}x the budgeted rate over {window} (threshold {threshold}x).",
    },
    "flapping": {
        "summary": "{service} is flapping",
        "description": "{value} status changes in {window}; its status alerts are held back "
        "while it flaps. Last: {status} ({reason}): {detail}",
    },
    "watchdog": {
        "summary": "Watchdog: the fleet monitor is alive",
        "description": "Always firing. If this stops arriving, the monitor itself is down.",
    },
    "checks_stalled": {
        "summary": "No check has completed for {value}",
        "description": "The monitor's scheduler or event loop is stuck; the fleet is unwatched.",
    },
    "loop_lag": {
        "summary": "Monitor event loop lags {value}",
        "description": "Loop lag over {threshold} distorts every latency measurement.",
    },
    "schedule_lag": {
        "summary": "Monitor checks start {value} late",
        "description": "Checks start over {threshold} behind schedule (p99 over a minute): the "
        "monitor is short of CPU and runs every check less often than configured.",
    },
}
