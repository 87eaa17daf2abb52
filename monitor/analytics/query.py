"""The one GraphQL query per interval for the whole fleet. Pure: the window is a parameter.

Built only from Cloudflare's documented datasets (docs/cloudflare.md): `workersInvocationsAdaptive`
grouped by `scriptName` and `status`, and, when queues are configured,
`queueBacklogAdaptiveGroups` and `queueMessageOperationsAdaptiveGroups` grouped by `queueId`.
One account scope times at most three nodes is three "queries" of the 300 per 5 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.config import MonitorConfig

WORKER_ROWS_PER_SCRIPT = 8
"""Status values a Worker's rows may be split by (success, scriptThrewException, ...)."""
MAX_LIMIT = 10_000
"""The largest `limit` an adaptive dataset accepts."""

WORKERS_NODE = "workersInvocationsAdaptive"
BACKLOG_NODE = "queueBacklogAdaptiveGroups"
OPERATIONS_NODE = "queueMessageOperationsAdaptiveGroups"

_WORKERS = """
      workers: workersInvocationsAdaptive(
        limit: $workerRows
        filter: {datetime_geq: $start, datetime_leq: $end, scriptName_in: $scripts}
      ) {
        sum { requests errors subrequests }
        quantiles { cpuTimeP50 cpuTimeP99 }
        dimensions { scriptName status }
      }"""
_QUEUES = """
      backlog: queueBacklogAdaptiveGroups(
        limit: $queueRows
        filter: {datetime_geq: $start, datetime_leq: $end, queueId_in: $queues}
      ) {
        avg { messages bytes }
        dimensions { queueId }
      }
      operations: queueMessageOperationsAdaptiveGroups(
        limit: $queueRows
        filter: {datetime_geq: $start, datetime_leq: $end, queueId_in: $queues}
      ) {
        count
        dimensions { queueId actionType }
      }"""


@dataclass(frozen=True, slots=True)
class Window:
    """A closed interval of whole seconds: `[start, end]`, as the API's `_geq`/`_leq` take it."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds() + 1


def last_complete_interval(now: datetime, interval: float) -> Window:
    """The interval-aligned window that ended before `now` (a partial one would under-count)."""
    step = max(1, int(interval))
    epoch = int(now.timestamp())
    end = epoch - epoch % step
    start = end - step
    return Window(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end - 1, UTC))


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fleet_query(config: MonitorConfig, window: Window) -> dict[str, Any]:
    """The request body (`query` and `variables`) for every service's Worker and queues."""
    assert config.cloudflare is not None
    scripts = sorted({s.worker_name for s in config.services})
    queues = sorted({q.queue_id for s in config.services for q in s.queues})
    params = ["$accountTag: string!", "$start: Time!", "$end: Time!"]
    params += ["$scripts: [string!]!", "$workerRows: uint64!"]
    nodes = _WORKERS
    variables: dict[str, Any] = {
        "accountTag": config.cloudflare.account_id,
        "start": _time(window.start),
        "end": _time(window.end),
        "scripts": scripts,
        "workerRows": min(MAX_LIMIT, max(1, len(scripts)) * WORKER_ROWS_PER_SCRIPT),
    }
    if queues:
        params += ["$queues: [string!]!", "$queueRows: uint64!"]
        nodes += _QUEUES
        variables["queues"] = queues
        variables["queueRows"] = min(MAX_LIMIT, len(queues) * 4)
    query = (
        f"query FleetAnalytics({', '.join(params)}) {{\n"
        "  viewer {\n"
        "    accounts(filter: {accountTag: $accountTag}) {"
        f"{nodes}\n    }}\n  }}\n}}\n"
    )
    return {"query": query, "variables": variables}


def queries_per_request(config: MonitorConfig) -> int:
    """What one request costs of the 300-per-5-minutes quota: scopes times nodes."""
    has_queues = any(s.queues for s in config.services)
    return 1 + (2 if has_queues else 0)


def shift(window: Window, intervals: int) -> Window:
    """`window` moved by whole intervals (the simulator and tests step time with it)."""
    step = timedelta(seconds=window.seconds * intervals)
    return Window(window.start + step, window.end + step)
