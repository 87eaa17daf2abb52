"""The GraphQL answer to one `analytics` verdict per service. Pure: no I/O, no clock.

Unknown means `unknown`: a GraphQL `errors[]`, a node missing from `data`, a number that is not
one, an HTTP failure: the services that depend on it get `unknown` (`analytics_unavailable`)
with the reason, never `healthy` and never a guess. The service's roll-up ignores an unknown
analytics check (monitor/status.py), so an API outage leaves its health as the probes see it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from monitor.config import MonitorConfig, ServiceConfig
from monitor.durations import format_duration
from monitor.model import Reason, Status, Verdict

UNHEALTHY_FACTOR = 10.0
"""An error ratio this many times the target is `unhealthy`, not only `degraded`."""
CPU_MICROSECONDS = 1e-6
"""`cpuTimeP50`/`cpuTimeP99` are microseconds; everything we export is seconds."""
DETAIL_CHARS = 200
CLOUDFLARE_ERROR_CODES = {"scriptThrewException": 1101, "exceededResources": 1102}
"""The `status` dimension's values that are the Workers error pages users see."""


@dataclass(frozen=True, slots=True)
class WorkerTraffic:
    """One Worker's invocations over the window, summed over its `status` rows."""

    requests: int = 0
    errors: int = 0
    subrequests: int = 0
    cpu_p50_s: float = 0.0
    cpu_p99_s: float = 0.0
    error_statuses: Mapping[str, int] = field(default_factory=dict)

    @property
    def error_ratio(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class QueueActivity:
    backlog_messages: float = 0.0
    consumed: int = 0
    """Read operations (a consumer pulling or being handed a batch) over the window."""


@dataclass(frozen=True, slots=True)
class FleetTraffic:
    """What one answer said. A node that could not be read is `None` with `problems` saying why."""

    workers: Mapping[str, WorkerTraffic] | None
    queues: Mapping[str, QueueActivity] | None
    problems: tuple[str, ...] = ()


class AnalyticsUnavailable(Exception):
    """The API did not answer with data: the reason goes into every analytics check."""


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: expected a number, got {str(value)[:40]!r}")
    return float(value)


def _workers(rows: Any) -> dict[str, WorkerTraffic]:
    if not isinstance(rows, list):
        raise ValueError("workersInvocationsAdaptive: expected a list")
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        dims, sums, quantiles = row.get("dimensions"), row.get("sum"), row.get("quantiles")
        script, status = dims.get("scriptName"), str(dims.get("status") or "")
        if not isinstance(script, str):
            raise ValueError("workersInvocationsAdaptive: a row without scriptName")
        t = totals.setdefault(script, {"r": 0, "e": 0, "s": 0, "p50": 0.0, "p99": 0.0, "by": {}})
        requests = int(_number(sums.get("requests"), "sum.requests"))
        errors = int(_number(sums.get("errors"), "sum.errors"))
        t["r"] += requests
        t["e"] += errors
        t["s"] += int(_number(sums.get("subrequests"), "sum.subrequests"))
        # quantiles do not add up across rows: the worst row's is the bound we can state
        t["p50"] = max(t["p50"], _number(quantiles.get("cpuTimeP50"), "cpuTimeP50"))
        t["p99"] = max(t["p99"], _number(quantiles.get("cpuTimeP99"), "cpuTimeP99"))
        if errors:
            t["by"][status or "error"] = t["by"].get(status or "error", 0) + errors
    return {
        script: WorkerTraffic(
            t["r"],
            t["e"],
            t["s"],
            t["p50"] * CPU_MICROSECONDS,
            t["p99"] * CPU_MICROSECONDS,
            t["by"],
        )
        for script, t in totals.items()
    }


def _queues(backlog: Any, operations: Any) -> dict[str, QueueActivity]:
    if not isinstance(backlog, list) or not isinstance(operations, list):
        raise ValueError("queue datasets: expected lists")
    found: dict[str, QueueActivity] = {}
    for row in backlog:
        queue = row["dimensions"]["queueId"]
        found[queue] = QueueActivity(_number(row["avg"]["messages"], "avg.messages"))
    for row in operations:
        queue, action = row["dimensions"]["queueId"], row["dimensions"].get("actionType")
        if action == "ReadMessage":
            old = found.get(queue, QueueActivity())
            read = int(_number(row["count"], "count"))
            found[queue] = QueueActivity(old.backlog_messages, old.consumed + read)
    return found


def read_answer(http_status: int, body: Any) -> FleetTraffic:
    """Parse a decoded JSON answer; raise `AnalyticsUnavailable` when it holds no data at all."""
    if http_status != 200:
        raise AnalyticsUnavailable(f"analytics API answered HTTP {http_status}")
    if not isinstance(body, dict):
        raise AnalyticsUnavailable("analytics API answered something that is not a JSON object")
    problems = tuple(
        str(e.get("message", e))[:DETAIL_CHARS] if isinstance(e, dict) else str(e)[:DETAIL_CHARS]
        for e in (body.get("errors") or [])
    )
    try:
        account = body["data"]["viewer"]["accounts"][0]
    except (KeyError, IndexError, TypeError):
        reason = problems[0] if problems else "no data in the answer"
        raise AnalyticsUnavailable(f"analytics API: {reason}") from None
    if not isinstance(account, dict):
        raise AnalyticsUnavailable("analytics API: no data for the account")
    workers: dict[str, WorkerTraffic] | None = None
    queues: dict[str, QueueActivity] | None = None
    found = list(problems)
    try:
        if account.get("workers") is not None:
            workers = _workers(account["workers"])
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        found.append(f"unreadable Workers data: {exc}"[:DETAIL_CHARS])
    try:
        if account.get("backlog") is not None and account.get("operations") is not None:
            queues = _queues(account["backlog"], account["operations"])
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        found.append(f"unreadable Queues data: {exc}"[:DETAIL_CHARS])
    return FleetTraffic(workers, queues, tuple(found))


def retry_after_seconds(value: str | None, now: datetime, default: float) -> float:
    """`Retry-After` as seconds from `now`: delta-seconds or an HTTP date; `default` if absent
    or unreadable (Cloudflare blocks for 5 minutes after the quota is exceeded)."""
    if value:
        text = value.strip()
        if text.isdigit():
            return float(text)
        try:
            return max(0.0, (parsedate_to_datetime(text) - now).total_seconds())
        except (TypeError, ValueError):
            pass
    return default


def backlog_growing(history: Sequence[QueueActivity], intervals: int) -> bool:
    """The backlog rose in each of the last `intervals` steps while nothing was consumed."""
    recent = list(history)[-(intervals + 1) :]
    if len(recent) <= intervals:
        return False
    rising = all(b.backlog_messages > a.backlog_messages for a, b in itertools.pairwise(recent))
    return rising and all(q.consumed == 0 for q in recent[1:])


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.2g} %" if ratio < 0.1 else f"{ratio * 100:.0f} %"


