"""Everything else JSON: `{"status": "ok"}`, `{"healthy": true}`, `{"status": {...}}`, with
sub-objects that carry their own status (`"postgres": {"status": "error", ...}`) as components,
component maps with plain-string values (`{"database": "ok"}`), lists of checks
(`[{"Name": ..., "Status": "passing"}]`), a lone `message` that is a status (`{"message":
"ready"}`), and bodies that only say `{"error": ...}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.answer import Answer
from monitor.model import Verdict
from monitor.normalize._body import Body
from monitor.normalize._reported import (
    verdict_from_failure,
    verdict_from_parts,
    verdict_from_report,
)
from monitor.normalize._vocabulary import (
    MESSAGE_KEYS,
    components_of,
    components_of_list,
    message_of,
    short,
    status_field,
    status_phrase,
    status_word,
    version_of,
)

_MESSAGE_ONLY = set(MESSAGE_KEYS) | {"code", "status_code"}


def _names(components: Mapping[str, Any]) -> str:
    names = list(components)
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return ", ".join(names[:5]) + more


def _scalar(answer: Answer, data: Any) -> Verdict | None:
    if isinstance(data, list):
        components = components_of_list(data)
        if not components:
            return None
        return verdict_from_parts(
            answer, components, fmt="JSON", read=f"a list of checks: {_names(components)}"
        )
    scalar = status_word(data)
    if scalar is None:
        return None
    return verdict_from_report(
        answer, scalar, fmt="JSON", read=f"the JSON value {short(repr(data), 40)}"
    )


def _message_only(answer: Answer, data: Mapping[str, Any]) -> Verdict | None:
    """`{"message": "ready"}`: an object that says nothing but a status phrase."""
    if not data or not set(data) <= _MESSAGE_ONLY:
        return None
    message = message_of(data)
    phrase = status_phrase(message) if message else None
    if phrase is None:
        return None
    return verdict_from_report(
        answer, phrase[0], fmt="JSON", message=phrase[1], read=f"message {short(message, 80)!r}"
    )


def parse(answer: Answer, body: Body) -> Verdict | None:
    if not body.has_json:
        return None
    data = body.json
    if not isinstance(data, Mapping):
        return _scalar(answer, data)
    field = status_field(data)
    components = components_of(data)
    if field is None:
        error = data.get("error") or data.get("errors")
        code = answer.status_code or 0
        if error and code < 400:
            failure = f"reports an error: {short(str(error))}"
            return verdict_from_failure(answer, failure, read="error field")
        if not components:
            return _message_only(answer, data)
        return verdict_from_parts(
            answer,
            components,
            fmt="JSON",
            message=message_of(data),
            version=version_of(data),
            read=f"parts with a status of their own: {_names(components)}",
        )
    key, reported = field
    return verdict_from_report(
        answer,
        reported,
        fmt="JSON",
        message=message_of(data),
        components=components,
        version=version_of(data),
        read=f"{key}={short(repr(_value_at(data, key)), 60)}",
    )


def _value_at(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value
