"""Every per-check and per-service series, kept in flat arrays and rendered by one collector.

prometheus_client gives each labelled child its own value objects and lock: a check's two
18-bucket histograms, status gauges, counters and window gauges came to ~30 KB and a few
hundred objects the garbage collector walks on every full collection. Here a check is a small
integer index into a few `array`s of doubles (~0.6 KB a check, no per-check objects but its
label tuple), and `collect()` builds the same families, names, labels and values that the
children exposed, at scrape time.

The event loop writes; `collect()` may run in a worker thread (/metrics renders off the
loop). It reads single floats (atomic under the GIL) and iterates only copies of the
index->labels list and the window map, and arrays never shrink, so a scrape that races a
write sees either value, never a torn or missing one.
"""

from __future__ import annotations

import math
import threading
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import prometheus_client.metrics
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from monitor.metrics.families import fresh_families
from monitor.metrics.histograms import ArrayHistogram, le_label, lean_bounds
from monitor.metrics.service_series import STATUS_VALUES, STATUSES, ServiceSeries
from monitor.model import Reason, Status
from monitor.slo import burn_rate

Labels = tuple[str, str, str]
"""(service, check, kind): every per-check series carries these, in this order."""

CHECK_LABELS = ("service", "check", "kind")
REASONS = tuple(Reason)
_STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}
_REASON_INDEX = {r: i for i, r in enumerate(REASONS)}
_UNKNOWN = _STATUS_INDEX[Status.UNKNOWN]
_NOT_CHECKED = _REASON_INDEX[Reason.NOT_CHECKED]
REASON_VALUES = tuple(r.value for r in REASONS)
_NAN = math.nan


