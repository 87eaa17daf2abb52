"""Spring Boot Actuator `/actuator/health` and MicroProfile Health.

Actuator: `status` UP / DOWN / OUT_OF_SERVICE / UNKNOWN with nested `components` (Boot 2.2+)
or `details` (older). MicroProfile: `status` UP / DOWN with a `checks` list of
`{name, status, data}`. Both spell statuses in capitals, which is how they are told apart from
plain `{"status": "up"}` JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.answer import Answer
from monitor.model import Component, Status, Verdict
from monitor.normalize._body import Body
from monitor.normalize._reported import verdict_from_report
from monitor.normalize._vocabulary import message_of, short

_STATUS = {
    "UP": Status.HEALTHY,
    "DOWN": Status.UNHEALTHY,
    "OUT_OF_SERVICE": Status.UNHEALTHY,
    "UNKNOWN": Status.UNKNOWN,
}


def _known(status: object) -> bool:
    """A Spring status word; a JSON object or list there is not (and is unhashable)."""
    return isinstance(status, str) and status in _STATUS


def _component_detail(value: Mapping[str, Any]) -> str:
    details = value.get("details") or value.get("data")
    if isinstance(details, Mapping):
        return message_of(details)
    return message_of(value)


def _actuator_components(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Component]:
    found: dict[str, Component] = {}
    for name, value in list(tree.items())[:50]:
        if not isinstance(value, Mapping) or not _known(value.get("status")):
            continue
        nested = value.get("components")
        if isinstance(nested, Mapping) and nested:
            found.update(_actuator_components(nested, f"{prefix}{name}."))
        else:
            found[short(prefix + str(name), 60)] = Component(
                status=_STATUS[value["status"]], detail=_component_detail(value)
            )
    return found


def _microprofile_components(checks: list[Any]) -> dict[str, Component]:
    found: dict[str, Component] = {}
    for index, check in enumerate(checks[:50]):
        if isinstance(check, Mapping) and _known(check.get("status")):
            name = short(str(check.get("name", index)), 60)
            found[name] = Component(
                status=_STATUS[check["status"]], detail=_component_detail(check)
            )
    return found


def parse(answer: Answer, body: Body) -> Verdict | None:
    data = body.json
    if not body.has_json or not isinstance(data, Mapping) or not _known(data.get("status")):
        return None
    checks = data.get("checks")
    if isinstance(checks, list):
        fmt, components = "MicroProfile Health", _microprofile_components(checks)
    else:
        tree = data.get("components") or data.get("details") or {}
        fmt = "Spring Boot Actuator"
        components = _actuator_components(tree) if isinstance(tree, Mapping) else {}
    return verdict_from_report(
        answer,
        _STATUS[data["status"]],
        fmt=fmt,
        message=message_of(data),
        components=components,
        read=f"status={data['status']!r} ({fmt})",
    )
