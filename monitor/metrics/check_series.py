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
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import prometheus_client.metrics
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from monitor.model import Reason, Status
from monitor.slo import P95_OBJECTIVE, burn_rate

Labels = tuple[str, str, str]
"""(service, check, kind): every per-check series carries these, in this order."""

CHECK_LABELS = ("service", "check", "kind")
STATUSES = tuple(Status)
REASONS = tuple(Reason)
_STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}
_REASON_INDEX = {r: i for i, r in enumerate(REASONS)}
_UNKNOWN = _STATUS_INDEX[Status.UNKNOWN]
_NOT_CHECKED = _REASON_INDEX[Reason.NOT_CHECKED]
STATUS_VALUES = tuple(s.value for s in STATUSES)
REASON_VALUES = tuple(r.value for r in REASONS)
_NAN = math.nan

FAMILY_HELP = {
    "status": "1 for the check's current status, 0 for the other statuses.",
    "reason": "1 for the reason code of the check's current status (only the current one exists).",
    "service": "1 for the service's current status, 0 for the other statuses.",
    "duration": "Round trip of a check as the monitor measured it (request start to body read).",
    "latency": "The latency judged against the target: the service's own Server-Timing report "
    "for rpc checks when it gives one, else the round trip.",
    "p95": "Rolling p95 of the judged latency (DDSketch-mapped, 1 % relative error).",
    "target": "The check's p95 latency target.",
    "within": "1 if the 5m p95 is within target, 0 if over (absent before enough samples).",
    "ratio": "Share of samples in the window slower than the target (exact count, not sketch).",
    "burn": f"Over-target share / (1 - {P95_OBJECTIVE:g}): 1 spends the p95 budget exactly, "
    "14.4 pages.",
    "totals": "Checks run, by the status they found.",
    "changes": "Times a check's status changed.",
    "last": "Unix time of the check's last completed run.",
    "since": "Unix time at which the check's current status began.",
}


