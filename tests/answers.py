"""What a probe hands the normalizer, built for tests: one way to turn a body into an `Answer`
and read the normalizer's account of it, instead of one copy per parser's test file."""

from __future__ import annotations

import json
from typing import Any

from monitor.answer import Answer
from monitor.normalize import Explanation, explain

URL = "http://svc.test/health"
JSON = "application/json"


def answer_of(
    body: object, code: int | None = 200, content_type: str = JSON, *, url: str = URL, **fields: Any
) -> Answer:
    """`body` as sent when bytes, else as its JSON (a str is a JSON string); no content-type
    header when ''."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": content_type} if content_type else {}
    return Answer(url, code, headers, raw, **fields)


def explained(
    body: object,
    code: int | None = 200,
    content_type: str = JSON,
    *,
    url: str = URL,
    decided_by: str | None = None,
    **fields: Any,
) -> Explanation:
    """The normalizer's account of `answer_of(...)`; no parser raised on the way (a parser that
    does not know a body declines, it never fails), and `decided_by`, when given, decided."""
    explanation = explain(answer_of(body, code, content_type, url=url, **fields))
    assert explanation.failed == ()
    if decided_by is not None:
        assert explanation.decided_by == decided_by
    return explanation
