"""The Prometheus text of a CheckSeries, written straight from its arrays.

`generate_latest` makes a Sample tuple and a label dict per series, then sorts and escapes
each one: at ~90 series a check, 4 s and ~330 MB of transient objects at 10,000 checks
(bench/metrics_memory.py). This writes the same lines (labels in sorted order, values via
prometheus_client's own float formatting, `_created` blocks after their family, as
`generate_latest` does), family by family, in bytes chunks of a few thousand checks, so a
scrape's peak is about the size of the text. tests/test_check_metrics_text.py asserts the
lines are exactly `generate_latest`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.utils import floatToGoString

from monitor.metrics.check_series import REASON_VALUES, CheckSeries
from monitor.metrics.families import DETAILED_ONLY, FAMILIES, FAMILY_HELP
from monitor.metrics.histograms import ArrayHistogram
from monitor.metrics.service_series import STATUS_VALUES
from monitor.slo import P95_BUDGET

_BATCH = 2000  # checks per chunk
_fmt: Callable[[float], str] = floatToGoString


def _q(value: str) -> str:
    """A label value as generate_latest escapes it."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _head(name: str, key: str, kind: str) -> str:
    doc = FAMILY_HELP[key].replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {name} {doc}\n# TYPE {name} {kind}\n"


def text_chunks(series: CheckSeries) -> list[bytes]:
    """Every per-check and per-service family, in the order `collect()` yields them."""
    checks = [
        (i, f'check="{_q(c)}",kind="{_q(k)}"', f'service="{_q(s)}"')
        for i, lab in enumerate(list(series._labels))
        if lab is not None
        for s, c, k in (lab,)
    ]
    detailed = [check for check in checks if series._detailed[check[0]]]
    windows = [(f',window="{_q(w)}"}} ', column) for w, column in list(series._windows.items())]
    out: list[bytes] = []
    for key, name, kind in FAMILIES:
        if key == "service":
            if series._service_index:
                out.append(_service(series, name, kind).encode())
            continue
        created = key in ("duration", "latency", "totals", "changes", "failed")
        shown = f"{name}_total" if kind == "counter" else name
        some = detailed if key in DETAILED_ONLY else checks
        body = [
            "".join(_LINES[key](series, some[start : start + _BATCH], windows)).encode()
            for start in range(0, len(some), _BATCH)
        ]
        if not any(body):
            continue  # no HELP/TYPE for a family without samples: collect() leaves it out
        out.append(_head(shown, key, kind).encode())
        out.extend(chunk for chunk in body if chunk)
        if created and series._use_created and detailed:
            out.append(_head(f"{name}_created", key, "gauge").encode())
            for start in range(0, len(detailed), _BATCH):
                batch = detailed[start : start + _BATCH]
                out.append("".join(_created_lines(series, key, name, batch)).encode())
    return out


Batch = list[tuple[int, str, str]]
Windows = list[tuple[str, int]]
Lines = Callable[[CheckSeries, Batch, Windows], Iterator[str]]


def _status(series: CheckSeries, batch: Batch, _: Windows) -> Iterator[str]:
    for i, ck, sv in batch:
        current = series._status[i]
        if not series._detailed[i]:
            why = REASON_VALUES[series._reason[i]]
            st = STATUS_VALUES[current]
            yield f'monitor_check_status{{{ck},reason="{why}",{sv},status="{st}"}} 1.0\n'
            continue
        for s, st in enumerate(STATUS_VALUES):
            value = "1.0" if s == current else "0.0"
            yield f'monitor_check_status{{{ck},{sv},status="{st}"}} {value}\n'


def _reason(series: CheckSeries, batch: Batch, _: Windows) -> Iterator[str]:
    for i, ck, sv in batch:
        why = REASON_VALUES[series._reason[i]]
        yield f'monitor_check_reason{{{ck},reason="{why}",{sv}}} 1.0\n'