class ArrayHistogram:
    """One histogram per check: per-bucket (not cumulative) counts, +Inf last, and the sum."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.stride = len(bounds) + 1
        self.le = [floatToGoString(b) for b in bounds] + ["+Inf"]  # type: ignore[no-untyped-call]
        self.counts = array("d")
        self.sums = array("d")

    def grow(self) -> None:
        self.counts.frombytes(bytes(8 * self.stride))  # stride zeros
        self.sums.append(0.0)

    def reset(self, i: int) -> None:
        base = i * self.stride
        for j in range(base, base + self.stride):
            self.counts[j] = 0.0
        self.sums[i] = 0.0

    def observe(self, i: int, value: float) -> None:
        # a bucket holds values <= its bound, as prometheus_client's Histogram
        self.counts[i * self.stride + bisect_left(self.bounds, value)] += 1.0
        self.sums[i] += value

    def samples(
        self, name: str, i: int, labels: dict[str, str], created: float | None
    ) -> Iterator[Sample]:
        base, acc = i * self.stride, 0.0
        bucket = name + "_bucket"
        for j, le in enumerate(self.le):
            acc += self.counts[base + j]
            yield Sample(bucket, {**labels, "le": le}, acc)
        yield Sample(name + "_count", labels, acc)
        yield Sample(name + "_sum", labels, self.sums[i])
        if created is not None:
            yield Sample(name + "_created", labels, created)


class CheckSeries(Collector):
    """The per-check and per-service series of one monitor. Register it on the registry."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self._index: dict[Labels, int] = {}
        self._labels: list[Labels | None] = []  # None: a free slot
        self._free: list[int] = []
        n = len(STATUSES)
        self._n_status = n
        self._status = array("b")
        self._reason = array("b")
        self._totals = array("d")  # len(STATUSES) per check
        self._changes = array("d")
        self._created = array("d")
        self._last = array("d")  # NaN: absent
        self._since = array("d")  # NaN: absent
        self._target = array("d")
        self._within = array("b")  # -1: absent, else 0/1
        self.duration = ArrayHistogram(buckets)
        self.latency = ArrayHistogram(buckets)
        self._windows: dict[str, int] = {}  # window label -> column of _p95 and _ratio
        self._p95: list[array[float]] = []  # NaN: absent
        self._ratio: list[array[float]] = []  # NaN: absent (the burn rate follows it)
        self._service_index: dict[str, int] = {}
        self._services: list[str | None] = []
        self._service_free: list[int] = []
        self._service_status = array("b")
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

    def declare(self, labels: Labels, target: float) -> None:
        """Unknown, not checked, every counter at 0; a check declared again keeps its counts."""
        i = self._index.get(labels)
        if i is None:
            i = self._slot()
            self._labels[i] = labels
            self._index[labels] = i
        self._status[i] = _UNKNOWN
        self._reason[i] = _NOT_CHECKED
        self._target[i] = target

    def _slot(self) -> int:
        if self._free:
            i = self._free.pop()
            self._reset(i)
            return i
        i = len(self._labels)
        self._status.append(_UNKNOWN)
        self._reason.append(_NOT_CHECKED)
        self._totals.extend([0.0] * self._n_status)
        self._changes.append(0.0)
        self._created.append(time.time())
        self._last.append(_NAN)
        self._since.append(_NAN)
        self._target.append(_NAN)
        self._within.append(-1)
        self.duration.grow()
        self.latency.grow()
        for column in (*self._p95, *self._ratio):
            column.append(_NAN)
        self._labels.append(None)  # last: a scrape only sees indices whose arrays are all grown
        return i

    def _reset(self, i: int) -> None:
        for s in range(self._n_status):
            self._totals[i * self._n_status + s] = 0.0
        self._changes[i] = 0.0
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

    def declare_service(self, service: str) -> None:
        self.observe_service(service, Status.UNKNOWN)

    def observe_service(self, service: str, status: Status) -> None:
        i = self._service_index.get(service)
        if i is None:
            if self._service_free:
                i = self._service_free.pop()
            else:
                i = len(self._services)
                self._service_status.append(_UNKNOWN)
                self._services.append(None)
            self._services[i] = service
            self._service_index[service] = i
        self._service_status[i] = _STATUS_INDEX[status]

    def forget_service(self, service: str) -> None:
        i = self._service_index.pop(service, None)
        if i is not None:
            self._services[i] = None
            self._service_free.append(i)

    # -- reads (any thread) ----------------------------------------------------------------

    def describe(self) -> Iterable[Metric]:
        """The families, without samples: lets the registry refuse a name registered twice."""
        return list(_families().values())

    def collect(self) -> Iterable[Metric]:
        if getattr(self._quiet, "on", False):
            return []
        families = _families()
        status, reason = families["status"].samples, families["reason"].samples
        p95, ratio, burn = (
            families["p95"].samples,
            families["ratio"].samples,
            families["burn"].samples,
        )
        totals, changes = families["totals"].samples, families["changes"].samples
        checks = [(i, lab) for i, lab in enumerate(list(self._labels)) if lab is not None]
        windows = list(self._windows.items())
        n = self._n_status
        for i, (svc, name, kind) in checks:
            labels = {"service": svc, "check": name, "kind": kind}
            current = self._status[i]
            for s, st in enumerate(STATUS_VALUES):
                value = 1.0 if s == current else 0.0
                status.append(Sample("monitor_check_status", {**labels, "status": st}, value))
            why = REASON_VALUES[self._reason[i]]
            reason.append(Sample("monitor_check_reason", {**labels, "reason": why}, 1.0))
            born = self._created[i] if self._use_created else None
            for histogram, key, metric in (
                (self.duration, "duration", "monitor_check_duration_seconds"),
                (self.latency, "latency", "monitor_check_latency_seconds"),
            ):
                families[key].samples.extend(histogram.samples(metric, i, labels, born))
            for window, column in windows:
                wl = {**labels, "window": window}
                if (value := self._p95[column][i]) == value:  # not NaN
                    p95.append(Sample("monitor_check_latency_p95_seconds", wl, value))
                if (value := self._ratio[column][i]) == value:
                    ratio.append(Sample("monitor_check_over_target_ratio", wl, value))
                    burn.append(
                        Sample("monitor_check_error_budget_burn_rate", wl, burn_rate(value))
                    )
            families["target"].samples.append(
                Sample("monitor_check_latency_target_seconds", labels, self._target[i])
            )
            if (within := self._within[i]) >= 0:
                families["within"].samples.append(
                    Sample("monitor_check_within_target", labels, float(within))
                )
            for s, st in enumerate(STATUS_VALUES):
                sl = {**labels, "status": st}
                totals.append(Sample("monitor_checks_total", sl, self._totals[i * n + s]))
                if born is not None:
                    totals.append(Sample("monitor_checks_created", sl, born))
            changes.append(Sample("monitor_check_status_changes_total", labels, self._changes[i]))
            if born is not None:
                changes.append(Sample("monitor_check_status_changes_created", labels, born))
            for key, values in (("last", self._last), ("since", self._since)):
                if (value := values[i]) == value:
                    family = families[key]
                    family.samples.append(Sample(family.name, labels, value))
        service = families["service"].samples
        for i, name in [(i, s) for i, s in enumerate(list(self._services)) if s is not None]:
            current = self._service_status[i]
            for s, st in enumerate(STATUS_VALUES):
                value = 1.0 if s == current else 0.0
                service.append(
                    Sample("monitor_service_status", {"service": name, "status": st}, value)
                )
        return list(families.values())


FAMILIES = (
    ("status", "monitor_check_status", "gauge"),
    ("reason", "monitor_check_reason", "gauge"),
    ("service", "monitor_service_status", "gauge"),
    ("duration", "monitor_check_duration_seconds", "histogram"),
    ("latency", "monitor_check_latency_seconds", "histogram"),
    ("p95", "monitor_check_latency_p95_seconds", "gauge"),
    ("target", "monitor_check_latency_target_seconds", "gauge"),
    ("within", "monitor_check_within_target", "gauge"),
    ("ratio", "monitor_check_over_target_ratio", "gauge"),
    ("burn", "monitor_check_error_budget_burn_rate", "gauge"),
    ("totals", "monitor_checks", "counter"),
    ("changes", "monitor_check_status_changes", "counter"),
    ("last", "monitor_check_last_run_timestamp_seconds", "gauge"),
    ("since", "monitor_check_status_since_timestamp_seconds", "gauge"),
)


def _families() -> dict[str, Metric]:
    """Fresh, empty families in a fixed order (a scrape fills its own)."""
    return {key: Metric(name, FAMILY_HELP[key], kind) for key, name, kind in FAMILIES}
