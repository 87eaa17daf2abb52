"""YAML with line numbers, and pydantic errors mapped back to them.

Shared by every config file the daemon reads (`monitor.yaml`, `alerts.yaml`) so that each one
reports `file:line: field: message` the same way. `load_data` is the fast way in for a big
file (libyaml, or the json module for a JSON file): no line numbers; `NodeLines` finds them
afterwards, only when something is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
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
        try:  # libyaml: a big file with a duplicate key is refused in seconds, not minutes
            loader = yaml.CSafeLoader(text)
            try:
                node = loader.get_single_node()
                data = None if node is None else loader.construct_document(node)
            finally:
                loader.dispose()
        except yaml.YAMLError:  # the pure-Python parser's message names the character
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


class _DuplicateKey(Exception):
    """Raised by the fast loaders: `load_yaml` then reports the key with its line."""


class _FastLoader(yaml.CSafeLoader):
    """libyaml's parser; refuses duplicate keys like LineLoader, without a line to say."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
        if len(set(keys)) != len(keys):
            raise _DuplicateKey
        return super().construct_mapping(node, deep=deep)


_YAML11_FLOAT = re.compile(r"-?[0-9]+\.[0-9]*(?:[eE][-+][0-9]+)?")
"""The JSON numbers YAML 1.1 reads as floats: `1e5` and `1.5e5` are strings there."""


def _json_float(text: str) -> float | str:
    return float(text) if _YAML11_FLOAT.fullmatch(text) else text


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _DuplicateKey
    return mapping


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not YAML")  # NaN, Infinity: YAML reads them as strings


def load_data(text: str, file: str) -> Any:
    """What `load_yaml` returns as data, ~50x faster for a big file (a JSON one ~2000x):
    JSON text (YAML too, and what generated configs are) through the json module with YAML
    1.1's numbers, anything else through libyaml. A file either refuses goes through
    `load_yaml`, whose error names the line."""
    if text.lstrip()[:1] == "{":
        try:
            return json.loads(
                text,
                object_pairs_hook=_json_object,
                parse_float=_json_float,
                parse_constant=_no_constant,
            )
        except (ValueError, RecursionError, _DuplicateKey):
            pass  # YAML's flow style is wider than JSON (comments, bare words): let YAML read it
    try:
        try:
            return _plain_yaml(text)
        except (RecursionError, TypeError):  # deep nesting, a mapping as a key: as PyYAML does
            return yaml.load(text, Loader=_FastLoader)
    except (yaml.YAMLError, _DuplicateKey):
        return load_yaml(text, file)[0]


_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{t}" for t in ("str", "seq", "map"))
_MERGE = "tag:yaml.org,2002:merge"


def _plain_yaml(text: str) -> Any:
    """What `yaml.load(text, Loader=_FastLoader)` returns, in a fifth of the time for a big
    block-style file: libyaml composes the nodes, and strings, lists and mappings (nearly
    all of a config) are built here; other nodes (numbers, booleans, tags, merge keys) by
    PyYAML's constructors, as before."""
    loader = _FastLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _plain_node(node, loader)
    finally:
        loader.dispose()


def _plain_node(node: yaml.Node, loader: _FastLoader) -> Any:
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
        return node.value
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_plain_node(item, loader) for item in node.value]
    if (
        isinstance(node, yaml.MappingNode)
        and node.tag == _MAP
        and not any(key.tag == _MERGE for key, _ in node.value)
    ):
        pairs = node.value
        mapping = {_plain_node(k, loader): _plain_node(v, loader) for k, v in pairs}
        if len(mapping) != len(pairs):
            raise _DuplicateKey
        return mapping
    return loader.construct_object(node, deep=True)


class NodeLines(Mapping[tuple[Any, ...], int]):
    """The map `load_yaml` returns, found on demand: libyaml composes the document once, and
    each location asked for is looked up along its path (at 100,000 services, listing every
    node's line would cost more than validating them)."""

    def __init__(self, text: str) -> None:
        try:
            self._root: yaml.Node | None = yaml.compose(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            self._root = None

    def _line(self, loc: tuple[Any, ...]) -> int | None:
        node = self._root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                pairs = [(k, v) for k, v in node.value if k.value == part]
                if not pairs:
                    return None
                key, node = pairs[-1]
                line = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    return None
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return None
        return line

    def __getitem__(self, loc: tuple[Any, ...]) -> int:
        line = self._line(loc)
        if line is None:
            raise KeyError(loc)
        return line

    def __contains__(self, loc: object) -> bool:
        return isinstance(loc, tuple) and self._line(loc) is not None

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        raise TypeError("NodeLines finds lines by location; it does not list them")

    def __len__(self) -> int:
        raise TypeError("NodeLines finds lines by location; it does not count them")


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
