"""Server-Timing parsing (W3C), the RPC duration pick, and the JSON fallback."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from monitor.server_timing import (
    ServerTimingMetric,
    json_duration_s,
    parse_server_timing,
    rpc_duration_s,
)

M = ServerTimingMetric


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("rpc;dur=2.3", [M("rpc", 2.3)]),
        ("db;dur=53, app;dur=47.2", [M("db", 53.0), M("app", 47.2)]),
        ('cache;desc="Cache Read";dur=23.2', [M("cache", 23.2, "Cache Read")]),
        ("miss", [M("miss")]),
        ("miss, rpc;dur=1", [M("miss"), M("rpc", 1.0)]),
        ("total;dur=123.4;desc=Total", [M("total", 123.4, "Total")]),
        ('cpu;dur=2.4;desc="CPU"', [M("cpu", 2.4, "CPU")]),
        # quoted strings hide commas, semicolons and escaped quotes
        ('db;desc="a, b; c";dur=5, rpc;dur=1', [M("db", 5.0, "a, b; c"), M("rpc", 1.0)]),
        (r'x;desc="say \"hi\", ok";dur=7', [M("x", 7.0, 'say "hi", ok')]),
        (r'x;desc="back\\slash"', [M("x", None, "back\\slash")]),
        ('x;desc="";dur=1', [M("x", 1.0, "")]),
        # whitespace everywhere it may be
        ("  rpc ; dur = 2.5 ;desc= fast  ,\tdb;dur=1", [M("rpc", 2.5, "fast"), M("db", 1.0)]),
        # parameters in any order, names case-insensitive, the first of a repeat wins
        ("rpc;desc=x;dur=3", [M("rpc", 3.0, "x")]),
        ("rpc;DUR=3", [M("rpc", 3.0)]),
        ("rpc;dur=1;dur=2", [M("rpc", 1.0)]),
        ("rpc;dur=oops;dur=2", [M("rpc", None)]),
        ('rpc;dur="4.5"', [M("rpc", 4.5)]),  # a quoted-string is a valid param value
        ("rpc;dur=0", [M("rpc", 0.0)]),
        ("rpc;dur=.5", [M("rpc", 0.5)]),
        ("rpc;dur=1e3", [M("rpc", 1000.0)]),
        ("rpc;dur=3600000", [M("rpc", 3_600_000.0)]),
        # unknown parameters are ignored
        ("rpc;foo=bar;dur=1", [M("rpc", 1.0)]),
        # unreadable durations are None, not 0
        ("rpc;dur=-1", [M("rpc")]),
        ("rpc;dur=nan", [M("rpc")]),
        ("rpc;dur=NaN", [M("rpc")]),
        ("rpc;dur=inf", [M("rpc")]),
        ("rpc;dur=1e400", [M("rpc")]),
        ("rpc;dur=3600001", [M("rpc")]),
        ("rpc;dur=12ms", [M("rpc")]),
        ("rpc;dur=1,5", [M("rpc", 1.0), M("5")]),  # "5" is a metric name of its own
        ("rpc;dur=", [M("rpc")]),
        ("rpc;dur", [M("rpc")]),
        ("rpc;dur=1_000", [M("rpc")]),
        ("rpc;dur=+1", [M("rpc")]),
        ("rpc;dur=0x10", [M("rpc")]),
        ("rpc;dur=١٢", [M("rpc")]),  # Arabic-Indic digits: float() takes them, we do not
        # malformed entries are skipped, the rest kept
        ("", []),
        (" , ,, ", []),
        (";dur=1", []),
        ("bad name;dur=1, rpc;dur=2", [M("rpc", 2.0)]),
        ('"quoted";dur=1, rpc;dur=2', [M("rpc", 2.0)]),
        ("ümlaut;dur=1, rpc;dur=2", [M("rpc", 2.0)]),
        ('rpc;desc="never closed, db;dur=1', []),
        ('db;dur=1, rpc;desc="never closed', [M("db", 1.0)]),
        ('rpc;desc="a"b";dur=1', []),  # the third quote opens a string that never closes
        ('rpc;desc="a"b, db;dur=1', [M("rpc"), M("db", 1.0)]),  # desc is not a quoted-string
        ("rpc;de sc=x;dur=1", [M("rpc", 1.0)]),
        ("rpc;=x;dur=1", [M("rpc", 1.0)]),
    ],
)
def test_parse_server_timing(header: str, expected: list[ServerTimingMetric]) -> None:
    assert parse_server_timing(header) == expected


def test_parse_caps_the_number_of_metrics() -> None:
    assert len(parse_server_timing(",".join(f"m{i};dur=1" for i in range(1000)))) == 128


def test_parse_is_not_fooled_by_a_non_string() -> None:
    assert parse_server_timing(None) == []  # type: ignore[arg-type]


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_parse_never_raises_on_any_text(text: str) -> None:
    for metric in parse_server_timing(text):
        assert metric.name
        assert metric.dur_ms is None or 0.0 <= metric.dur_ms <= 3_600_000.0


_PIECES = st.sampled_from(
    ['"', "\\", ",", ";", "=", " ", "\t", "rpc", "dur", "desc", "1.5", "-", "e9", "nan", "x"]
)


@given(st.lists(_PIECES, max_size=60).map("".join))
@settings(max_examples=300, deadline=None)
def test_parse_never_raises_on_header_shaped_text(text: str) -> None:
    for metric in parse_server_timing(text):
        assert metric.dur_ms is None or 0.0 <= metric.dur_ms <= 3_600_000.0


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z][a-z0-9_.-]{0,10}", fullmatch=True),
            st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)),
            st.one_of(st.none(), st.text(max_size=20)),
        ),
        max_size=8,
    )
)
@settings(max_examples=200, deadline=None)
def test_round_trip_of_well_formed_headers(
    metrics: list[tuple[str, float | None, str | None]],
) -> None:
    def render(name: str, dur: float | None, desc: str | None) -> str:
        text = name
        if desc is not None:
            text += ';desc="' + desc.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if dur is not None:
            text += f";dur={dur!r}"
        return text

    header = ", ".join(render(*m) for m in metrics)
    assert parse_server_timing(header) == [M(n, d, s) for n, d, s in metrics]


@pytest.mark.parametrize(
    ("headers", "names", "seconds"),
    [
        ({"server-timing": "rpc;dur=2.3"}, ("rpc",), 0.0023),
        ({"Server-Timing": "db;dur=53, rpc;dur=4"}, ("rpc",), 0.004),
        ({"SERVER-TIMING": "RPC;dur=4"}, ("rpc",), 0.004),
        ({"server-timing": "db;dur=53, app;dur=47.2"}, ("rpc",), None),
        ({"server-timing": "rpc, rpc;dur=3"}, ("rpc",), 0.003),  # first one with a dur
        ({"server-timing": "rpc;dur=-3"}, ("rpc",), None),
        ({"server-timing": "app;dur=9, rpc;dur=3"}, ("rpc", "app"), 0.003),  # names in order
        ({"server-timing": "app;dur=9, rpc;dur=3"}, ("app", "rpc"), 0.009),
        ({"server-timing": "app;dur=9"}, ("rpc", "app"), 0.009),
        ({"content-type": "application/json"}, ("rpc",), None),
        ({}, ("rpc",), None),
    ],
)
def test_rpc_duration_s(
    headers: Mapping[str, str], names: tuple[str, ...], seconds: float | None
) -> None:
    got = rpc_duration_s(headers, names)
    if seconds is None:
        assert got is None
    else:
        assert got == pytest.approx(seconds)


def test_rpc_duration_s_reads_repeated_headers_of_a_multidict() -> None:
    headers = CIMultiDict([("Server-Timing", "db;dur=1"), ("server-timing", "rpc;dur=2")])
    assert rpc_duration_s(headers) == pytest.approx(0.002)


@pytest.mark.parametrize(
    ("body", "seconds"),
    [
        ({"rpc_ms": 2.5}, 0.0025),
        ({"rpc_ms": 3}, 0.003),
        ({"rpc_ms": 0}, 0.0),
        ({"timing": {"rpc_ms": 40}}, 0.040),
        ({"rpc_ms": 1, "timing": {"rpc_ms": 40}}, 0.001),  # top level first
        ({"rpc_ms": "bad", "timing": {"rpc_ms": 40}}, 0.040),
        ({"rpc_ms": "2.5"}, None),  # a string is not a number
        ({"rpc_ms": True}, None),
        ({"rpc_ms": -1}, None),
        ({"rpc_ms": float("nan")}, None),
        ({"rpc_ms": float("inf")}, None),
        ({"rpc_ms": 10**400}, None),
        ({"rpc_ms": 3_600_001}, None),
        ({"rpc_ms": None}, None),
        ({"timing": {"rpc_ms": [1]}}, None),
        ({"timing": [{"rpc_ms": 1}]}, None),
        ({"duration_ms": 5}, None),  # too generic a name to trust
        ([{"rpc_ms": 1}], None),
        ("rpc_ms", None),
        (None, None),
        (3.0, None),
    ],
)
def test_json_duration_s(body: object, seconds: float | None) -> None:
    got = json_duration_s(body)
    if seconds is None:
        assert got is None
    else:
        assert got == pytest.approx(seconds)
