"""The shared health vocabulary (normalize/_vocabulary.py) at its edges, seen through the
verdict: the keys that name a check in a list and carry its detail, where parts are looked
for and how many are kept, the cuts of names and versions, the keys a status sits under, and
the one-line phrases and sentences a message may be (a status code before the words is the
server's, not the service's)."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.model import Status, Verdict
from tests.answers import explained

H, D, U, UNKNOWN = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN


def _verdict(body: Any) -> Verdict:
    return explained(body).verdict


def _parts(body: Any) -> dict[str, tuple[Status, str]]:
    return {name: (c.status, c.detail) for name, c in _verdict(body).components.items()}


def _checks(count: int) -> list[dict[str, str]]:
    return [{"Name": f"c{i}", "Status": "passing"} for i in range(count)]


# --- a list of checks -------------------------------------------------------------------


@pytest.mark.parametrize("key", ["name", "Name", "componentId", "CheckID", "id", "ID"])
def test_each_key_that_names_a_check_in_a_list(key: str) -> None:
    assert _parts([{key: "db", "Status": "passing"}]) == {"db": (H, "")}


@pytest.mark.parametrize("key", ["Output", "Notes", "output", "notes", "message"])
def test_each_key_that_carries_a_check_s_detail(key: str) -> None:
    body = [{"Name": "db", "Status": "critical", key: "replica lag"}]
    assert _parts(body) == {"db": (U, "replica lag")}


def test_a_list_keeps_its_first_50_checks() -> None:
    assert list(_parts(_checks(51))) == [f"c{i}" for i in range(50)]


def test_only_the_first_100_entries_of_a_list_are_looked_at() -> None:
    check = {"Name": "db", "Status": "passing"}
    assert _parts([0] * 99 + [check]) == {"db": (H, "")}
    explanation = explained([0] * 100 + [check])
    assert (explanation.decided_by, explanation.verdict.status) == ("http_status", UNKNOWN)


# --- where parts are looked for ---------------------------------------------------------


def test_a_string_value_that_is_a_status_phrase_is_a_part_with_its_detail() -> None:
    assert _parts({"database": "unavailable: connection refused"}) == {
        "database": (U, "connection refused")
    }


def test_a_descriptive_key_in_any_case_is_not_a_part() -> None:
    assert _parts({"Mode": "ready", "db": "ok"}) == {"db": (H, "")}


def test_the_key_the_status_sits_under_is_not_a_part() -> None:
    verdict = _verdict({"health": {"status": "DOWN"}, "db": {"status": "UP"}})
    assert (verdict.status, verdict.read) == (U, "health.status='DOWN'")
    assert {n: c.status for n, c in verdict.components.items()} == {"db": H}


def test_only_a_container_key_opens_a_level() -> None:
    assert _parts({"status": "ok", "info": {"db": {"status": "down"}}}) == {}
    assert _parts(
        {"status": "ok", "services": {"db": {"status": "down"}, "cache": {"status": "up"}}}
    ) == {"db": (U, ""), "cache": (H, "")}


def test_a_container_with_a_status_of_its_own_is_one_part() -> None:
    body = {"status": "ok", "services": {"status": "degraded", "db": {"status": "down"}}}
    assert _parts(body) == {"services": (D, "")}


def test_an_object_keeps_its_first_50_parts() -> None:
    body = {f"c{i}": {"status": "ok"} for i in range(51)}
    assert list(_parts(body)) == [f"c{i}" for i in range(50)]


def test_a_list_container_fills_only_what_is_left_of_the_50() -> None:
    body = {"a": {"status": "ok"}, "services": _checks(50)}
    assert list(_parts(body)) == ["a", *(f"c{i}" for i in range(49))]


@pytest.mark.parametrize(("length", "name"), [(60, "d" * 60), (61, "d" * 59 + "…")])
def test_a_part_s_name_is_cut_at_60_characters(length: int, name: str) -> None:
    assert _parts([{"Name": "d" * length, "Status": "passing"}]) == {name: (H, "")}
    assert _parts({"d" * length: {"status": "ok"}}) == {name: (H, "")}
    assert _parts({"d" * length: "ok"}) == {name: (H, "")}


# --- messages and versions --------------------------------------------------------------


def test_a_message_inside_an_error_object_is_found() -> None:
    verdict = _verdict({"status": "down", "error": {"message": "disk full"}})
    assert verdict.detail == "reports unhealthy with HTTP 200: disk full"


def test_a_blank_version_gives_way_to_the_next_key() -> None:
    assert _verdict({"status": "ok", "version": " ", "commit": "abc123"}).version == "abc123"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "ok", "version": "v" * 81},
        {"status": "ok", "git": {"commit": {"id": "v" * 81}}},
        {"status": "ok", "git": {"commit": "v" * 81}},
    ],
)
def test_a_version_is_cut_at_80_characters(body: dict[str, Any]) -> None:
    assert _verdict(body).version == "v" * 79 + "…"


def test_a_git_commit_may_be_a_plain_string() -> None:
    assert _verdict({"status": "ok", "git": {"commit": "abc123"}}).version == "abc123"


# --- the keys a status sits under -------------------------------------------------------


def test_a_status_key_without_a_status_gives_way_to_the_next() -> None:
    verdict = _verdict({"status": {"detail": "x"}, "state": "down"})
    assert (verdict.status, verdict.read) == (U, "state='down'")


@pytest.mark.parametrize(
    ("body", "read"),
    [
        ({"name": "api", "healthy": False}, "healthy=False"),
        ({"is_healthy": False}, "is_healthy=False"),
        ({"Is_Healthy": "no"}, "Is_Healthy='no'"),
    ],
)
def test_a_boolean_key_in_any_spelling_after_other_keys(body: dict[str, Any], read: str) -> None:
    verdict = _verdict(body)
    assert (verdict.status, verdict.read) == (U, read)


def test_a_boolean_key_with_a_word_that_is_no_boolean_states_nothing() -> None:
    explanation = explained({"ready": "soon"})
    assert (explanation.decided_by, explanation.verdict.status) == ("http_status", UNKNOWN)


@pytest.mark.parametrize(("spaces", "status"), [(36, U), (37, UNKNOWN)])
def test_a_status_value_is_a_word_up_to_40_characters(spaces: int, status: Status) -> None:
    assert _verdict({"status": " " * spaces + "down"}).status is status


# --- one-line phrases and sentences -----------------------------------------------------


@pytest.mark.parametrize(
    ("message", "status", "detail"),
    [
        ("OK!", H, "reports healthy (JSON)"),
        (
            "unavailable: connection refused: port 5432",
            U,
            "reports unhealthy with HTTP 200: connection refused: port 5432",
        ),
        ("200 healthy", H, "reports healthy (JSON)"),
        ("503 shutting down", U, "reports unhealthy with HTTP 200"),
        (
            "the primary database of the payments cluster is now healthy",  # 10 words
            H,
            "reports healthy (JSON)",
        ),
    ],
)
def test_a_message_that_is_a_status_phrase(message: str, status: Status, detail: str) -> None:
    verdict = _verdict({"message": message})
    assert (verdict.status, verdict.detail) == (status, detail)


@pytest.mark.parametrize(
    "message",
    [
        "503 Service Unavailable",  # the server's words for its status code
        "the primary database of the old payments cluster is now healthy",  # 11 words
    ],
)
def test_a_message_that_states_nothing(message: str) -> None:
    explanation = explained({"message": message})
    assert (explanation.decided_by, explanation.verdict.status) == ("http_status", UNKNOWN)


@pytest.mark.parametrize(
    ("length", "decided_by", "status"), [(300, "plain_text", H), (301, "http_status", UNKNOWN)]
)
def test_a_line_is_read_as_a_phrase_up_to_300_characters(
    length: int, decided_by: str, status: Status
) -> None:
    explanation = explained(("ok: " + "x" * (length - 4)).encode(), 200, "text/plain")
    assert (explanation.decided_by, explanation.verdict.status) == (decided_by, status)