def unavailable(reason: str) -> Verdict:
    return Verdict(
        status=Status.UNKNOWN, reason=Reason.ANALYTICS_UNAVAILABLE, detail=reason[:DETAIL_CHARS]
    )


def service_verdict(
    service: ServiceConfig,
    traffic: FleetTraffic,
    window_s: float,
    queue_history: Mapping[str, Sequence[QueueActivity]],
    backlog_intervals: int,
) -> Verdict:
    """Judge one service's real traffic against its targets."""
    if traffic.workers is None:
        return unavailable("analytics: " + ("; ".join(traffic.problems) or "no Workers data"))
    worker = traffic.workers.get(service.worker_name, WorkerTraffic())
    targets = service.analytics
    over = f"over the last {format_duration(window_s)}"
    if not worker.requests:
        text = f"real traffic: no requests {over}"
    else:
        text = f"real traffic: {_percent(worker.error_ratio)} errors {over} "
        text += f"({worker.errors:,} of {worker.requests:,} requests"
        if worker.error_statuses:
            worst = max(worker.error_statuses.items(), key=lambda kv: kv[1])
            code = CLOUDFLARE_ERROR_CODES.get(worst[0])
            text += f", mostly {worst[0]}" + (f" (error {code})" if code else "")
        text += f"); CPU p99 {worker.cpu_p99_s * 1000:.1f} ms"
    status, reason = Status.HEALTHY, Reason.OK
    if worker.requests and worker.error_ratio > targets.error_ratio:
        factor = UNHEALTHY_FACTOR * targets.error_ratio
        status = Status.UNHEALTHY if worker.error_ratio >= factor else Status.DEGRADED
        reason = Reason.ERROR_RATE_HIGH
        text += f"; error ratio target {_percent(targets.error_ratio)}"
    elif worker.requests and worker.cpu_p99_s > targets.cpu_p99:
        status, reason = Status.DEGRADED, Reason.CPU_NEAR_LIMIT
        text += f"; CPU p99 target {targets.cpu_p99 * 1000:.1f} ms"
    if status is Status.HEALTHY and service.queues:
        if traffic.queues is None:
            return unavailable("analytics: " + ("; ".join(traffic.problems) or "no Queues data"))
        for queue in service.queues:
            if backlog_growing(queue_history.get(queue.queue_id, ()), backlog_intervals):
                last = queue_history[queue.queue_id][-1].backlog_messages
                status, reason = Status.DEGRADED, Reason.QUEUE_BACKLOG_GROWING
                text = (
                    f"queue {queue.name}: backlog grew for {backlog_intervals} intervals to "
                    f"{last:,.0f} messages with no consumption; {text}"
                )
                break
    return Verdict(status=status, reason=reason, detail=text[:DETAIL_CHARS])


def fleet_verdicts(
    config: MonitorConfig,
    traffic: FleetTraffic,
    window_s: float,
    queue_history: Mapping[str, Sequence[QueueActivity]],
) -> dict[str, Verdict]:
    """One verdict per service name."""
    assert config.cloudflare is not None
    n = config.cloudflare.backlog_intervals
    return {
        s.name: service_verdict(s, traffic, window_s, queue_history, n) for s in config.services
    }
