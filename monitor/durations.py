"""Human durations (`250ms`, `10s`, `5m`, `1h30m`) to seconds and back."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")


def parse_duration(value: object) -> float:
    """Seconds from `250ms`, `10s`, `5m`, `1h30m`, or a bare number of seconds.

    Raises ValueError with the accepted forms, for config error messages.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 250ms, 10s, 5m or 1h, not a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif _WHOLE.fullmatch(text):
            seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
        else:
            raise ValueError(f"expected a duration such as 250ms, 10s, 5m or 1h, got {value!r}")
    else:
        raise ValueError(f"expected a duration such as 250ms, 10s, 5m or 1h, got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact spelling: 0.25 -> '250ms', 300 -> '5m', 90 -> '90s'."""
    ms = round(seconds * 1000)
    if ms % 1000:
        return f"{ms}ms"
    s = ms // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


_RATE = re.compile(r"(\d+(?:\.\d+)?)(?:/((?:\d+(?:\.\d+)?)?(?:ms|s|m|h)))?")


def parse_rate(value: object) -> float:
    """Events per second from `1000/s`, `60/m`, `5/100ms`, or a bare number (per second)."""
    if isinstance(value, bool):
        raise ValueError("expected a rate such as 1000/s or 60/m, not a boolean")
    if isinstance(value, int | float):
        rate = float(value)
    elif isinstance(value, str) and (match := _RATE.fullmatch(value.strip().replace(" ", ""))):
        count, per = match.groups()
        period = parse_duration(per if per[0].isdigit() else "1" + per) if per else 1.0
        if period <= 0:
            raise ValueError(f"a rate needs a period longer than 0, got {value!r}")
        rate = float(count) / period
    else:
        raise ValueError(f"expected a rate such as 1000/s or 60/m, got {value!r}")
    if not rate > 0 or rate == float("inf"):
        raise ValueError(f"expected a rate above 0, got {value!r}")
    return rate
