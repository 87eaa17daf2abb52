"""The service's own account of an RPC's duration: the Server-Timing header, or a JSON field.

Pure and total: these functions never raise on what a service sends. Anything we cannot read
is left out (an unreadable `dur` is None, not 0), because a made-up 0 ms would look healthy.

Server-Timing (W3C, https://www.w3.org/TR/server-timing/):

    Server-Timing = #( metric-name *( OWS ";" OWS param-name OWS "=" OWS param-value ) )
    param-value   = token / quoted-string

Rules applied here: entries are split on commas and parameters on semicolons outside quoted
strings; a quoted string may hold commas, semicolons and backslash escapes. An entry whose name
is not a token, or with an unterminated quote, is skipped. A parameter that is malformed is
ignored; of repeated `dur`/`desc`, the first wins (as the spec's processing model says).
`dur` must be a plain non-negative decimal number of milliseconds (`2`, `2.3`, `.5`, `1e3`) no
larger than one hour; anything else (negative, NaN, inf, `12ms`) leaves `dur_ms` None.

JSON fallback, for services that cannot set headers: a top-level object with `"rpc_ms"`, or
`"timing": {"rpc_ms": ...}`, in that order; a JSON number (not a string, not a boolean) of
milliseconds, with the same limits as `dur`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "MAX_DURATION_MS",
    "ServerTimingMetric",
    "json_duration_s",
    "parse_server_timing",
    "rpc_duration_s",
]

MAX_DURATION_MS = 3_600_000.0
"""An hour: a larger duration is an error in the service's arithmetic, not a measurement."""

_MAX_HEADER_CHARS = 16_384  # aiohttp stops at 8190 per line; joined repeats may be longer
_MAX_METRICS = 128
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True, slots=True)
class ServerTimingMetric:
    """One Server-Timing entry. `dur_ms` and `desc` are None when absent or unreadable."""

    name: str
    dur_ms: float | None = None
    desc: str | None = None

    @property
    def dur_s(self) -> float | None:
        return None if self.dur_ms is None else self.dur_ms / 1000.0


def _split_outside_quotes(text: str, separator: str) -> tuple[list[str], bool]:
    """Split on `separator` outside quoted strings; also say whether a quote was left open."""
    parts: list[str] = []
    start = 0
    quoted = escaped = False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted:
            if char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == separator:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts, quoted


def _param_value(raw: str) -> str | None:
    """A token as is, a quoted-string unescaped; None if it is neither."""
    value = raw.strip(" \t")
    if _TOKEN.fullmatch(value):
        return value
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        body = value[1:-1]
        out: list[str] = []
        i = 0
        while i < len(body):
            char = body[i]
            if char == "\\" and i + 1 < len(body):
                i += 1
                char = body[i]
            elif char in '"\\':
                return None  # a bare quote or a trailing backslash: not one quoted-string
            out.append(char)
            i += 1
        return "".join(out)
    return None


def _duration_ms(value: str | None) -> float | None:
    """Milliseconds from a plain non-negative number no larger than an hour, else None."""
    if value is None or not _NUMBER.fullmatch(value):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(number) or number > MAX_DURATION_MS:
        return None
    return number


def _metric(entry: str) -> ServerTimingMetric | None:
    segments, _ = _split_outside_quotes(entry, ";")  # quotes balance inside a whole entry
    name = segments[0].strip(" \t")
    if not _TOKEN.fullmatch(name):
        return None
    params: dict[str, str | None] = {}
    for segment in segments[1:]:
        key, _, raw = segment.partition("=")  # a flag without `=` reads as "": no value
        key = key.strip(" \t").lower()
        if not _TOKEN.fullmatch(key) or key in params:
            continue
        params[key] = _param_value(raw)
    return ServerTimingMetric(name, _duration_ms(params.get("dur")), params.get("desc"))


def parse_server_timing(value: str) -> list[ServerTimingMetric]:
    """Every readable metric of a Server-Timing value, in order. Never raises."""
    if not isinstance(value, str):
        return []
    entries, open_quote = _split_outside_quotes(value[:_MAX_HEADER_CHARS], ",")
    if open_quote:
        entries.pop()  # the unterminated quote swallowed the rest: that entry is unreadable
    metrics: list[ServerTimingMetric] = []
    for entry in entries:
        metric = _metric(entry)  # an empty entry has no name: None
        if metric is not None:
            metrics.append(metric)
            if len(metrics) >= _MAX_METRICS:
                break
    return metrics


def _header_values(headers: Mapping[str, str], name: str) -> list[str]:
    """Every value of `name` (given in lower case) under a key in any case: a multidict's
    `items()` lists each repeated header, so a dict and aiohttp's headers read alike."""
    return [
        v
        for k, v in headers.items()
        if isinstance(k, str) and k.lower() == name and isinstance(v, str)
    ]


def rpc_duration_s(
    headers: Mapping[str, str], metric_names: Iterable[str] = ("rpc",)
) -> float | None:
    """Seconds of the service-reported RPC, or None.

    Names are tried in the order given (so `("rpc", "app")` prefers `rpc`); within a name, the
    first metric with a readable `dur` wins. Names match case-insensitively.
    """
    metrics: list[ServerTimingMetric] = []
    for value in _header_values(headers, "server-timing"):
        metrics.extend(parse_server_timing(value))
    for wanted in metric_names:
        for metric in metrics:
            if metric.name.lower() == wanted.lower() and metric.dur_s is not None:
                return metric.dur_s
    return None


def json_duration_s(body: object) -> float | None:
    """Seconds from `{"rpc_ms": n}` or `{"timing": {"rpc_ms": n}}` (a decoded JSON body)."""
    if not isinstance(body, Mapping):
        return None
    candidates = [body.get("rpc_ms")]
    timing = body.get("timing")
    if isinstance(timing, Mapping):
        candidates.append(timing.get("rpc_ms"))
    for candidate in candidates:
        if isinstance(candidate, bool) or not isinstance(candidate, int | float):
            continue
        try:
            number = float(candidate)
        except OverflowError:  # an int too large for a float
            continue
        if math.isfinite(number) and 0.0 <= number <= MAX_DURATION_MS:
            return number / 1000.0
    return None
