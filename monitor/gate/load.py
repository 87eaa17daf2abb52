"""The load gate's pure core: the plan, what a run recorded, and the judgement of it.

Open model: request `k` is due at `start + k / rate` whatever earlier ones do, and its latency
is counted from that intended time, so a server that stalls is charged for every request that
fell due during the stall (a closed-loop client stops sending then, and under-reports the tail:
coordinated omission). The time from the actual send is kept apart as the service time. No I/O,
no clock: every time is a parameter (perf_counter seconds), so the generator (open_loop.py)
and the tests feed the same code.

Quantiles are nearest-rank over DDSketch's logarithmic buckets, the mapping latency.py uses:
within 1 % of the true sample at that rank (p99.9 included), with exact counts and an exact max.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ddsketch.mapping import LogarithmicMapping

from monitor.config import Check, ServiceConfig

__all__ = [
    "MIN_ACHIEVED_SHARE",
    "SCHEDULE_SLACK_S",
    "Histogram",
    "LoadPlan",
    "LoadRecorder",
    "LoadResult",
    "Threshold",
    "judge_load",
]

RELATIVE_ACCURACY = 0.01
MIN_ACHIEVED_SHARE = 0.99
"""The run fails below 99 % of the requested rate: a lower rate is not the load asked for."""
SCHEDULE_SLACK_S = 0.002
"""The generator held the schedule when its p99 send lag (actual minus intended send time) is
within this. It is the generator's own lateness, not the server's: waiting for a free
connection counts, a slow answer does not. `--schedule-slack` changes it."""
QUANTILES = (("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999))

_MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)
_ZERO_KEY = -(1 << 31)  # below a nanosecond: counted, read back as 0


class Histogram:
    """Counts per logarithmic bucket: any quantile within 1 %, exact count and max, a few KB."""

    __slots__ = ("_counts", "count", "max")

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self.count = 0
        self.max = 0.0

    def add(self, value_s: float) -> None:
        key = _MAPPING.key(value_s) if value_s >= 1e-9 else _ZERO_KEY
        self._counts[key] = self._counts.get(key, 0) + 1
        self.count += 1
        if value_s > self.max:
            self.max = value_s

    def merge(self, other: Histogram) -> None:
        for key, n in other._counts.items():
            self._counts[key] = self._counts.get(key, 0) + n
        self.count += other.count
        self.max = max(self.max, other.max)

    def quantiles(self, qs: Sequence[float]) -> list[float | None]:
        """Nearest-rank: the sample at rank ceil(q * count), never above the exact max."""
        if not self.count:
            return [None] * len(qs)
        ranks = [max(1, math.ceil(q * self.count - 1e-9)) for q in qs]
        found: list[float | None] = []
        seen = 0
        for key in sorted(self._counts):
            seen += self._counts[key]
            while len(found) < len(ranks) and seen >= ranks[len(found)]:
                value = 0.0 if key == _ZERO_KEY else float(_MAPPING.value(key))
                found.append(min(value, self.max))
        return found

    def summary_ms(self) -> dict[str, float | None]:
        """p50, p90, p95, p99, p999 and max in milliseconds (None without samples)."""
        values = self.quantiles([q for _, q in QUANTILES])
        out = {name: _ms(v) for (name, _), v in zip(QUANTILES, values, strict=True)}
        out["max"] = _ms(self.max) if self.count else None
        return out


def _ms(value_s: float | None) -> float | None:
    return None if value_s is None else round(value_s * 1000.0, 3)


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What to send: `rate` requests a second for `duration` s after `warmup` s (sent on the
    same schedule, not recorded), thresholds to judge. Limits are seconds and ratios."""

    url: str
    rate: float
    duration: float
    warmup: float = 0.0
    connections: int = 64
    timeout: float = 5.0
    method: str = "GET"
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    max_body_bytes: int = 65536
    target_p95: float | None = None
    target_p99: float | None = None
    max_error_ratio: float | None = 0.001
    schedule_slack: float = SCHEDULE_SLACK_S

    @property
    def warmup_requests(self) -> int:
        return round(self.warmup * self.rate)

    @property
    def measured_requests(self) -> int:
        return max(1, round(self.duration * self.rate))

    def intended(self, index: int, start: float) -> float:
        """When request `index` (warm-up ones first) is due, from the schedule's `start`."""
        return start + index / self.rate


