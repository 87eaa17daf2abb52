"""How a pydantic error becomes `file:line: field: message` (yaml_lines.py), at its edges: a
discriminated union's tag dropped once per node (`kind:` and `type:`), a location whose only
line is the document's, pydantic's own words replaced by ours."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from monitor.config import parse_config
from monitor.config.yaml_lines import (
    NodeLines,
    line_for,
    load_data,
    load_yaml,
    path_to_loc,
    validation_problems,
)
from monitor.errors import ConfigError


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Size(BaseModel):
    """A tag equal to a field's name: the tag goes, the field stays."""

    kind: Literal["size"]
    size: int


class Box(BaseModel):
    type: Literal["box"]
    width: int


Pet = Annotated[Cat | Size, Field(discriminator="kind")]


class Home(BaseModel):
    pets: list[Pet]
    boxes: list[Annotated[Box, Field(discriminator="type")]] = []


def paths(model: Any, data: Any, with_data: bool = True) -> list[str]:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(model).validate_python(data)
    return [
        p.location for p in validation_problems(info.value, {}, data=data if with_data else None)
    ]


def test_a_union_s_tag_is_dropped_from_the_path_at_any_depth() -> None:
    data = {"pets": [{"kind": "cat", "lives": 9}, {"kind": "cat", "lives": "x"}]}
    assert paths(Home, data) == ["pets[1].lives"]
    assert paths(Home, data, with_data=False) == ["pets[1].cat.lives"]


def test_a_tag_equal_to_a_field_name_is_dropped_once() -> None:
    assert paths(Home, {"pets": [{"kind": "size", "size": "big"}]}) == ["pets[0].size"]


def test_a_type_tag_is_dropped_like_a_kind_tag() -> None:
    data = {"pets": [], "boxes": [{"type": "box", "width": "wide"}]}
    assert paths(Home, data) == ["boxes[0].width"]


def test_a_tag_at_the_top_is_dropped_too() -> None:
    assert paths(Pet, {"kind": "cat", "lives": "x"}) == ["lives"]


def test_our_words_replace_pydantic_s() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("services:\n  - url: http://a\n    colour: red\n", "m.yaml", env={})
    assert [(p.line, p.location, p.message) for p in info.value.problems] == [
        (2, "services[0].name", "required key is missing"),
        (3, "services[0].colour", "unknown key; check its spelling (see README: configuration)"),
    ]


def test_a_location_without_a_line_of_its_own_takes_its_nearest_ancestor_s() -> None:
    assert line_for(("a", "b"), {(): 1}) == 1
    assert line_for(("a", "b"), {(): 1, ("a",): 4}) == 4
    assert line_for(("a",), {}) is None


def test_a_path_back_to_its_location() -> None:
    assert path_to_loc("services[0].Big_Name[12].x") == ("services", 0, "Big_Name", 12, "x")


def test_node_lines_has_no_line_for_a_missing_location() -> None:
    lines = NodeLines("services:\n  - name: a\n")
    assert lines[("services", 0, "name")] == 2
    with pytest.raises(KeyError) as info:
        lines[("services", 1)]
    assert info.value.args == (("services", 1),)


def test_node_lines_refuses_to_list_or_count_what_it_finds_on_demand() -> None:
    lines = NodeLines("a: 1\n")
    with pytest.raises(TypeError) as listed:
        list(lines)
    assert str(listed.value) == "NodeLines finds lines by location; it does not list them"
    with pytest.raises(TypeError) as counted:
        len(lines)
    assert str(counted.value) == "NodeLines finds lines by location; it does not count them"


def test_a_character_yaml_cannot_read_is_refused_without_a_line() -> None:
    """The reader's error has no mark and no `problem`: the message is the error's own."""
    with pytest.raises(ConfigError) as info:
        parse_config("services: []\n\x07\n", "m.yaml", env={})
    [problem] = info.value.problems
    assert (problem.line, problem.location) == (None, "")
    assert problem.message == (
        "not valid YAML: unacceptable character #x0007: special characters are not allowed\n"
        '  in "<unicode string>", position 13'
    )


def test_anchors_and_merge_keys_are_read_as_yaml_reads_them() -> None:
    text = (
        "services:\n  - &base {name: a, url: 'http://a', interval: 10s}\n"
        "  - <<: *base\n    name: b\n  - name: c\n    url: http://c\n    headers: &h {X-A: '1'}\n"
        "  - {name: d, url: 'http://d', headers: *h}\n"
    )
    config = parse_config(text, env={})
    assert [(s.name, s.url, s.interval) for s in config.services] == [
        ("a", "http://a", 10.0),
        ("b", "http://a", 10.0),
        ("c", "http://c", None),
        ("d", "http://d", None),
    ]
    assert config.services[3].headers["X-A"].get_secret_value() == "1"


def test_a_mapping_key_yaml_cannot_hash_is_refused_at_its_line() -> None:
    text = "services:\n  - name: a\n    url: http://a\n    labels: {? [x] : y}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "m.yaml", env={})
    assert [(p.line, p.location, p.message) for p in info.value.problems] == [
        (4, "", "not valid YAML: found unhashable key")
    ]


def test_a_block_scalar_only_the_pure_python_parser_reads_is_read_with_its_lines() -> None:
    """libyaml refuses a tab after a block scalar's indentation; PyYAML's own parser reads
    it, so the file loads on every path, with its lines."""
    text = "a: |\n \tx\nb: c\n"
    assert load_yaml(text, "f.yaml") == ({"a": "\tx\n", "b": "c"}, {(): 1, ("a",): 1, ("b",): 3})
    assert load_data(text, "f.yaml") == {"a": "\tx\n", "b": "c"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: !!omap [{b: 1}, {c: 2}]\nd: !!pairs [{b: 1}, {b: 2}]\ne: !!set {f, g}\n",
            {"a": [("b", 1), ("c", 2)], "d": [("b", 1), ("b", 2)], "e": {"f", "g"}},
        ),
        ("!!set {f, g}\n", {"f", "g"}),  # alone, not inside a plain mapping
    ],
)
def test_tagged_collections_are_read_as_pyyaml_reads_them(text: str, expected: object) -> None:
    assert load_data(text, "f.yaml") == expected
