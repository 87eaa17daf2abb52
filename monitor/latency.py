"""Rolling latency percentiles per check, in a few KB each, with a proven error bound.

Pure: no clock reads, `now` is a parameter (monotonic seconds). One `LatencyWindows` per check
keeps, for each window (1m, 5m, 1h by default), a ring of `slots` sub-buckets. A sample goes
into the current sub-bucket of every window; a read merges the live sub-buckets.

Quantiles use DDSketch's `LogarithmicMapping` (value -> bucket key) with a compact store of our
own: every (key, sub-bucket, count) triple is one 64-bit word in a single sorted `array('Q')`,
so a check is four Python objects (itself and three arrays) however many samples it sees.
The bound is DDSketch's: for a sample x and its estimate x' at the same rank,
|x' - x| <= relative_accuracy * x
(values under `MIN_VALUE_S` read as 0, values over `MAX_VALUE_S` are clamped to it).
Counts and over-target counts are exact, never taken from the sketch.

What a window holds: with width w = window / slots and the current sub-bucket E = floor(now / w),
the window is [(E - slots + 1) * w, now]: the current, partly filled sub-bucket and the
`slots - 1` before it. It never counts a sample older than `window`, and may miss up to one
sub-bucket (w) of the oldest ones.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ddsketch.mapping import LogarithmicMapping

from monitor.durations import format_duration
from monitor.model import LatencySummary, unvalidated

__all__ = [
    "MAX_VALUE_S",
    "MIN_VALUE_S",
    "LatencyWindows",
    "WindowSummary",
    "to_latency_summary",
]

MIN_VALUE_S = 1e-9
"""Samples below one nanosecond are counted in a zero bucket and read back as 0.0."""
MAX_VALUE_S = 1e6
"""Samples above this are clamped to it (a probe never waits 11 days)."""

DEFAULT_WINDOWS = (60.0, 300.0, 3600.0)
QUANTILES = ((50, 100), (95, 100), (99, 100))
"""p50, p95, p99 as exact fractions, so that ranks come from integer arithmetic."""

# One word of the store: key field (24 bits) | sub-bucket id (8 bits) | count (32 bits).
# Key-major order puts every sub-bucket's count for a key side by side, so a read is one
# ordered pass with no sorting and no dict.
_KEY_SHIFT = 40
_SLOT_SHIFT = 32
_SLOT_MASK = 0xFF
_COUNT_MASK = 0xFFFF_FFFF
_MAX_KEY_FIELD = (1 << 24) - 1
_MAX_IDS = _SLOT_MASK + 1
_NEVER = -(1 << 63)  # epoch of a sub-bucket that was never written
_SWEEP_COST = 4  # store entries a sweep may visit per record, amortised
_ONE_SAMPLE = 1 << 32  # in a sub-bucket's packed counts: samples << 32 | over-target samples


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """Percentiles and exact target accounting of one window at one instant (seconds)."""

    window_s: float
    count: int
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    over_target: int
    over_target_ratio: float | None


@dataclass(frozen=True, slots=True)
class _Layout:
    """What every check with the same settings shares: computed once, not per check."""

    windows: tuple[float, ...]
    widths: tuple[float, ...]
    slots: int
    mapping: LogarithmicMapping
    key_lo: int

    def key_field(self, value_s: float) -> int:
        if value_s < MIN_VALUE_S:
            return 0
        return int(self.mapping.key(min(value_s, MAX_VALUE_S))) - self.key_lo + 1

    def value_of(self, key_field: int) -> float:
        if key_field == 0:
            return 0.0
        return float(self.mapping.value(key_field - 1 + self.key_lo))


@lru_cache(maxsize=64)
def _layout(windows: tuple[float, ...], relative_accuracy: float, slots: int) -> _Layout:
    if not 0.0 < relative_accuracy < 1.0:
        raise ValueError(f"relative_accuracy must be in (0, 1), got {relative_accuracy}")
    if not windows or any(not (w > 0.0 and math.isfinite(w)) for w in windows):
        raise ValueError(f"windows must be positive durations in seconds, got {windows}")
    if len(set(windows)) != len(windows):
        raise ValueError(f"windows must be distinct, got {windows}")
    if slots < 1 or len(windows) * 2 * slots > _MAX_IDS:
        raise ValueError(f"need 1 <= slots and len(windows) * slots <= {_MAX_IDS // 2}")
    mapping = LogarithmicMapping(relative_accuracy)
    key_lo = int(mapping.key(MIN_VALUE_S))
    if int(mapping.key(MAX_VALUE_S)) - key_lo + 1 > _MAX_KEY_FIELD:
        raise ValueError(f"relative_accuracy {relative_accuracy} is too fine for 24-bit keys")
    widths = tuple(w / slots for w in windows)
    return _Layout(windows, widths, slots, mapping, key_lo)


class LatencyWindows:
    """Rolling p50/p95/p99 and exact over-target counts of one check over several windows.

    Each window's ring has 2 * `slots` sub-bucket ids (id = epoch mod 2 * slots): `slots` live
    ones and up to `slots` that have left the window and wait for a sweep. A sweep is one pass
    over the store that drops every stale id of every window; it runs when a stale id comes
    round again, or earlier once there have been len(store) / 4 records since the last one.
    So a sweep costs at most a few entry visits per record at any sample rate, and stale
    sub-buckets are gone within about one 1m-window of rotations.
    """

    __slots__ = ("_counts", "_entries", "_epochs", "_layout", "target_s")

    def __init__(
        self,
        target_s: float,
        windows: tuple[float, ...] = DEFAULT_WINDOWS,
        relative_accuracy: float = 0.01,
        *,
        slots: int = 12,
    ) -> None:
        if not (target_s > 0.0 and math.isfinite(target_s)):
            raise ValueError(f"target_s must be a positive number of seconds, got {target_s}")
        self.target_s = target_s
        self._layout = _layout(tuple(float(w) for w in windows), relative_accuracy, slots)
        ids = len(windows) * 2 * slots
        self._entries = array("Q")
        self._epochs = array("q", [_NEVER]) * ids  # floor(now / width) each id holds
        # samples << 32 | over-target samples, per id; the last cell counts records since the
        # last sweep
        self._counts = array("Q", [0]) * (ids + 1)

    @property
    def windows(self) -> tuple[float, ...]:
        return self._layout.windows

    def record(self, value_s: float, now: float) -> None:
        """Add one sample taken at `now`. Raises ValueError for a negative, NaN or infinite one.

        A sample older than a window's ring (an earlier `now` than the ring has moved past)
        is left out of that window only.
        """
        if not (0.0 <= value_s < math.inf):
            raise ValueError(f"a latency must be a finite number >= 0, got {value_s}")
        layout = self._layout
        key_bits = layout.key_field(value_s) << _KEY_SHIFT
        bump = _ONE_SAMPLE | (value_s > self.target_s)
        epochs, counts = self._epochs, self._counts
        counts[-1] += 1  # records since the last sweep
        ring = 2 * layout.slots
        for index, width in enumerate(layout.widths):
            epoch = math.floor(now / width)
            slot = index * ring + epoch % ring
            if epochs[slot] != epoch:
                if epochs[slot] > epoch:
                    continue
                # Must sweep if this id still holds an old epoch; may, once enough records
                # have paid for a pass over the store (<= _SWEEP_COST visits per record).
                if counts[slot] or counts[-1] * _SWEEP_COST >= len(self._entries):
                    self._sweep(now)
                epochs[slot] = epoch
                counts[slot] = 0
            counts[slot] += bump
            self._add(key_bits | (slot << _SLOT_SHIFT))

    def _add(self, head: int) -> None:
        entries = self._entries
        i = bisect_left(entries, head)
        if i < len(entries) and entries[i] >> _SLOT_SHIFT == head >> _SLOT_SHIFT:
            if entries[i] & _COUNT_MASK != _COUNT_MASK:  # saturate rather than carry
                entries[i] += 1
        else:
            entries.insert(i, head | 1)

    def _sweep(self, now: float) -> None:
        """Forget every sub-bucket that no read at `now` or later can see."""
        layout = self._layout
        ring = 2 * layout.slots
        epochs, counts = self._epochs, self._counts
        stale = set()
        for index, width in enumerate(layout.widths):
            oldest = math.floor(now / width) - layout.slots
            for slot in range(index * ring, (index + 1) * ring):
                if counts[slot] and epochs[slot] <= oldest:
                    stale.add(slot)
                    counts[slot] = 0
        counts[-1] = 0
        if stale:
            self._entries = array(
                "Q", [e for e in self._entries if (e >> _SLOT_SHIFT) & _SLOT_MASK not in stale]
            )

    def counts(self, now: float) -> tuple[int, ...]:
        """Samples in each window at `now` (same order as `windows`): exact, and much cheaper
        than `summary`, so a caller can pick the window it needs before paying for quantiles."""
        layout = self._layout
        ring = 2 * layout.slots
        epochs, counts = self._epochs, self._counts
        out = []
        for index, width in enumerate(layout.widths):
            current = math.floor(now / width)
            oldest = current - layout.slots
            packed = 0
            for slot in range(index * ring, (index + 1) * ring):
                if counts[slot] and oldest < epochs[slot] <= current:  # most ids are empty
                    packed += counts[slot]
            out.append(packed >> 32)
        return tuple(out)

    def summary(self, window_s: float, now: float) -> WindowSummary:
        """Percentiles and over-target counts of the samples in [now - window_s, now].

        `window_s` must be one of `windows`. Percentiles are nearest-rank: pq is the sample at
        index ceil(q * count) - 1 in sorted order (the smallest with at least q of the samples
        at or below it), within `relative_accuracy` of it. With few samples this leans to the
        slow side (p95 of two samples is the slower one), which is the safe side for an SLO.
        """
        layout = self._layout
        try:
            index = layout.windows.index(float(window_s))
        except ValueError:
            raise ValueError(f"no {window_s}s window; have {layout.windows}") from None
        ring = 2 * layout.slots
        current = math.floor(now / layout.widths[index])
        oldest = current - layout.slots
        epochs, counts = self._epochs, self._counts
        live = [False] * (_SLOT_MASK + 1)
        packed = 0
        for slot in range(index * ring, (index + 1) * ring):
            if counts[slot] and oldest < epochs[slot] <= current:  # most ids are empty
                live[slot] = True
                packed += counts[slot]
        count, over = packed >> 32, packed & _COUNT_MASK
        if count == 0:
            return WindowSummary(float(window_s), 0, None, None, None, 0, None)
        values = self._quantiles(live, [-(-num * count // den) - 1 for num, den in QUANTILES])
        return WindowSummary(
            window_s=float(window_s),
            count=count,
            p50_s=values[0],
            p95_s=values[1],
            p99_s=values[2],
            over_target=over,
            over_target_ratio=over / count,
        )

    def _quantiles(self, live: Sequence[bool], ranks: Sequence[int]) -> list[float]:
        """One ordered pass over the live sub-buckets: the key holding each (0-based) rank."""
        found: list[float] = []
        if not ranks:
            return found
        value_of = self._layout.value_of
        seen, next_rank, wanted = 0, ranks[0], iter(ranks[1:])
        for entry in self._entries:  # /status walks this per check: no len() per entry
            if not live[(entry >> _SLOT_SHIFT) & _SLOT_MASK]:
                continue
            seen += entry & _COUNT_MASK
            while seen > next_rank:
                found.append(value_of(entry >> _KEY_SHIFT))
                next_rank = next(wanted, -1)
                if next_rank < 0:
                    return found
        return found

    def __sizeof__(self) -> int:
        """Bytes held by this check, its arrays included (the shared layout excluded)."""
        arrays = (self._entries, self._epochs, self._counts)
        return object.__sizeof__(self) + sum(a.__sizeof__() for a in arrays)


def to_latency_summary(summary: WindowSummary) -> LatencySummary:
    """The public model: milliseconds (to the microsecond) and a window label such as `5m`."""

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000.0, 3)

    return unvalidated(  # /status makes one per check per answer
        LatencySummary,
        {
            "p50": ms(summary.p50_s),
            "p95": ms(summary.p95_s),
            "p99": ms(summary.p99_s),
            "window": format_duration(summary.window_s),
            "count": summary.count,
        },
    )
