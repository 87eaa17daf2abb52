"""IETF "Health Check Response Format for HTTP APIs" (`application/health+json`).

`status` is pass / warn / fail (draft aliases ok/up and error/down are accepted); `checks` maps
"component:measurement" to a list of observations, each with its own status and `output`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.answer import Answer
from monitor.model import Component, Status, Verdict, worst
from monitor.normalize._body import Body
from monitor.normalize._reported import verdict_from_report
from monitor.normalize._vocabulary import short, status_word

_STATUS = {"pass": Status.HEALTHY, "warn": Status.DEGRADED, "fail": Status.UNHEALTHY}


def _status(value: Any) -> Status | None:
    if isinstance(value, str) and value.lower() in _STATUS:
        return _STATUS[value.lower()]
    return status_word(value)


def _components(checks: Mapping[str, Any]) -> dict[str, Component]:
    found: dict[str, Component] = {}
    for key, observations in list(checks.items())[:50]:
        items = observations if isinstance(observations, list) else [observations]
        statuses, outputs = [], []
        for item in items:
            if not isinstance(item, Mapping):
                continue
            status = _status(item.get("status"))
            if status is not None:
                statuses.append(status)
            if isinstance(item.get("output"), str) and item["output"].strip():
                outputs.append(item["output"])
        if statuses:
            found[short(str(key), 60)] = Component(
                status=worst(statuses), detail=short("; ".join(outputs))
            )
    return found


def parse(answer: Answer, body: Body) -> Verdict | None:
    data = body.json
    if not body.has_json or not isinstance(data, Mapping):
        return None
    declared = answer.content_type == "application/health+json"
    raw_status = data.get("status")
    looks_ietf = isinstance(raw_status, str) and raw_status.lower() in _STATUS
    if not (declared or looks_ietf):
        return None
    reported = _status(raw_status)
    if reported is None:
        return None
    checks = data.get("checks")
    components = _components(checks) if isinstance(checks, Mapping) else {}
    message = data.get("output") or data.get("notes") or ""
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    version = data.get("releaseId") or data.get("version")
    return verdict_from_report(
        answer,
        reported,
        fmt="health+json",
        message=short(str(message)),
        components=components,
        version=short(str(version), 80) if isinstance(version, str | int) else None,
        read=f"status={short(repr(raw_status), 40)}"
        + (f" (declared {answer.content_type})" if declared else ""),
    )
