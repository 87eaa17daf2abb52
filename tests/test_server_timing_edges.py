"""Server-Timing and JSON RPC durations at their edges: repeated headers in a multidict (as
aiohttp hands them over), empty entries, a value of exactly one hour, and escapes in quotes."""

from __future__ import annotations

from multidict import CIMultiDict

from monitor.server_timing import (
    ServerTimingMetric,
    json_duration_s,
    parse_server_timing,
    rpc_duration_s,
)


def test_the_rpc_entry_is_found_in_a_repeated_header() -> None:
    headers = CIMultiDict([("Server-Timing", "db;dur=1"), ("Server-Timing", "rpc;dur=2.5")])
    assert rpc_duration_s(headers) == 0.0025


def test_a_multidict_without_the_header_has_no_duration() -> None:
    assert rpc_duration_s(CIMultiDict([("Content-Type", "text/plain")])) is None


def test_an_empty_entry_does_not_end_the_list() -> None:
    assert [m.name for m in parse_server_timing("db;dur=1, ,rpc;dur=2")] == ["db", "rpc"]


def test_a_flag_parameter_has_no_value() -> None:
    assert parse_server_timing("rpc;dur;desc=x") == [ServerTimingMetric("rpc", None, "x")]


def test_escapes_in_a_quoted_description() -> None:
    (metric,) = parse_server_timing('rpc;dur=1;desc="a\\"b\\\\"')
    assert metric.desc == 'a"b\\'
    # a trailing backslash escapes the closing quote: the entry never ends and is dropped
    assert parse_server_timing('rpc;dur=1;desc="a\\"') == []


def test_json_duration_of_exactly_one_hour_is_kept() -> None:
    assert json_duration_s({"rpc_ms": 3_600_000}) == 3600.0
    assert json_duration_s({"rpc_ms": 3_600_000.5}) is None


def test_json_duration_falls_back_to_the_timing_object() -> None:
    assert json_duration_s({"rpc_ms": "fast", "timing": {"rpc_ms": 4}}) == 0.004


def test_descriptions_with_x_and_equals_signs() -> None:
    assert parse_server_timing("rpc;desc=Xray") == [ServerTimingMetric("rpc", None, "Xray")]
    assert parse_server_timing('rpc;desc="Xray"') == [ServerTimingMetric("rpc", None, "Xray")]
    assert parse_server_timing('rpc;desc="a=b"') == [ServerTimingMetric("rpc", None, "a=b")]


def test_json_duration_too_large_for_a_float_falls_back_to_the_timing_object() -> None:
    assert json_duration_s({"rpc_ms": 10**400, "timing": {"rpc_ms": 4}}) == 0.004


def test_only_the_server_timing_header_is_read() -> None:
    assert rpc_duration_s({"x-debug": "rpc;dur=9"}) is None


def test_names_and_keys_are_trimmed_of_space_and_tab_only() -> None:
    assert parse_server_timing("Xray;dur=1") == [ServerTimingMetric("Xray", 1.0)]
    assert parse_server_timing("X") == [ServerTimingMetric("X")]
    assert parse_server_timing("rpc;Xdur=5") == [ServerTimingMetric("rpc")]
    assert parse_server_timing(" rpc\t;\tdur = 2 ") == [ServerTimingMetric("rpc", 2.0)]
    # a vertical tab is not optional white space: the name, key or value is unreadable
    assert parse_server_timing("rpc\x0b;dur=1") == []
    assert parse_server_timing("rpc;dur\x0b=1") == [ServerTimingMetric("rpc")]
    assert parse_server_timing("rpc;dur=1\x0b") == [ServerTimingMetric("rpc")]
