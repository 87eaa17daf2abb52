"""Spring Boot Actuator and MicroProfile Health (normalize/spring.py) beyond status and reason:
nested components named by their path, details from `details` or `data`, MicroProfile checks
named or numbered, the 50-entry and 60-character limits, and what `monitor explain` read."""

from __future__ import annotations

from typing import Any

from monitor.answer import Answer
from monitor.model import Status, Verdict
from monitor.normalize import explain
from tests.answers import explained

H, U, K = Status.HEALTHY, Status.UNHEALTHY, Status.UNKNOWN


def _spring(data: Any, code: int = 200) -> Verdict:
    return explained(data, code, url="http://svc.test/actuator/health", decided_by="spring").verdict


def _parts(verdict: Verdict) -> dict[str, tuple[Status, str]]:
    return {name: (c.status, c.detail) for name, c in verdict.components.items()}


def test_actuator_components_nested_and_flat_with_their_details() -> None:
    verdict = _spring(
        {
            "status": "DOWN",
            "components": {
                "db": {"status": "DOWN", "details": {"error": "connection refused"}},
                "diskSpace": {"status": "UP", "details": {"total": 1, "free": 1}},
                "ping": {"status": "UP"},
                "cluster": {
                    "status": "UP",
                    "components": {
                        "node1": {"status": "UP"},
                        "node2": {"status": "OUT_OF_SERVICE", "details": {"message": "drained"}},
                    },
                },
                "empty": {"status": "UNKNOWN", "components": {}},
                "mail": {"status": "UP", "data": {"message": "relay ok"}},
                "foo": "bar",
                "bar": {"status": "up"},
            },
        },
        code=503,
    )
    assert _parts(verdict) == {
        "db": (U, "connection refused"),
        "diskSpace": (H, ""),
        "ping": (H, ""),
        "cluster.node1": (H, ""),
        "cluster.node2": (U, "drained"),
        "empty": (K, ""),
        "mail": (H, "relay ok"),
    }
    assert verdict.detail == (
        "reports unhealthy: db unhealthy: connection refused; "
        "cluster.node2 unhealthy: drained; empty unknown"
    )
    assert verdict.read == "status='DOWN' (Spring Boot Actuator)"


def test_older_actuator_details_tree() -> None:
    verdict = _spring({"status": "UP", "details": {"db": {"status": "UP"}}})
    assert (_parts(verdict), verdict.detail) == (
        {"db": (H, "")},
        "reports healthy (Spring Boot Actuator)",
    )


def test_a_components_value_that_is_not_a_map_has_no_parts() -> None:
    assert _spring({"status": "UP", "components": ["x"]}).components == {}


def test_the_top_level_message_is_the_service_s() -> None:
    assert (
        _spring({"status": "DOWN", "error": "boom"}, code=503).detail == "reports unhealthy: boom"
    )


def test_microprofile_checks_named_or_numbered() -> None:
    verdict = _spring(
        {
            "status": "DOWN",
            "checks": [
                {"name": "db", "status": "DOWN", "data": {"message": "timeout"}},
                {"name": "live", "status": "UP"},
                {"status": "UP"},
                "junk",
                {"name": "x", "status": "down"},
            ],
        },
        code=503,
    )
    assert _parts(verdict) == {"db": (U, "timeout"), "live": (H, ""), "2": (H, "")}
    assert verdict.detail == "reports unhealthy: db unhealthy: timeout"
    assert verdict.read == "status='DOWN' (MicroProfile Health)"
    healthy = _spring({"status": "UP", "checks": []})
    assert healthy.detail == "reports healthy (MicroProfile Health)"


def test_at_most_fifty_parts_are_read() -> None:
    components: dict[str, Any] = {f"c{i}": {"status": "UP"} for i in range(50)}
    components["late"] = {"status": "DOWN"}
    actuator = _spring({"status": "UP", "components": components})
    assert (actuator.status, len(actuator.components)) == (H, 50)
    checks = [{"name": f"c{i}", "status": "UP"} for i in range(50)]
    checks.append({"name": "late", "status": "DOWN"})
    profile = _spring({"status": "UP", "checks": checks})
    assert (profile.status, len(profile.components)) == (H, 50)


def test_part_names_are_cut_at_60_characters() -> None:
    nested = {"status": "UP", "components": {"n" * 57: {"status": "UP"}}}
    actuator = _spring({"status": "UP", "components": {"abc": nested, "d" * 60: {"status": "UP"}}})
    assert list(actuator.components) == ["abc." + "n" * 55 + "…", "d" * 60]
    profile = _spring({"status": "UP", "checks": [{"name": "m" * 61, "status": "UP"}]})
    assert list(profile.components) == ["m" * 59 + "…"]


def test_a_lower_case_status_is_left_to_generic_json() -> None:
    answer = Answer(
        "http://svc.test/health", 200, {"content-type": "application/json"}, b'{"status": "up"}'
    )
    explanation = explain(answer)
    assert (explanation.decided_by, explanation.failed) == ("generic_json", ())
    listed = Answer("http://svc.test/health", 200, {"content-type": "application/json"}, b'["UP"]')
    assert explain(listed).failed == ()


def test_a_component_s_details_speak_before_its_own_fields() -> None:
    """Actuator puts what a component says under `details`; a field beside it is not it."""
    verdict = _spring(
        {
            "status": "DOWN",
            "components": {
                "junk": "not a component",
                "db": {"status": "DOWN", "error": "outer", "details": {"error": "pool exhausted"}},
            },
        },
        code=503,
    )
    assert _parts(verdict) == {"db": (U, "pool exhausted")}
