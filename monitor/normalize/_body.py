"""Decode a body once, so that every parser sees the same text and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from monitor.answer import Answer

_NO_JSON: Any = object()


@dataclass(frozen=True, slots=True)
class Body:
    """The body as text and, when it is JSON, as data.

    `text` is None when the bytes are not valid in the declared (or UTF-8) charset.
    `has_json` is False when the body is not JSON; `json_error` says why when it looked like JSON.
    """

    raw: bytes
    text: str | None
    json: Any
    json_error: str | None
    declared_json: bool

    @property
    def has_json(self) -> bool:
        return self.json is not _NO_JSON


def _charset(content_type_header: str) -> str:
    """The declared charset as written: the codec lookup ignores its case and the quotes and
    spaces around it (`charset="ISO-8859-1"`)."""
    for param in content_type_header.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value
    return "utf-8"


def decode_body(answer: Answer) -> Body:
    raw = answer.body
    media = answer.content_type
    declared_json = media == "application/json" or media.endswith("+json")
    text: str | None
    try:
        text = raw.decode(_charset(answer.headers.get("content-type", "")))
    except (UnicodeDecodeError, LookupError):
        text = None
    data: Any = _NO_JSON
    error: str | None = None
    if text is not None and not answer.truncated:
        candidate = text.strip()
        looks_json = candidate[:1] in ("{", "[") or (declared_json and candidate != "")
        if looks_json:
            try:
                data = json.loads(candidate)
            except ValueError as exc:
                error = f"{type(exc).__name__}: {exc}"
            except RecursionError:
                error = "JSON nested too deeply"
    return Body(raw=raw, text=text, json=data, json_error=error, declared_json=declared_json)
