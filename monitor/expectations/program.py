"""CEL expressions: compiled once when the config loads, evaluated against one answer.

The library is `common-expression-language` (bindings to the Rust `cel` crate): compiled
programs evaluate in about 13 µs where the pure-Python `cel-python` takes 400 µs, its parse
errors point at the column, and its regexes cannot backtrack catastrophically. Its one sharp
edge is native recursion: a value nested thousands deep crashes the process, so values deeper
than `MAX_DEPTH` never reach it (see `bounded_json`). It is imported on first use: its package
also loads a command line (prompt_toolkit, rich), 0.6 s and 10 MB a daemon without `expect:`
should not pay.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import cel

VARIABLES: Final = ("status", "headers", "body", "json", "latency_ms", "tls")
"""What an expression can read; anything else is refused when the config loads."""

MAX_DEPTH: Final = 64
"""JSON nested deeper than this is given to CEL as null (the native evaluator recurses)."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """`expect:` of one check, resolved: `statuses` empty means any 2xx."""

    statuses: tuple[int, ...] = ()
    cel: str = ""


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str) -> cel.Program:
    """The compiled program; ValueError with CEL's own message (line, column, caret) when the
    text is not CEL or reads a variable the monitor does not provide."""
    if not source.strip():
        raise ValueError("empty expression; expected CEL such as 'json.ok == true'")
    import cel  # deferred on purpose: see the module docstring

    program = cel.compile(source)
    unknown = sorted(
        name for name in set(program.variables()) - set(VARIABLES) if not _bound(source, name)
    )
    if unknown:
        raise ValueError(
            f"unknown variable {', '.join(unknown)}; expected one of {', '.join(VARIABLES)}"
        )
    return program


def _bound(source: str, name: str) -> bool:
    """Whether `name` is a macro's iteration variable (`json.items.all(i, i.n > 0)`): the
    library lists those among the variables it reads."""
    macro = rf"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*{re.escape(name)}\s*,"
    return re.search(macro, source) is not None


@functools.lru_cache(maxsize=1024)
def read_variables(source: str) -> tuple[str, ...]:
    """The variables the expression reads, in the order of VARIABLES."""
    used = set(compile_expression(source).variables())
    return tuple(name for name in VARIABLES if name in used)


def evaluate(source: str, variables: Mapping[str, Any]) -> Any:
    """Run the compiled expression; raises what the library raises for a missing key or a
    type error (the caller maps every exception to `assertion_error`). Only the variables it
    reads are handed over: converting a large `json` or `body` is most of the cost."""
    used = read_variables(source)
    return compile_expression(source).execute({name: variables[name] for name in used})


def bounded_json(value: Any) -> Any:
    """`value` if it nests at most MAX_DEPTH levels, else None. Iterative: a hostile body
    must not exhaust the Python stack while it is measured either."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return None
        children: Iterable[Any] = ()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return value
