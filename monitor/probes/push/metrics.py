"""The push kind's own series. Its status, reason and since are the per-check series every
kind has (monitor_check_*); these add what only a ping has: when it came, how long the run
took, and how many pings of each outcome arrived.

Kept in flat arrays and built at scrape time, as metrics/check_series.py does for the per-check
series: prometheus_client's children (four counters and a histogram a check) took most of a
100,000-push-check start and ~10 KB a check. `collect()` yields the families, names, labels,
values and `_created` samples those children did (tests/test_push_metrics.py compares them).
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Iterable
from datetime import datetime

import prometheus_client.metrics
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from monitor.config import Check
from monitor.metrics.histograms import ArrayHistogram

RUN_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 12 * 3600.0)
"""Run times of cron jobs and batches: seconds to half a day."""
OUTCOMES = ("success", "fail", "start", "rate_limited")
_OUTCOME_INDEX = {outcome: i for i, outcome in enumerate(OUTCOMES)}
_N = len(OUTCOMES)
_LAST_PING = "monitor_push_last_ping_timestamp_seconds"
_RUN_TIME = "monitor_push_run_duration_seconds"
_PINGS = "monitor_push_pings"
_HELP = {
    _LAST_PING: "Unix time of the last accepted ping of a push check (a start included).",
    _RUN_TIME: "Run time of a push check's job, from its /start to its finish.",
    _PINGS: "Pings received per push check, by outcome (success, fail, start, rate_limited).",
}


class PushMetrics(Collector):
    """Registers itself (and the unknown-token counter) on `registry`. The event loop writes;
    `collect()` may run in a worker thread: it reads single floats and iterates a copy of the
    slot list, and arrays never shrink (as CheckSeries)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._index: dict[tuple[str, str], int] = {}
        self._labels: list[tuple[str, str] | None] = []  # None: a free slot
        self._free: list[int] = []
        self._pings = array("d")  # len(OUTCOMES) per check
        self._created = array("d")
        self._last = array("d")  # NaN: no ping yet (0 would read as 1970)
        self._run_time = ArrayHistogram(len(RUN_BUCKETS))
        self._use_created: bool = getattr(prometheus_client.metrics, "_use_created", True)
        registry.register(self)
        self.unknown = Counter(
            "monitor_push_unknown_pings",
            "Pings with an unknown token or suffix (answered 404).",
            registry=registry,
        )

    def declare(self, check: Check) -> None:
        """Counters and the run-time histogram at 0 from the start: absent never means zero.
        The last-ping gauge appears with the first ping. A check declared again keeps its
        counts."""
        self.declare_many((check,))

    def declare_many(self, checks: Iterable[Check]) -> None:
        """`declare` of each, the arrays grown once for all the new ones."""
        new = list(
            dict.fromkeys(k for c in checks if (k := (c.service, c.name)) not in self._index)
        )
        reused = [self._free.pop() for _ in range(min(len(new), len(self._free)))]
        grown = len(new) - len(reused)
        start = len(self._labels)
        now = time.time()
        if grown > 0:
            self._pings.extend(array("d", [0.0]) * (grown * _N))
            self._created.extend(array("d", [now]) * grown)
            self._last.extend(array("d", [math.nan]) * grown)
            self._run_time.grow(grown)
            self._labels.extend([None] * grown)  # last: a scrape sees only grown slots
        for i in reused:
            self._pings[i * _N : (i + 1) * _N] = array("d", [0.0]) * _N
            self._created[i], self._last[i] = now, math.nan
            self._run_time.reset(i)
        for i, labels in zip([*reused, *range(start, start + max(grown, 0))], new, strict=True):
            self._run_time.set_bounds(i, RUN_BUCKETS)
            self._labels[i] = labels
            self._index[labels] = i

    def forget(self, check: Check) -> None:
        i = self._index.pop((check.service, check.name), None)
        if i is not None:
            self._labels[i] = None
            self._free.append(i)

    def restore(self, check: Check, last_ping_at: datetime) -> None:
        i = self._index.get((check.service, check.name))
        if i is not None:
            self._last[i] = last_ping_at.timestamp()

    def ping(
        self, check: Check, outcome: str, at: datetime | None = None, run_s: float | None = None
    ) -> None:
        i = self._index.get((check.service, check.name))
        if i is None:  # not declared (removed by a reload meanwhile)
            return
        self._pings[i * _N + _OUTCOME_INDEX[outcome]] += 1.0
        if at is not None:
            self._last[i] = at.timestamp()
        if run_s is not None:
            self._run_time.observe(i, run_s)

    def unknown_token(self) -> None:
        self.unknown.inc()

    # -- reads (any thread) ----------------------------------------------------------------

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        last, run_time, pings = families = self._families()
        created = self._use_created
        for i, labels in enumerate(list(self._labels)):
            if labels is None:
                continue
            service, name = labels
            by = {"service": service, "check": name}
            born = self._created[i]
            if (at := self._last[i]) == at:  # not NaN
                last.samples.append(Sample(_LAST_PING, by, at))
            run_time.samples.extend(
                self._run_time.samples(_RUN_TIME, i, by, born if created else None)
            )
            for o, outcome in enumerate(OUTCOMES):
                each = {**by, "outcome": outcome}
                pings.samples.append(Sample(f"{_PINGS}_total", each, self._pings[i * _N + o]))
                if created:
                    pings.samples.append(Sample(f"{_PINGS}_created", each, born))
        return families

    @staticmethod
    def _families() -> list[Metric]:
        """In the order the children's metrics were registered before (gauge, histogram,
        counter), so the text keeps its order."""
        return [
            Metric(_LAST_PING, _HELP[_LAST_PING], "gauge"),
            Metric(_RUN_TIME, _HELP[_RUN_TIME], "histogram"),
            Metric(_PINGS, _HELP[_PINGS], "counter"),
        ]
