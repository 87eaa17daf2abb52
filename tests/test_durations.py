"""Durations at their edges: zero, the largest unit, spaces, and the exact error messages a
config author reads."""

from __future__ import annotations

import pytest

from monitor.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("0s", 0.0), (0, 0.0), ("1h 30m", 5400.0), (" 2 d ", 172800.0), ("1D", 86400.0)],
)
def test_parse_edges(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(86400, "1d"), (172800, "2d"), (90000, "25h"), (86399, "86399s"), (86460, "1441m")],
)
def test_format_uses_the_largest_exact_unit(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "expected a duration such as 250ms, 10s, 5m or 1h, not a boolean"),
        ("5 parsecs", "expected a duration such as 250ms, 10s, 5m or 1h, got '5 parsecs'"),
        (None, "expected a duration such as 250ms, 10s, 5m or 1h, got None"),
        (-5, "a duration cannot be negative, got -5"),
        (-0.001, "a duration cannot be negative, got -0.001"),
    ],
)
def test_errors_say_what_is_expected(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == message