@dataclass
class Second:
    """One second of the measured run, by intended send time."""

    requests: int = 0
    errors: int = 0
    latency: Histogram = field(default_factory=Histogram)


class LoadRecorder:
    """What the measured requests did; `start` is the intended time of the first one."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.latency = Histogram()
        self.service = Histogram()
        self.send_lag = Histogram()
        self.errors: Counter[str] = Counter()
        self.seconds: list[Second] = []
        self.sent = 0
        self.last_sent = start
        self.waited_for_connection = 0

    def _second(self, intended: float) -> Second:
        index = max(0, int(intended - self.start))
        while len(self.seconds) <= index:
            self.seconds.append(Second())
        return self.seconds[index]

    def record_sent(self, intended: float, sent: float, waited_for_connection: bool) -> None:
        self.sent += 1
        self.last_sent = max(self.last_sent, sent)
        self.send_lag.add(max(0.0, sent - intended))
        self.waited_for_connection += waited_for_connection

    def record_answer(
        self, intended: float, sent: float, received: float, error: str | None
    ) -> None:
        """A complete HTTP answer: its latency counts whatever it said; `error` is the reason
        the normalizer gave a degraded or unhealthy verdict."""
        latency = max(0.0, received - intended)
        second = self._second(intended)
        second.requests += 1
        second.latency.add(latency)
        self.latency.add(latency)
        self.service.add(max(0.0, received - sent))
        if error is not None:
            second.errors += 1
            self.errors[error] += 1

    def record_failure(self, intended: float, error: str) -> None:
        """No complete answer (timeout, reset, refused): an error, and no latency sample."""
        second = self._second(intended)
        second.requests += 1
        second.errors += 1
        self.errors[error] += 1

    @property
    def finished(self) -> int:
        """Measured requests with an outcome: an answer or a failure."""
        return sum(s.requests for s in self.seconds)


@dataclass(frozen=True, slots=True)
class Threshold:
    """One rule of the verdict: `value` against `limit`, in the unit its name says."""

    name: str
    limit: float
    value: float | None
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class LoadResult:
    """The judged run. `to_json` gives the contract's keys; the rest is for people."""

    url: str
    requested_rate: float
    achieved_rate: float
    duration_s: float
    requests: int
    errors: dict[str, int]
    latency_ms: dict[str, float | None]
    service_time_ms: dict[str, float | None]
    thresholds: list[Threshold]
    per_second: list[tuple[int, int, int, float | None, float | None]]
    """(second, requests, errors, p95 ms, max ms) by intended send time."""
    send_lag_ms: dict[str, float | None]
    waited_for_connection: int
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.thresholds)

    @property
    def failed(self) -> list[Threshold]:
        return [t for t in self.thresholds if not t.ok]

    def to_json(self) -> dict[str, object]:
        return {
            "requested_rate": self.requested_rate,
            "achieved_rate": self.achieved_rate,
            "duration_s": self.duration_s,
            "requests": self.requests,
            "errors": dict(self.errors),
            "latency_ms": self.latency_ms,
            "service_time_ms": self.service_time_ms,
            "thresholds": [
                {"name": t.name, "limit": t.limit, "value": t.value, "ok": t.ok}
                for t in self.thresholds
            ],
            "ok": self.ok,
        }


