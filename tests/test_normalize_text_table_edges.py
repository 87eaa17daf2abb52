"""Plain-text tables with a status column (normalize/text_table.py) at their edges: one row and
fifty, 20,000 characters and one more, which column names the components, what `monitor
explain` says was read. A table that is declined goes on to the other parsers, never fails."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.answer import Answer
from monitor.model import Reason, Status
from monitor.normalize import Explanation, explain
from tests.answers import explained
from tests.padding import padded

H, D, U, K = Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY, Status.UNKNOWN


def _explain(text: str, code: int = 200, **kw: Any) -> Explanation:
    return explained(text.encode(), code, "text/plain", url="http://search.test/_cat/health", **kw)


def _table(text: str, code: int = 200) -> Explanation:
    return _explain(text, code, decided_by="text_table")


def test_a_cluster_health_row_is_read() -> None:
    explanation = _table(
        "epoch      timestamp cluster       status node.total\n"
        "1475247709 17:01:49  elasticsearch green           1\n"
    )
    verdict = explanation.verdict
    assert (verdict.status, verdict.reason) == (H, Reason.OK)
    assert verdict.detail == "reports healthy (text table)"
    assert verdict.read == "the 'status' column of a 1-row table: green"
    assert verdict.components == {}  # one row is the service itself, not a part


def test_rows_are_components_named_by_the_first_other_column() -> None:
    verdict = _table("name status\ndb red\ncache green\n").verdict
    assert (verdict.status, verdict.reason) == (U, Reason.REPORTED_UNHEALTHY)
    assert {n: c.status for n, c in verdict.components.items()} == {"db": U, "cache": H}
    assert verdict.detail == "reports unhealthy with HTTP 200: db unhealthy"
    assert verdict.read == "the 'status' column of a 2-row table: red, green"


def test_a_status_column_first_takes_its_names_from_the_second() -> None:
    verdict = _table("health index docs\nyellow logs 10\ngreen users 3\n").verdict
    assert (verdict.status, verdict.reason) == (D, Reason.REPORTED_DEGRADED)
    assert {n: c.status for n, c in verdict.components.items()} == {"logs": D, "users": H}


def test_a_status_column_third_takes_its_names_from_the_first() -> None:
    verdict = _table("node role state\nn1 master green\nn2 data green\n").verdict
    assert list(verdict.components) == ["n1", "n2"]


def test_component_names_are_cut_at_60_characters() -> None:
    text = f"name status\n{'a' * 60} green\n{'b' * 61} green\n"
    assert list(_table(text).verdict.components) == ["a" * 60, "b" * 59 + "…"]


def test_the_read_line_quotes_the_first_five_cells() -> None:
    rows = "".join(f"n{i} {'green' if i else 'red'}\n" for i in range(6))
    verdict = _table("name status\n" + rows).verdict
    assert verdict.read == "the 'status' column of a 6-row table: red, green, green, green, green"


@pytest.mark.parametrize(("rows", "read_as_table"), [(50, True), (51, False)])
def test_at_most_fifty_rows_are_read(rows: int, read_as_table: bool) -> None:
    text = "name status\n" + "".join(f"n{i} green\n" for i in range(rows))
    assert (_explain(text).decided_by == "text_table") is read_as_table


@pytest.mark.parametrize(("length", "read_as_table"), [(20_000, True), (20_001, False)])
def test_at_most_20000_characters_are_read(length: int, read_as_table: bool) -> None:
    text = padded("name status\n", " green", length, "n")
    assert (_explain(text).decided_by == "text_table") is read_as_table


@pytest.mark.parametrize(
    "text",
    [
        "name status\n",  # a header without rows
        "status\ngreen\n",  # one column: a word list, not a table
        "name colour\ndb green\n",  # no status column
        "name status\ndb green extra\n",  # ragged rows
        "name status\ndb banana\n",  # a cell that is no status
        '{"a": "x status y",\n"b": "c green d"}',  # JSON, however its words split
    ],
)
def test_what_is_not_a_status_table_is_left_to_the_other_parsers(text: str) -> None:
    assert _explain(text).decided_by != "text_table"


def test_a_truncated_table_under_an_error_status_is_not_read() -> None:
    explanation = _explain("name status\ndb green\n", code=503, truncated=True)
    assert explanation.decided_by == "http_status"
    assert explanation.verdict.reason is Reason.SERVER_ERROR


def test_undecodable_text_is_left_to_the_other_parsers() -> None:
    answer = Answer(
        url="http://search.test/_cat/health",
        status_code=503,
        headers={"content-type": "text/plain; charset=utf-8"},
        body=b"name status\ndb \xff\n",
    )
    explanation = explain(answer)
    assert (explanation.decided_by, explanation.failed) == ("http_status", ())