def _histogram(name: str, histogram: ArrayHistogram, batch: Batch) -> Iterator[str]:
    counts, sums, stride, les = histogram.counts, histogram.sums, histogram.stride, histogram.les
    for i, ck, sv in batch:
        base, acc = i * stride, 0.0
        for j, le in enumerate(les[i]):
            acc += counts[base + j]
            yield f'{name}_bucket{{{ck},le="{le}",{sv}}} {_fmt(acc)}\n'
        yield f"{name}_count{{{ck},{sv}}} {_fmt(acc)}\n"
        yield f"{name}_sum{{{ck},{sv}}} {_fmt(sums[i])}\n"


def _per_window(name: str, p95: bool, scale: float) -> Lines:
    def lines(series: CheckSeries, batch: Batch, windows: Windows) -> Iterator[str]:
        columns = series._p95 if p95 else series._ratio
        for i, ck, sv in batch:
            for tail, column in windows:
                value = columns[column][i]
                if value == value:  # not NaN
                    yield f"{name}{{{ck},{sv}{tail}{_fmt(value / scale)}\n"

    return lines


def _plain(name: str, attr: str) -> Lines:
    def lines(series: CheckSeries, batch: Batch, _: Windows) -> Iterator[str]:
        values = getattr(series, attr)
        for i, ck, sv in batch:
            value = values[i]
            if value == value and not (attr == "_within" and value < 0):  # NaN, -1: absent
                yield f"{name}{{{ck},{sv}}} {_fmt(float(value))}\n"

    return lines


def _target(series: CheckSeries, batch: Batch, _: Windows) -> Iterator[str]:
    name = "monitor_check_latency_target_seconds"
    for i, ck, sv in batch:
        le = series.target_le(i)
        yield f'{name}{{bucket="{le}",{ck},{sv}}} {_fmt(series._target[i])}\n'


def _totals(series: CheckSeries, batch: Batch, _: Windows) -> Iterator[str]:
    n, totals = len(STATUS_VALUES), series._totals
    for i, ck, sv in batch:
        if not series._detailed[i]:
            yield f"monitor_checks_total{{{ck},{sv}}} {_fmt(sum(totals[i * n : i * n + n]))}\n"
            continue
        for s, st in enumerate(STATUS_VALUES):
            yield f'monitor_checks_total{{{ck},{sv},status="{st}"}} {_fmt(totals[i * n + s])}\n'


def _created_lines(series: CheckSeries, key: str, name: str, batch: Batch) -> Iterator[str]:
    created = series._created
    for i, ck, sv in batch:
        born = _fmt(created[i])
        if key == "totals":
            for st in STATUS_VALUES:
                yield f'{name}_created{{{ck},{sv},status="{st}"}} {born}\n'
        else:
            yield f"{name}_created{{{ck},{sv}}} {born}\n"


def _service(series: CheckSeries, name: str, kind: str) -> str:
    lines = [_head(name, "service", kind)]
    for i, svc in enumerate(list(series._services)):
        if svc is None:
            continue
        current, every = series._service_status[i], series._service_detailed[i]
        for s, st in enumerate(STATUS_VALUES):
            if s != current and not every:
                continue
            value = "1.0" if s == current else "0.0"
            lines.append(f'{name}{{service="{_q(svc)}",status="{st}"}} {value}\n')
    return "".join(lines)


_LINES: dict[str, Lines] = {
    "status": _status,
    "reason": _reason,
    "duration": lambda s, b, _: _histogram("monitor_check_duration_seconds", s.duration, b),
    "latency": lambda s, b, _: _histogram("monitor_check_latency_seconds", s.latency, b),
    "p95": _per_window("monitor_check_latency_p95_seconds", True, 1.0),
    "target": _target,
    "within": _plain("monitor_check_within_target", "_within"),
    "ratio": _per_window("monitor_check_over_target_ratio", False, 1.0),
    # burn_rate() with its checks taken out of the per-series loop: ratios are in [0, 1] here.
    "burn": _per_window("monitor_check_error_budget_burn_rate", False, P95_BUDGET),
    "totals": _totals,
    "failed": _plain("monitor_checks_failed_total", "_failed"),
    "changes": _plain("monitor_check_status_changes_total", "_changes"),
    "last": _plain("monitor_check_last_run_timestamp_seconds", "_last"),
    "since": _plain("monitor_check_status_since_timestamp_seconds", "_since"),
}