def judge_load(
    plan: LoadPlan,
    recorder: LoadRecorder,
    elapsed: float,
    *,
    interrupted: bool = False,
    connections_used: int = 0,
) -> LoadResult:
    """The verdict of a run that lasted `elapsed` s of its measured `plan.duration`."""
    duration = max(min(elapsed, plan.duration) if interrupted else plan.duration, 1e-9)
    # Requests that left after the window (a generator behind schedule) stretch the time
    # they took to send, so falling behind never reads as the requested rate.
    sending = max(duration, recorder.last_sent - recorder.start)
    achieved = recorder.sent / sending
    requests = recorder.finished
    lag = recorder.send_lag.summary_ms()
    thresholds = [
        Threshold(
            "achieved_rate",
            round(plan.rate * MIN_ACHIEVED_SHARE, 3),
            round(achieved, 3),
            achieved >= plan.rate * MIN_ACHIEVED_SHARE,
            f"{achieved:.1f} req/s sent of {plan.rate:g} requested",
        ),
        _schedule_threshold(plan, recorder, lag["p99"], connections_used),
    ]
    if interrupted:
        thresholds.append(
            Threshold(
                "duration_s",
                plan.duration,
                round(elapsed, 3),
                False,
                f"interrupted after {elapsed:.1f} of {plan.duration:g} s",
            )
        )
    latency = recorder.latency.summary_ms()
    for name, limit, key in (
        ("p95_ms", plan.target_p95, "p95"),
        ("p99_ms", plan.target_p99, "p99"),
    ):
        if limit is not None:
            value = latency[key]
            limit_ms = round(limit * 1000.0, 3)
            thresholds.append(
                Threshold(
                    name,
                    limit_ms,
                    value,
                    value is not None and value <= limit_ms,
                    f"{key} {_fmt_ms(value)} from the intended send time, target {limit_ms:g} ms",
                )
            )
    if plan.max_error_ratio is not None:
        errors = recorder.errors.total()
        ratio = errors / requests if requests else None
        worst = ", ".join(f"{reason} {n}" for reason, n in recorder.errors.most_common(3))
        thresholds.append(
            Threshold(
                "error_ratio",
                plan.max_error_ratio,
                None if ratio is None else round(ratio, 6),
                ratio is not None and ratio <= plan.max_error_ratio,
                f"{errors} of {requests} requests failed" + (f" ({worst})" if worst else ""),
            )
        )
    return LoadResult(
        url=plan.url,
        requested_rate=plan.rate,
        achieved_rate=round(achieved, 3),
        duration_s=round(duration, 3),
        requests=requests,
        errors=dict(recorder.errors.most_common()),
        latency_ms=latency,
        service_time_ms=recorder.service.summary_ms(),
        thresholds=thresholds,
        per_second=[
            (i, s.requests, s.errors, *_p95_max(s.latency)) for i, s in enumerate(recorder.seconds)
        ],
        send_lag_ms=lag,
        waited_for_connection=recorder.waited_for_connection,
        interrupted=interrupted,
    )


def _p95_max(histogram: Histogram) -> tuple[float | None, float | None]:
    summary = histogram.summary_ms()
    return summary["p95"], summary["max"]


def _schedule_threshold(
    plan: LoadPlan, recorder: LoadRecorder, lag_p99: float | None, connections_used: int
) -> Threshold:
    limit = round(plan.schedule_slack * 1000.0, 3)
    ok = lag_p99 is not None and lag_p99 <= limit
    if ok or lag_p99 is None:
        detail = f"p99 send lag {_fmt_ms(lag_p99)}"
    elif recorder.waited_for_connection * 100 >= max(1, recorder.sent):
        detail = (
            f"the generator could not keep the schedule: connections exhausted "
            f"({recorder.waited_for_connection} requests waited for one of {connections_used}"
            f" busy connections; raise --connections); p99 send lag {_fmt_ms(lag_p99)}"
        )
    else:
        detail = (
            f"the generator could not keep the schedule: it was short of CPU "
            f"(p99 send lag {_fmt_ms(lag_p99)}); lower --rate or run it on a quieter machine"
        )
    return Threshold("send_lag_p99_ms", limit, lag_p99, ok, detail)


def _fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f} ms"


def configured_plan(
    service: ServiceConfig, checks: Sequence[Check], check_name: str | None = None
) -> LoadPlan:
    """The plan a service's `load:` section describes (LookupError without one): its check's
    URL, method, headers, timeout and body cap; targets default to the check's p95 target."""
    load = service.load
    if load is None:
        raise LookupError(f"service {service.name!r} has no load: section")
    name = check_name or load.check
    check = next((c for c in checks if c.service == service.name and c.name == name), None)
    if check is None:
        known = ", ".join(c.name for c in checks if c.service == service.name)
        raise LookupError(f"service {service.name!r} has no check {name!r}; it has {known}")
    return LoadPlan(
        url=check.url,
        rate=load.rate,
        duration=load.duration,
        warmup=load.warmup,
        connections=load.connections or default_connections(load.rate),
        timeout=check.timeout,
        method=check.method,
        headers=tuple((k, v.get_secret_value()) for k, v in check.headers.items()),
        max_body_bytes=check.max_body_bytes,
        target_p95=load.target_p95 or check.target,
        target_p99=load.target_p99,
        max_error_ratio=load.max_error_ratio,
    )


def default_connections(rate: float) -> int:
    """Enough for half a second of requests in flight (a 200 ms stall at 1,000/s needs 200),
    at least 16, at most 1,024."""
    return min(1024, max(16, math.ceil(rate * 0.5)))
