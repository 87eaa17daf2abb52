"""The fast way in (issue 18): libyaml or the json module, line numbers looked up only when a
file is refused. Each path must read a file exactly as the line-tracking loader does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config import CloudflareConfig, parse_config
from monitor.config.yaml_lines import NodeLines, load_data, load_yaml
from monitor.errors import ConfigError
from monitor.model import CheckKind

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "monitor.yaml"

TRICKY = """
a: 1.5
b: 1e5
c: 1.5e+3
d: 1.5e3
e: -0.0
f: [1, -2, 0]
g: "caf\\u00e9 \\/ \\"q\\""
h: {"n": null, "t": true, "f": false}
i: ""
"""

BLOCK = """
base: &base {interval: 30s, timeout: 5s, n: 3, ok: yes, off: ~}
services:
  - <<: *base
    name: merged
    7: an int key
    on: a bool key
    when: 2026-11-30
    tagged: !!str 123
    blob: !!binary aGVsbG8=
    again: *base
    set: !!set {a, b}
    pairs: !!omap [{x: 1}, {y: 2}]
  - name: plain
    text: |
      two
      lines
    empty: []
    none:
"""
"""Block style with what the fast YAML path hands to PyYAML: anchors, a merge key, non-string
keys and scalars, explicit tags."""


@pytest.mark.parametrize(
    "text",
    [
        TRICKY,
        json.dumps(yaml.safe_load(TRICKY)),
        '{"a": 1.5, "b": 1e5, "c": 1.5e+3, "d": 1.5E3, "e": -0.0, "g": "\\u00e9\\/"}',
        "{a: 1, b: [x, y]}",  # YAML flow style that is not JSON
        '{"a": 1} # a comment, so not JSON',
        "{}",
        "",
        BLOCK,
    ],
)
def test_the_fast_path_reads_what_the_line_tracking_loader_reads(text: str) -> None:
    assert load_data(text, "f.yaml") == load_yaml(text, "f.yaml")[0]


def test_json_numbers_keep_their_yaml_1_1_meaning() -> None:
    """YAML 1.1 reads `1e5` (no dot) and `1.5e3` (no sign) as strings: so must JSON text."""
    data = load_data('{"b": 1e5, "c": 1.5e+3, "d": 1.5e3, "x": 7}', "f.yaml")
    assert data == {"b": "1e5", "c": 1500.0, "d": "1.5e3", "x": 7}


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}'])
def test_json_constants_are_yaml_strings(text: str) -> None:
    assert load_data(text, "f.yaml") == yaml.safe_load(text)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{"services": [{"name": "a", "url": "http://a", "url": "http://b"}]}', 1),
        ('{"services": [\n  {"name": "a",\n   "url": "http://a",\n   "url": "http://b"}]}', 4),
        ("services:\n  - name: a\n    url: http://a\n    url: http://b\n", 4),
    ],
)
def test_a_duplicate_key_is_refused_with_its_line_on_every_path(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "monitor.yaml", env={})
    [problem] = caught.value.problems
    assert (problem.location, problem.line, problem.message) == (
        "services[0].url",
        line,
        "duplicate key",
    )


def test_invalid_yaml_keeps_the_pure_python_message() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("services: [\n", "monitor.yaml", env={})
    assert str(caught.value) == (
        "monitor.yaml:2: not valid YAML: expected the node content, but found '<stream end>'"
    )


def every_location(text: str) -> dict[tuple[Any, ...], int]:
    return load_yaml(text, "f.yaml")[1]


@pytest.mark.parametrize(
    "text",
    [
        EXAMPLE.read_text(encoding="utf-8"),
        TRICKY,
        json.dumps(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), indent=2),
    ],
    ids=["example", "tricky", "example-as-json"],
)
def test_node_lines_finds_the_line_the_full_map_lists_for_every_location(text: str) -> None:
    expected = every_location(text)
    lines = NodeLines(text)
    assert len(expected) > 10
    assert {loc: lines[loc] for loc in expected} == expected


def test_node_lines_has_no_line_for_what_the_file_does_not_hold() -> None:
    lines = NodeLines("services:\n  - name: a\n")
    assert ("services", 0, "name") in lines
    for absent in [("services", 1), ("services", 0, "url"), ("services", "x"), ("nope",)]:
        assert absent not in lines
        with pytest.raises(KeyError):
            lines[absent]
    assert ("x",) not in NodeLines("services: [\n")  # a file that does not parse has no lines


def big_config(n: int, bad: int | None = None) -> str:
    services = [
        {"name": f"s{i:05d}", "url": f"http://127.0.0.1:9/s{i}", "labels": {"tier": "core"}}
        for i in range(n)
    ]
    if bad is not None:
        services[bad]["interval"] = "soon"
    return yaml.safe_dump({"defaults": {"interval": "60s"}, "services": services})


@pytest.mark.parametrize("as_json", [False, True])
def test_a_problem_deep_in_a_big_file_names_its_file_line_and_field(as_json: bool) -> None:
    text = big_config(1200, bad=1111)
    if as_json:
        text = json.dumps(yaml.safe_load(text), indent=1)
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "monitor.yaml", env={})
    [problem] = caught.value.problems
    assert problem.location == "services[1111].interval"
    assert "expected a duration" in problem.message
    assert problem.line == every_location(text)[("services", 1111, "interval")]
    assert problem.line is not None and problem.line > 1111 * 3  # really that far down


def test_a_cross_field_problem_in_a_big_json_file_names_its_line() -> None:
    data = yaml.safe_load(big_config(500))
    data["services"][321]["depends_on"] = ["ghost"]
    text = json.dumps(data, indent=1)
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "monitor.yaml", env={})
    [problem] = caught.value.problems
    assert problem.location == "services[321].depends_on[0]"
    assert problem.line == every_location(text)[("services", 321, "depends_on", 0)]


def test_yaml_and_json_of_one_document_give_the_same_config() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    as_json = json.dumps(yaml.safe_load(text))
    env = {"AUTH_TOKEN": "t" * 20, "MONITOR_ADMIN_TOKEN": "a" * 20}
    assert parse_config(as_json, env=env) == parse_config(text, env=env)


def test_checks_are_resolved_once_and_afresh_after_a_copy_that_changes_them() -> None:
    config = parse_config(big_config(3), env={})
    first = config.checks()
    first.clear()  # a caller's list is its own
    assert [c.id for c in config.checks()] == [f"s{i:05d}/health/health" for i in range(3)]
    assert config.checks()[0] is config.checks()[0]
    cloudflare = CloudflareConfig(account_id="acct", api_token="t", interval=60)
    with_analytics = config.model_copy(update={"cloudflare": cloudflare})
    kinds = [c.kind for c in with_analytics.checks()]
    assert kinds.count(CheckKind.ANALYTICS) == 3
    assert CheckKind.ANALYTICS not in {c.kind for c in config.checks()}
    assert with_analytics.service("s00002") is with_analytics.services[2]
    assert config.service("nope") is None
