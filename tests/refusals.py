"""How the tests check that a config is refused: with exactly one problem, at the line and
field they name, saying what they expect."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monitor.errors import ConfigError


def assert_refused(parse: Callable[[], object], line: int, field: str, message: str) -> ConfigError:
    """`parse()` raises a ConfigError with one problem at `line` and `field` whose message
    contains `message`; returns the error for further checks."""
    with pytest.raises(ConfigError) as info:
        parse()
    [problem] = info.value.problems
    assert (problem.line, problem.location) == (line, field)
    assert message in problem.message
    return info.value


def assert_refused_exactly(
    parse: Callable[[], object], line: int, field: str, message: str
) -> ConfigError:
    """As `assert_refused`, with the whole message: for messages the config code writes (a
    part would pass a message with text added around it)."""
    error = assert_refused(parse, line, field, message)
    assert error.problems[0].message == message
    return error
