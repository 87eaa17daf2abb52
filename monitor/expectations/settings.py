"""`expect:` in monitor.yaml, and the request body a smoke check sends: validated while decoded.

An expression is compiled here, so a bad one stops the config from loading (exit 2) with
CEL's own message under the field's file and line, never at 3 a.m. on the first answer.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.expectations.program import Expectation, compile_expression

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ExpectConfig(BaseModel):
    """`expect: {status: [201], cel: 'json.id != ""'}` on a health, rpc or http check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=list)
    cel: str | None = None

    @field_validator("cel")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            compile_expression(value)
        except Exception as exc:  # the library's message is the useful part
            raise ValueError(_cel_message(exc)) from None
        return value

    def resolved(self) -> Expectation:
        return Expectation(statuses=tuple(self.status), cel=self.cel or "")


def _cel_message(exc: Exception) -> str:
    """CEL's error on one line: `ERROR: <input>:1:17: Syntax error: ...` without the caret."""
    text = str(exc)
    start = text.find("ERROR:")
    lines = text[start if start >= 0 else 0 :].splitlines()
    kept = [line for line in lines if not line.startswith("|")]
    return " ".join(" ".join(kept).split())[:300] or type(exc).__name__


class RequestBody(BaseModel):
    """What a smoke check sends: `method`, and `json:` or `body:` (only with a method that
    carries one, so a POST is always configured on purpose)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Method = "GET"
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None

    @model_validator(mode="after")
    def _body_needs_a_method(self) -> RequestBody:
        if self.json_body is not None and self.body is not None:
            raise ValueError("give either json: or body:, not both")
        if (self.json_body is not None or self.body is not None) and (
            self.method not in BODY_METHODS
        ):
            raise ValueError(
                f"a request body needs method: POST, PUT, PATCH or DELETE, not {self.method}"
            )
        return self

    def encoded(self) -> tuple[bytes, str]:
        """The bytes to send and their content type ('' for none or a plain `body:`)."""
        if self.json_body is not None:
            return json.dumps(self.json_body, separators=(",", ":")).encode(), "application/json"
        if self.body is not None:
            return self.body.encode(), ""
        return b"", ""
