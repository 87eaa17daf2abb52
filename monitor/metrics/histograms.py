"""Latency histograms kept in flat arrays, with bucket bounds chosen per check.

A fleet-wide bucket list spends most of its 19 buckets far from any one check's target; what
p95-against-target needs is resolution around *that* check's target and one bound exactly at it
(the share under target is then a bucket count, not an interpolation). `lean_bounds` places 6
bounds around the target; `detailed` checks keep the fleet-wide list.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator
from functools import lru_cache

from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

LEAN_FACTORS = (0.5, 0.75, 1.0, 1.5, 2.5, 5.0)
"""Multiples of the target: p95 is read between 0.5x and 5x (beyond: +Inf), the target is a
bound. Six bounds and +Inf keep a check within 1.5 KB of text (tests/test_metrics_lean.py)."""


@lru_cache(maxsize=4096)  # a fleet has few distinct targets, and 100,000 checks
def lean_bounds(target: float) -> tuple[float, ...]:
    """Bounds around `target`, the target itself exactly (6 significant digits elsewhere, so
    `le` labels stay short: 0.00375, not 0.0037500000000000003)."""
    return tuple(target if f == 1.0 else float(f"{target * f:.6g}") for f in LEAN_FACTORS)


def le_label(bound: float) -> str:
    """A bound as the `le` label Prometheus clients write."""
    return str(floatToGoString(bound))  # type: ignore[no-untyped-call]


class ArrayHistogram:
    """One histogram per check: per-bucket (not cumulative) counts, +Inf last, and the sum.

    Every check gets `stride` count slots (the longest bound list + 1); a check with fewer
    bounds leaves the tail unused. Bound tuples and their `le` labels are shared between
    checks with the same target."""

    def __init__(self, longest: int) -> None:
        self.stride = longest + 1
        self.counts = array("d")
        self.sums = array("d")
        self.bounds: list[tuple[float, ...]] = []
        self.les: list[tuple[str, ...]] = []
        self._le_cache: dict[tuple[float, ...], tuple[str, ...]] = {}
        self._zeros = array("d", bytes(8 * self.stride))

    def grow(self, count: int = 1) -> None:
        """`count` more checks, with no bounds yet."""
        self.counts.frombytes(bytes(8 * self.stride * count))  # zeros
        self.sums.frombytes(bytes(8 * count))
        self.bounds.extend([()] * count)
        self.les.extend([("+Inf",)] * count)

    def set_bounds(self, i: int, bounds: tuple[float, ...]) -> None:
        """Give check `i` its bounds; counts restart when they change (bucket meaning did)."""
        if len(bounds) >= self.stride:
            raise ValueError(f"{len(bounds)} bounds; at most {self.stride - 1}")
        if self.bounds[i] == bounds:
            return
        if self.bounds[i]:  # a new slot's counts are zeros already (grow, or a free one reset)
            self.reset(i)
        les = self._le_cache.get(bounds)
        if les is None:
            les = self._le_cache[bounds] = (*(le_label(b) for b in bounds), "+Inf")
        self.bounds[i], self.les[i] = bounds, les

    def set_new_bounds(self, slots: range, bounds: list[tuple[float, ...]]) -> None:
        """`set_bounds` of slots just grown (counts at zero, no bounds yet), in one step.
        A fleet has few distinct bound tuples, shared objects: each is looked up once."""
        cache, les_of = self._le_cache, {}
        for each in {id(each): each for each in bounds}.values():
            if len(each) >= self.stride:
                raise ValueError(f"{len(each)} bounds; at most {self.stride - 1}")
            les = cache.get(each)
            if les is None:
                les = cache[each] = (*(le_label(b) for b in each), "+Inf")
            les_of[id(each)] = les
        self.bounds[slots.start : slots.stop] = bounds
        self.les[slots.start : slots.stop] = [les_of[id(each)] for each in bounds]

    def reset(self, i: int) -> None:
        base = i * self.stride
        self.counts[base : base + self.stride] = self._zeros
        self.sums[i] = 0.0

    def observe(self, i: int, value: float) -> None:
        # a bucket holds values <= its bound, as prometheus_client's Histogram
        self.counts[i * self.stride + bisect_left(self.bounds[i], value)] += 1.0
        self.sums[i] += value

    def samples(
        self, name: str, i: int, labels: dict[str, str], created: float | None
    ) -> Iterator[Sample]:
        base, acc = i * self.stride, 0.0
        bucket = name + "_bucket"
        for j, le in enumerate(self.les[i]):
            acc += self.counts[base + j]
            yield Sample(bucket, {**labels, "le": le}, acc)
        yield Sample(name + "_count", labels, acc)
        yield Sample(name + "_sum", labels, self.sums[i])
        if created is not None:
            yield Sample(name + "_created", labels, created)
