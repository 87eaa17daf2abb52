"""An expectation's outcome as a verdict. Pure: the answer it reads is already scrubbed.

The normalizer decides first. A false expectation makes the check `unhealthy`
(`assertion_failed`), one that cannot be evaluated (a missing key, a wrong type, not a boolean)
`degraded` (`assertion_error`); neither ever makes a verdict better. A true one only answers
what the normalizer could not: a 2xx whose body states no health (`unrecognized_body`) is then
healthy, because the user said what healthy looks like.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from monitor.answer import Answer
from monitor.expectations.program import Expectation, bounded_json, evaluate, read_variables
from monitor.model import Reason, Status, Verdict

VALUE_CHARS = 80
"""Each value a detail quotes is cut to this many characters."""


def expectation_variables(
    answer: Answer, text: str | None, data: Any, tls: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What an expression sees: `json` is None when the body is not (bounded) JSON."""
    return {
        "status": answer.status_code or 0,
        "headers": dict(answer.headers),
        "body": text if text is not None else answer.body.decode("utf-8", "replace"),
        "json": bounded_json(data),
        "latency_ms": answer.duration_s * 1000.0,
        "tls": None if tls is None else dict(tls),
    }


def judge_expectation(
    verdict: Verdict,
    expectation: Expectation,
    answer: Answer,
    text: str | None,
    data: Any,
    tls: Mapping[str, Any] | None = None,
) -> Verdict:
    """`verdict` after the expectation: never better, except `unrecognized_body` when it holds."""
    code = answer.status_code
    if code is None:
        return verdict  # a transport failure: nothing to judge, the normalizer said why
    if expectation.statuses and code not in expectation.statuses:
        wanted = ", ".join(map(str, expectation.statuses))
        return _worse(
            verdict, Status.UNHEALTHY, Reason.ASSERTION_FAILED, f"HTTP {code}, expected {wanted}"
        )
    if not expectation.cel:
        return _held(verdict)
    variables = expectation_variables(answer, text, data, tls)
    try:
        result = evaluate(expectation.cel, variables)
    except Exception as exc:  # the library's KeyError, TypeError, ValueError...: never a crash
        message = " ".join(str(exc).split())[:160] or type(exc).__name__
        status, reason = Status.DEGRADED, Reason.ASSERTION_ERROR
        finding = f"could not be evaluated: {message}; {_shown(expectation.cel, variables)}"
    else:
        if result is True:
            return _held(verdict)
        if result is False:
            status, reason = Status.UNHEALTHY, Reason.ASSERTION_FAILED
            finding = f"is false; {_shown(expectation.cel, variables)}"
        else:
            status, reason = Status.DEGRADED, Reason.ASSERTION_ERROR
            finding = f"gave {_cut(_render(result))}, expected true or false"
    return _worse(verdict, status, reason, f"expectation `{_cut(expectation.cel)}` {finding}")


def _held(verdict: Verdict) -> Verdict:
    if verdict.reason is not Reason.UNRECOGNIZED_BODY:
        return verdict
    code = verdict.http_status
    return verdict.model_copy(
        update={
            "status": Status.HEALTHY,
            "reason": Reason.OK,
            "detail": f"HTTP {code}, and the expectation holds",
        }
    )


def _worse(verdict: Verdict, status: Status, reason: Reason, detail: str) -> Verdict:
    if status.severity <= verdict.status.severity:
        return verdict
    return verdict.model_copy(update={"status": status, "reason": reason, "detail": detail})


def _shown(source: str, variables: Mapping[str, Any]) -> str:
    """`it read json={...}, status=200`: each value the expression reads, cut short."""
    parts = [f"{name}={_cut(_render(variables[name]))}" for name in read_variables(source)]
    return "it read " + ", ".join(parts) if parts else "it read no variable"


def _render(value: Any) -> str:
    if isinstance(value, str):  # a huge body is cut before it is quoted, not after
        value = value[: VALUE_CHARS * 2]
    try:
        return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    except (ValueError, RecursionError):
        return type(value).__name__


def _cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= VALUE_CHARS else flat[: VALUE_CHARS - 1] + "…"