class CheckSeries(ServiceSeries, Collector):
    """The per-check and per-service series of one monitor. Register it on the registry."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self._buckets = buckets  # the latency bounds of `metrics: detailed` checks
        self._index: dict[Labels, int] = {}
        self._labels: list[Labels | None] = []  # None: a free slot
        self._free: list[int] = []
        n = len(STATUSES)
        self._n_status = n
        self._detailed = array("b")  # 1: today's full set of series, 0: the lean set
        self._status = array("b")
        self._reason = array("b")
        self._failed = array("d")
        self._totals = array("d")  # len(STATUSES) per check
        self._changes = array("d")
        self._created = array("d")
        self._last = array("d")  # NaN: absent
        self._since = array("d")  # NaN: absent
        self._target = array("d")
        self._within = array("b")  # -1: absent, else 0/1
        self.duration = ArrayHistogram(len(buckets))
        self.latency = ArrayHistogram(len(buckets))
        self._windows: dict[str, int] = {}  # window label -> column of _p95 and _ratio
        self._p95: list[array[float]] = []  # NaN: absent
        self._ratio: list[array[float]] = []  # NaN: absent (the burn rate follows it)
        ServiceSeries.__init__(self)
        self._use_created: bool = getattr(prometheus_client.metrics, "_use_created", True)
        self._quiet = threading.local()  # set: collect() yields nothing on this thread

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """On this thread, leave the families out of the registry's collect(): the caller
        renders them itself (exposition.py), others' scrapes are unaffected."""
        self._quiet.on = True
        try:
            yield
        finally:
            self._quiet.on = False

    # -- writes (event loop) ---------------------------------------------------------------

    def declare(self, labels: Labels, target: float, detailed: bool = False) -> None:
        """Unknown, not checked, every counter at 0; a check declared again keeps its counts
        (its latency buckets restart only if their bounds moved with the target or mode).

        Lean (the default): status with its reason in one series, one latency histogram
        with bounds around the target, run and failure counters, target, status-since.
        Detailed: today's full set (both histograms on fleet-wide bounds, per-window gauges,
        per-status counters, `_created`)."""
        self.declare_many((labels,), (target,), (detailed,))

    def declare_many(
        self, labels: Sequence[Labels], targets: Sequence[float], detailed: Sequence[bool]
    ) -> None:
        """`declare` of each (labels[i], targets[i], detailed[i]); new checks take slots at the
        end, every array set once for all of them (a start-up declares 100,000, so nothing
        here is a Python step per check that a C one can do: parallel columns, not tuples)."""
        fresh_targets = dict(zip(labels, targets, strict=True))  # declared twice: last holds
        fresh_detailed = dict(zip(labels, detailed, strict=True))
        index = self._index
        for known in fresh_targets.keys() & index.keys() if index else ():
            self._declare_one(known, fresh_targets.pop(known), fresh_detailed.pop(known))
        if self._free:  # a reload after removals: freed slots reused one at a time
            for one in fresh_targets:
                self._declare_one(one, fresh_targets[one], fresh_detailed[one])
            return
        slots = self._grow(len(fresh_targets))
        self._target[slots.start : slots.stop] = array("d", fresh_targets.values())
        self._detailed[slots.start : slots.stop] = array("b", fresh_detailed.values())
        self.duration.set_new_bounds(slots, [self._buckets] * len(slots))
        lean = {target: lean_bounds(target) for target in set(fresh_targets.values())}
        self.latency.set_new_bounds(
            slots,
            [
                self._buckets if d else lean[t]
                for t, d in zip(fresh_targets.values(), fresh_detailed.values(), strict=True)
            ],
        )
        self._labels[slots.start : slots.stop] = list(fresh_targets)  # last, as in _grow
        index.update(zip(fresh_targets, slots, strict=True))

    def _declare_one(self, labels: Labels, target: float, detailed: bool) -> None:
        i = self._index.get(labels)
        if i is None:
            i = self._slot()
            self._labels[i] = labels
            self._index[labels] = i
        self._status[i] = _UNKNOWN
        self._reason[i] = _NOT_CHECKED
        self._configure(i, target, detailed)

    def configure(self, labels: Labels, target: float, detailed: bool) -> None:
        """A reloaded check's new target or mode; its status and counters stay."""
        i = self._index.get(labels)
        if i is not None:
            self._configure(i, target, detailed)

    def _configure(self, i: int, target: float, detailed: bool) -> None:
        self._target[i] = target
        self._detailed[i] = 1 if detailed else 0
        self.duration.set_bounds(i, self._buckets)
        self.latency.set_bounds(i, self._buckets if detailed else lean_bounds(target))

    def detailed(self, i: int) -> bool:
        return self._detailed[i] == 1

    def target_le(self, i: int) -> str:
        return le_label(self._target[i])

    def _slot(self) -> int:
        if self._free:
            i = self._free.pop()
            self._reset(i)
            return i
        return self._grow(1)[0]

    def _grow(self, count: int) -> range:
        """`count` new slots at the end (none for count <= 0), every array grown at once."""
        start, count = len(self._labels), max(count, 0)
        self._detailed.extend(array("b", [0]) * count)
        self._status.extend(array("b", [_UNKNOWN]) * count)
        self._reason.extend(array("b", [_NOT_CHECKED]) * count)
        self._totals.extend(array("d", [0.0]) * (count * self._n_status))
        for zeros in (self._failed, self._changes):
            zeros.extend(array("d", [0.0]) * count)
        self._created.extend(array("d", [time.time()]) * count)
        nans = array("d", [_NAN]) * count
        for column in (self._last, self._since, self._target, *self._p95, *self._ratio):
            column.extend(nans)
        self._within.extend(array("b", [-1]) * count)
        self.duration.grow(count)
        self.latency.grow(count)
        self._labels.extend([None] * count)  # last: a scrape sees only fully grown indices
        return range(start, start + count)

    def _reset(self, i: int) -> None:
        n = self._n_status
        self._totals[i * n : (i + 1) * n] = array("d", [0.0]) * n
        self._changes[i] = self._failed[i] = 0.0
        self._created[i] = time.time()
        self._last[i] = self._since[i] = _NAN
        self._within[i] = -1
        self.duration.reset(i)
        self.latency.reset(i)
        for column in (*self._p95, *self._ratio):
            column[i] = _NAN

    def forget(self, labels: Labels) -> None:
        i = self._index.pop(labels, None)
        if i is not None:
            self._labels[i] = None
            self._free.append(i)

    def observe(
        self,
        labels: Labels,
        status: Status,
        reason: Reason,
        duration_s: float,
        checked_at: float,
        since: float,
        changed: bool,
        first: bool,
    ) -> None:
        """One completed run. Ignored for a check not declared (removed while in flight)."""
        i = self._index.get(labels)
        if i is None:
            return
        s = _STATUS_INDEX[status]
        self.duration.observe(i, duration_s)
        self._totals[i * self._n_status + s] += 1.0
        if status is not Status.HEALTHY:
            self._failed[i] += 1.0
        self._last[i] = checked_at
        self._since[i] = since
        self._reason[i] = _REASON_INDEX[reason]
        if changed:
            if not first:
                self._changes[i] += 1.0
            self._status[i] = s

    def observe_latency(self, labels: Labels, sample_s: float) -> None:
        i = self._index.get(labels)
        if i is not None:
            self.latency.observe(i, sample_s)

    def restore(
        self, labels: Labels, status: Status, reason: Reason, checked_at: float, since: float
    ) -> None:
        i = self._index.get(labels)
        if i is not None:
            self._status[i] = _STATUS_INDEX[status]
            self._reason[i] = _REASON_INDEX[reason]
            self._last[i] = checked_at
            self._since[i] = since

    def _window(self, window: str) -> int:
        column = self._windows.get(window)
        if column is None:
            size = len(self._labels)
            self._p95.append(array("d", [_NAN]) * size)
            self._ratio.append(array("d", [_NAN]) * size)
            column = self._windows[window] = len(self._p95) - 1
        return column

    def observe_windows(
        self,
        labels: Labels,
        summaries: Iterable[tuple[str, float | None, float | None]],
        within: bool | None,
    ) -> None:
        """None leaves a value as it was: a window with no samples yet keeps what it showed."""
        i = self._index.get(labels)
        if i is None:
            return
        for window, p95, ratio in summaries:
            column = self._window(window)
            if p95 is not None:
                self._p95[column][i] = p95
            if ratio is not None:
                self._ratio[column][i] = ratio
        if within is not None:
            self._within[i] = 1 if within else 0

    def forget_windows(self, labels: Labels, windows: Iterable[str]) -> None:
        i = self._index.get(labels)
        if i is None:
            return
        for window in windows:
            column = self._windows.get(window)
            if column is not None:
                self._p95[column][i] = self._ratio[column][i] = _NAN

    # -- reads (any thread) ----------------------------------------------------------------

    def describe(self) -> Iterable[Metric]:
        """The families, without samples: lets the registry refuse a name registered twice."""
        return list(fresh_families().values())

    def collect(self) -> Iterable[Metric]:
        if getattr(self._quiet, "on", False):
            return []
        families = fresh_families()
        checks = [(i, lab) for i, lab in enumerate(list(self._labels)) if lab is not None]
        windows = list(self._windows.items())
        for i, (svc, name, kind) in checks:
            labels = {"service": svc, "check": name, "kind": kind}
            if self._detailed[i]:
                self._collect_detailed(families, i, labels, windows)
            else:
                self._collect_lean(families, i, labels)
        self.collect_services(families["service"].samples)
        # no HELP/TYPE for a family no check has (a fleet of lean checks has no window gauges)
        return [family for family in families.values() if family.samples]

    def _collect_lean(self, families: dict[str, Metric], i: int, labels: dict[str, str]) -> None:
        status = STATUS_VALUES[self._status[i]]
        why = REASON_VALUES[self._reason[i]]
        families["status"].samples.append(
            Sample("monitor_check_status", {**labels, "status": status, "reason": why}, 1.0)
        )
        latency = self.latency.samples("monitor_check_latency_seconds", i, labels, None)
        families["latency"].samples.extend(latency)
        self._collect_shared(families, i, labels, None)
        total = sum(self._totals[i * self._n_status : (i + 1) * self._n_status])
        families["totals"].samples.append(Sample("monitor_checks_total", labels, total))

    def _collect_shared(
        self, families: dict[str, Metric], i: int, labels: dict[str, str], born: float | None
    ) -> None:
        """The series both sets have: target, failures, status-since."""
        families["target"].samples.append(
            Sample(
                "monitor_check_latency_target_seconds",
                {**labels, "bucket": self.target_le(i)},
                self._target[i],
            )
        )
        failed = families["failed"].samples
        failed.append(Sample("monitor_checks_failed_total", labels, self._failed[i]))
        if born is not None:
            failed.append(Sample("monitor_checks_failed_created", labels, born))
        if (value := self._since[i]) == value:  # not NaN
            family = families["since"]
            family.samples.append(Sample(family.name, labels, value))

    def _collect_detailed(
        self,
        families: dict[str, Metric],
        i: int,
        labels: dict[str, str],
        windows: list[tuple[str, int]],
    ) -> None:
        current = self._status[i]
        status = families["status"].samples
        for s, st in enumerate(STATUS_VALUES):
            value = 1.0 if s == current else 0.0
            status.append(Sample("monitor_check_status", {**labels, "status": st}, value))
        why = REASON_VALUES[self._reason[i]]
        families["reason"].samples.append(
            Sample("monitor_check_reason", {**labels, "reason": why}, 1.0)
        )
        born = self._created[i] if self._use_created else None
        for histogram, key, metric in (
            (self.duration, "duration", "monitor_check_duration_seconds"),
            (self.latency, "latency", "monitor_check_latency_seconds"),
        ):
            families[key].samples.extend(histogram.samples(metric, i, labels, born))
        p95, ratio, burn = (families[k].samples for k in ("p95", "ratio", "burn"))
        for window, column in windows:
            wl = {**labels, "window": window}
            if (value := self._p95[column][i]) == value:  # not NaN
                p95.append(Sample("monitor_check_latency_p95_seconds", wl, value))
            if (value := self._ratio[column][i]) == value:
                ratio.append(Sample("monitor_check_over_target_ratio", wl, value))
                burn.append(Sample("monitor_check_error_budget_burn_rate", wl, burn_rate(value)))
        self._collect_shared(families, i, labels, born)
        if (within := self._within[i]) >= 0:
            families["within"].samples.append(
                Sample("monitor_check_within_target", labels, float(within))
            )
        totals, changes = families["totals"].samples, families["changes"].samples
        n = self._n_status
        for s, st in enumerate(STATUS_VALUES):
            sl = {**labels, "status": st}
            totals.append(Sample("monitor_checks_total", sl, self._totals[i * n + s]))
            if born is not None:
                totals.append(Sample("monitor_checks_created", sl, born))
        changes.append(Sample("monitor_check_status_changes_total", labels, self._changes[i]))
        if born is not None:
            changes.append(Sample("monitor_check_status_changes_created", labels, born))
        if (value := self._last[i]) == value:
            family = families["last"]
            family.samples.append(Sample(family.name, labels, value))
