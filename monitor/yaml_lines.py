"""YAML with line numbers, and pydantic errors mapped back to them.

Shared by every config file the daemon reads (`monitor.yaml`, `alerts.yaml`) so that each one
reports `file:line: field: message` the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from monitor.errors import ConfigError, ConfigProblem

Lines = dict[tuple[Any, ...], int]


def loc_to_path(loc: tuple[int | str, ...]) -> str:
    """`('services', 0, 'url')` -> `services[0].url`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def path_to_loc(path: str) -> tuple[Any, ...]:
    """The inverse of `loc_to_path`, to find the line of a cross-field problem."""
    loc: list[Any] = []
    for name, index in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        loc.append(name if name else int(index))
    return tuple(loc)


class LineLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, since YAML would silently keep the last."""


def _node_lines(
    node: yaml.Node, prefix: tuple[Any, ...], lines: Lines, problems: list[ConfigProblem]
) -> None:
    lines[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in keys:
                line = key_node.start_mark.line + 1
                problems.append(ConfigProblem(loc_to_path((*prefix, key)), "duplicate key", line))
            keys.add(key)
            _node_lines(value_node, (*prefix, key), lines, problems)
            lines[(*prefix, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _node_lines(item, (*prefix, index), lines, problems)


def line_for(loc: tuple[Any, ...], lines: Mapping[tuple[Any, ...], int]) -> int | None:
    """The line of `loc`, or of its nearest ancestor that has one."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def load_yaml(text: str, file: str) -> tuple[Any, Lines]:
    """Parse `text`; return the data and a map from field location to line.

    Raises ConfigError for invalid YAML and for duplicate keys.
    """
    try:
        node = yaml.compose(text, Loader=LineLoader)
        data = yaml.load(text, Loader=LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(
            file, [ConfigProblem("", f"not valid YAML: {getattr(exc, 'problem', exc)}", line)]
        ) from None
    lines: Lines = {}
    problems: list[ConfigProblem] = []
    if node is not None:
        _node_lines(node, (), lines, problems)
    if problems:
        raise ConfigError(file, problems)
    return data, lines


def _without_tags(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Drop the tag pydantic inserts for a discriminated union (`rules[0].status.for` is
    `rules[0].for` in the file): a part equal to the node's `kind`/`type` value, once per node."""
    out: list[Any] = []
    node, tag_dropped = data, False
    for part in loc:
        if (
            isinstance(node, dict)
            and not tag_dropped
            and isinstance(part, str)
            and part in (node.get("kind"), node.get("type"))
        ):
            tag_dropped = True
            continue
        out.append(part)
        tag_dropped = False
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return tuple(out)


def validation_problems(
    exc: ValidationError,
    lines: Mapping[tuple[Any, ...], int],
    prefix: tuple[Any, ...] = (),
    data: Any = None,
) -> list[ConfigProblem]:
    """One ConfigProblem per pydantic error, with the field path and its line in the file.

    Pass the validated `data` to have discriminated-union tags removed from the paths.
    """
    problems: list[ConfigProblem] = []
    for err in exc.errors():
        loc = _without_tags(tuple(err["loc"]), data)
        loc = (*prefix, *loc)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key; check its spelling (see README: configuration)"
        elif err["type"] == "missing":
            message = "required key is missing"
        problems.append(ConfigProblem(loc_to_path(loc), message, line_for(loc, lines)))
    return problems
