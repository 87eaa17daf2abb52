"""IETF health+json (normalize/health_json.py) at its edges: declared or recognized by its
status words, the checks read as components (lists, lone observations, outputs), the
service's own output and notes, the release id, and what `monitor explain` says it read."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.model import Reason, Status
from monitor.normalize import Explanation
from tests.answers import explained

H, D, U = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY
DECLARED = "application/health+json"


def _explain(data: Any, code: int = 200, content_type: str = DECLARED) -> Explanation:
    return explained(data, code, content_type)


def _ietf(data: Any, code: int = 200, content_type: str = DECLARED) -> Explanation:
    return explained(data, code, content_type, decided_by="health_json")


def test_declared_health_json_accepts_the_draft_s_aliases() -> None:
    verdict = _ietf({"status": "ok"}).verdict
    assert (verdict.status, verdict.detail) == (H, "reports healthy (health+json)")
    assert verdict.read == "status='ok' (declared application/health+json)"


@pytest.mark.parametrize(("word", "status"), [("pass", H), ("WARN", D), ("Fail", U)])
def test_its_own_status_words_are_recognized_under_plain_json(word: str, status: Status) -> None:
    verdict = _ietf({"status": word}, content_type="application/json").verdict
    assert verdict.status is status
    assert verdict.read == f"status={word!r}"


def test_an_alias_under_plain_json_is_left_to_generic_json() -> None:
    assert _explain({"status": "ok"}, content_type="application/json").decided_by == "generic_json"


def test_a_declared_body_without_a_status_word_is_not_read() -> None:
    assert _explain({"status": 1}).decided_by != "health_json"
    assert _explain([{"status": "pass"}]).decided_by != "health_json"


def test_the_status_quoted_in_the_read_line_is_cut_at_40_characters() -> None:
    word = "status" + "-" * 32 + "ok"  # `status_ok` once its dashes are folded
    verdict = _ietf({"status": word}).verdict
    assert verdict.status is H
    assert verdict.read == f"status='{word[:38]}… (declared application/health+json)"


def test_checks_are_components_with_their_worst_observation_and_outputs() -> None:
    data = {
        "status": "warn",
        "checks": {
            "db:responseTime": [
                {"status": "warn", "output": "slow"},
                {"status": "pass", "output": "  "},
                {"status": "pass", "output": "300 ms"},
            ],
            "cpu:utilization": {"status": "pass"},
            "disk:free": ["not an observation", {"status": "fail"}],
            "no:status": [{"output": "nothing to judge"}],
        },
    }
    verdict = _ietf(data).verdict
    assert {n: (c.status, c.detail) for n, c in verdict.components.items()} == {
        "db:responseTime": (D, "slow; 300 ms"),
        "cpu:utilization": (H, ""),
        "disk:free": (U, ""),
    }
    assert verdict.detail == (
        "reports degraded: db:responseTime degraded: slow; 300 ms; disk:free unhealthy"
    )


def test_at_most_fifty_checks_are_read_and_names_cut_at_60() -> None:
    checks: dict[str, Any] = {f"c{i}": {"status": "pass"} for i in range(50)}
    checks["late"] = {"status": "fail"}
    verdict = _ietf({"status": "pass", "checks": checks}).verdict
    assert (verdict.status, len(verdict.components)) == (H, 50)
    named = _ietf({"status": "pass", "checks": {"k" * 61: {"status": "pass"}}}).verdict
    assert list(named.components) == ["k" * 59 + "…"]


def test_checks_that_are_not_a_map_are_ignored() -> None:
    verdict = _ietf({"status": "pass", "checks": [{"status": "fail"}]}).verdict
    assert (verdict.status, verdict.components) == (H, {})


@pytest.mark.parametrize(
    ("extra", "detail"),
    [
        ({}, "reports unhealthy"),
        ({"output": "db down"}, "reports unhealthy: db down"),
        ({"notes": ["paged", "on call"]}, "reports unhealthy: paged; on call"),
        ({"notes": "see runbook"}, "reports unhealthy: see runbook"),
        ({"output": "db down", "notes": "see runbook"}, "reports unhealthy: db down"),
    ],
)
def test_the_service_s_output_or_notes_are_its_message(extra: dict[str, Any], detail: str) -> None:
    verdict = _ietf({"status": "fail", **extra}, code=503).verdict
    assert (verdict.status, verdict.reason) == (U, Reason.REPORTED_UNHEALTHY)
    assert verdict.detail == detail


@pytest.mark.parametrize(
    ("extra", "version"),
    [
        ({"releaseId": "1.2.3", "version": "1"}, "1.2.3"),
        ({"version": "1"}, "1"),
        ({"version": 42}, "42"),
        ({"version": ["1"]}, None),
        ({"releaseId": "r" * 80}, "r" * 80),
        ({"releaseId": "r" * 81}, "r" * 79 + "…"),
    ],
)
def test_the_release_id_is_the_version(extra: dict[str, Any], version: str | None) -> None:
    assert _ietf({"status": "pass", **extra}).verdict.version == version
