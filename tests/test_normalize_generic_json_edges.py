"""Generic JSON (normalize/generic_json.py) at its edges: a bare value or a list of checks, a
lone status message, an `error` field under and at HTTP 400, parts with a status of their own,
and the cuts of what `monitor explain` says it read."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.model import Reason, Status
from monitor.normalize import Explanation
from tests.answers import explained

H, D, U, UNKNOWN = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN


def _generic(data: Any, code: int = 200) -> Explanation:
    explanation = explained(data, code)
    assert explanation.decided_by == "generic_json"
    return explanation


def _checks(count: int) -> list[dict[str, str]]:
    return [{"Name": f"c{i}", "Status": "passing"} for i in range(count)]


# --- a bare JSON value or a list ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "read"),
    [
        ("ok", H, "the JSON value 'ok'"),
        ("DOWN", U, "the JSON value 'DOWN'"),
        (True, H, "the JSON value True"),
        (False, U, "the JSON value False"),
    ],
)
def test_a_bare_status_word_or_boolean_is_the_verdict(data: Any, status: Status, read: str) -> None:
    verdict = _generic(data).verdict
    assert (verdict.status, verdict.read) == (status, read)


@pytest.mark.parametrize("data", [1, None, "banana", ["ok"], [1, 2], [{"Name": "a"}]])
def test_a_bare_value_or_list_without_a_status_is_not_read(data: Any) -> None:
    explanation = explained(data)
    assert explanation.decided_by == "http_status"
    assert explanation.verdict.status is UNKNOWN


@pytest.mark.parametrize(
    ("dashes", "read"),
    [
        (30, "the JSON value 'status" + "-" * 30 + "ok'"),  # repr 40 characters: whole
        (31, "the JSON value 'status" + "-" * 31 + "o…"),  # 41: cut to 39 and the ellipsis
    ],
)
def test_a_bare_value_is_quoted_up_to_40_characters(dashes: int, read: str) -> None:
    verdict = _generic("status" + "-" * dashes + "ok").verdict  # `status_ok` once folded
    assert (verdict.status, verdict.read) == (H, read)


def test_a_list_of_checks_is_read_as_components_with_their_names() -> None:
    data = [
        {"Name": "db", "Status": "passing"},
        "not a check",
        {"Status": "critical", "Output": "disk full"},
    ]
    verdict = _generic(data).verdict
    assert verdict.status is U
    assert verdict.reason is Reason.REPORTED_UNHEALTHY
    assert verdict.detail == "reports unhealthy with HTTP 200: 2 unhealthy: disk full"
    assert verdict.read == "a list of checks: db, 2"
    assert {n: (c.status, c.detail) for n, c in verdict.components.items()} == {
        "db": (H, ""),
        "2": (U, "disk full"),
    }


@pytest.mark.parametrize(
    ("count", "read"),
    [
        (5, "a list of checks: c0, c1, c2, c3, c4"),
        (6, "a list of checks: c0, c1, c2, c3, c4 and 1 more"),
        (7, "a list of checks: c0, c1, c2, c3, c4 and 2 more"),
    ],
)
def test_the_read_line_names_five_checks_and_counts_the_rest(count: int, read: str) -> None:
    verdict = _generic(_checks(count)).verdict
    assert (verdict.status, verdict.detail, verdict.read) == (H, "reports healthy (JSON)", read)
    assert len(verdict.components) == count


def test_the_parts_read_line_names_five_parts_and_counts_the_rest() -> None:
    data = {f"part{i}": "ok" for i in range(6)}
    verdict = _generic(data).verdict
    assert verdict.status is H
    assert verdict.read == (
        "parts with a status of their own: part0, part1, part2, part3, part4 and 1 more"
    )


# --- a lone message ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "detail", "read"),
    [
        ({"message": "ready"}, H, "reports healthy (JSON)", "message 'ready'"),
        ({"message": "ready", "code": 200}, H, "reports healthy (JSON)", "message 'ready'"),
        ({"msg": "ready", "status_code": 200}, H, "reports healthy (JSON)", "message 'ready'"),
        ({"detail": "warn: slow"}, D, "reports degraded: slow", "message 'warn: slow'"),
        (
            {"message": "not ready: db down"},
            U,
            "reports unhealthy with HTTP 200: db down",
            "message 'not ready: db down'",
        ),
    ],
)
def test_an_object_that_says_only_a_status_phrase_is_read(
    data: dict[str, Any], status: Status, detail: str, read: str
) -> None:
    verdict = _generic(data).verdict
    assert (verdict.status, verdict.detail, verdict.read) == (status, detail, read)


def test_an_object_with_every_message_key_and_both_codes_is_still_a_lone_message() -> None:
    keys = [
        "message",
        "error",
        "detail",
        "details",
        "reason",
        "output",
        "description",
        "msg",
        "cause",
        "error_message",
        "errorMessage",
        "notes",
    ]
    data: dict[str, Any] = {key: None for key in keys} | {"code": 200, "status_code": 200}
    data["message"] = "ready"
    assert len(data) == 14
    verdict = _generic(data).verdict
    assert (verdict.status, verdict.read) == (H, "message 'ready'")


@pytest.mark.parametrize(
    "data",
    [
        {"message": "ready", "uptime": 5},  # a key that is no message: not a lone message
        {"message": ""},
        {"message": "banana split"},
        {"code": 200},
    ],
)
def test_an_object_that_is_no_lone_status_message_is_not_read(data: dict[str, Any]) -> None:
    explanation = explained(data)
    assert explanation.decided_by == "http_status"
    assert explanation.verdict.status is UNKNOWN


@pytest.mark.parametrize(
    ("length", "quoted"),
    [
        (80, "ok: " + "x" * 76),
        (81, "ok: " + "x" * 75 + "…"),  # cut to 79 and the ellipsis
    ],
)
def test_the_message_is_quoted_up_to_80_characters(length: int, quoted: str) -> None:
    message = "ok: " + "x" * (length - 4)
    verdict = _generic({"message": message}).verdict
    assert (verdict.status, verdict.read) == (H, f"message {quoted!r}")


# --- an error field ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"error": "boom"}, "boom"),
        ({"errors": ["disk", "db"]}, "['disk', 'db']"),
        ({"error": None, "errors": "e2"}, "e2"),
        ({"error": "", "errors": "e2"}, "e2"),
        ({"error": "boom", "db": {"status": "ok"}}, "boom"),  # the error wins over the parts
    ],
)
@pytest.mark.parametrize("code", [200, 299, 399])
def test_an_error_field_under_400_is_unhealthy(data: dict[str, Any], said: str, code: int) -> None:
    verdict = _generic(data, code).verdict
    assert verdict.status is U
    assert verdict.reason is Reason.REPORTED_UNHEALTHY
    assert verdict.detail == f"HTTP {code} but the body reports an error: {said}"
    assert verdict.read == "error field"


def test_the_error_is_quoted_up_to_160_characters() -> None:
    assert _generic({"error": "e" * 160}, 200).verdict.detail == (
        "HTTP 200 but the body reports an error: " + "e" * 160
    )
    assert _generic({"error": "e" * 161}, 200).verdict.detail == (
        "HTTP 200 but the body reports an error: " + "e" * 159 + "…"
    )


def test_an_error_field_at_400_is_left_to_the_status_code() -> None:
    explanation = explained({"error": "boom"}, 400)
    assert explanation.decided_by == "http_status"
    assert explanation.verdict.reason is Reason.CLIENT_ERROR


def test_an_error_field_at_400_with_healthy_parts_is_inconsistent() -> None:
    verdict = _generic({"error": "boom", "db": {"status": "ok"}}, 400).verdict
    assert verdict.status is D
    assert verdict.reason is Reason.INCONSISTENT_STATUS
    assert verdict.read == "parts with a status of their own: db"


def test_an_empty_error_field_is_no_error() -> None:
    verdict = _generic({"error": "", "db": "ok"}).verdict
    assert (verdict.status, verdict.read) == (H, "parts with a status of their own: db")


# --- parts with a status of their own and a declared status -------------------------------


def test_parts_carry_the_message_and_version_of_the_body() -> None:
    data = {"database": "ok", "cache": "down", "message": "hi", "version": "1.2"}
    verdict = _generic(data).verdict
    assert verdict.status is U
    assert verdict.detail == "reports unhealthy with HTTP 200: hi; cache unhealthy"
    assert verdict.read == "parts with a status of their own: database, cache"
    assert verdict.version == "1.2"
    assert {n: c.status for n, c in verdict.components.items()} == {"database": H, "cache": U}


def test_a_declared_status_carries_message_parts_and_version() -> None:
    data = {
        "status": "ok",
        "message": "all good",
        "version": "1.2",
        "db": {"status": "down", "message": "gone"},
    }
    verdict = _generic(data).verdict
    assert verdict.status is D
    assert verdict.reason is Reason.COMPONENT_UNHEALTHY
    assert verdict.detail == "reports healthy, but db unhealthy: gone"
    assert verdict.read == "status='ok'"
    assert verdict.version == "1.2"
    assert {n: (c.status, c.detail) for n, c in verdict.components.items()} == {"db": (U, "gone")}


@pytest.mark.parametrize(
    ("data", "status", "read"),
    [
        ({"health": {"status": "down"}}, U, "health.status='down'"),
        ({"healthy": True}, H, "healthy=True"),
        ({"healthy": "true"}, H, "healthy='true'"),
    ],
)
def test_the_read_line_names_the_key_and_the_value_found_there(
    data: dict[str, Any], status: Status, read: str
) -> None:
    verdict = _generic(data).verdict
    assert (verdict.status, verdict.read) == (status, read)


@pytest.mark.parametrize(
    ("tabs", "read"),
    [
        (25, "status='status" + "\\t" * 25 + "ok'"),  # repr 60 characters: whole
        (26, "status='status" + "\\t" * 26 + "…"),  # repr 62: cut to 59 and the ellipsis
    ],
)
def test_the_declared_value_is_quoted_up_to_60_characters(tabs: int, read: str) -> None:
    verdict = _generic({"status": "status" + "\t" * tabs + "ok"}).verdict  # folds to status_ok
    assert (verdict.status, verdict.read) == (H, read)
