"""Cloudflare's GraphQL Analytics endpoint, simulated: the documented query shape, answered
from the simulated fleet's traffic, on loopback.

Queries are parsed and validated against `SCHEMA_SDL`, the subset of the real schema this
simulator implements (the datasets and fields docs/cloudflare.md cites): an unknown dataset,
field, argument or variable type is a GraphQL error in `errors[]` with `data: null`, as the
real API answers, so a wrong query fails a test instead of passing against a lenient fake.
Tests and the demo steer it through `SimAnalytics` (error bursts, 429s, outages).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import graphql
from aiohttp import web

from monitor.http.app import bound_port

SCHEMA_SDL = """
scalar string
scalar Time
scalar uint64
scalar float64

input AccountFilter { accountTag: string }
input WorkersInvocationsFilter {
  datetime_geq: Time, datetime_leq: Time, scriptName: string, scriptName_in: [string!]
  status: string
}
input QueueFilter {
  datetime_geq: Time, datetime_leq: Time, queueId: string, queueId_in: [string!]
  actionType: string
}
type WorkersInvocationsSum { requests: uint64! errors: uint64! subrequests: uint64! }
type WorkersInvocationsQuantiles { cpuTimeP50: float64! cpuTimeP99: float64! }
type WorkersInvocationsDimensions { scriptName: string! status: string! datetime: Time! }
type WorkersInvocationsAdaptive {
  sum: WorkersInvocationsSum
  quantiles: WorkersInvocationsQuantiles
  dimensions: WorkersInvocationsDimensions
}
type QueueBacklogAvg { messages: float64! bytes: float64! }
type QueueBacklogDimensions { queueId: string! datetime: Time }
type QueueBacklogAdaptiveGroups { avg: QueueBacklogAvg dimensions: QueueBacklogDimensions }
type QueueMessageOperationsDimensions { queueId: string! actionType: string! datetime: Time }
type QueueMessageOperationsAdaptiveGroups {
  count: uint64!
  dimensions: QueueMessageOperationsDimensions
}
type Account {
  workersInvocationsAdaptive(limit: uint64!, filter: WorkersInvocationsFilter):
    [WorkersInvocationsAdaptive!]!
  queueBacklogAdaptiveGroups(limit: uint64!, filter: QueueFilter): [QueueBacklogAdaptiveGroups!]!
  queueMessageOperationsAdaptiveGroups(limit: uint64!, filter: QueueFilter):
    [QueueMessageOperationsAdaptiveGroups!]!
}
type Viewer { accounts(filter: AccountFilter!): [Account!]! }
type Query { viewer: Viewer }
"""
GRAPHQL_PATH = "/client/v4/graphql"


@dataclass
class WorkerTrafficSim:
    """A Worker's traffic: requests per minute, the share that errors, and CPU per request."""

    per_minute: int = 600
    error_ratio: float = 0.0
    error_status: str = "scriptThrewException"
    cpu_p50_us: float = 900.0
    cpu_p99_us: float = 3_100.0


@dataclass
class QueueSim:
    """A queue fed at `produced_per_minute` whose consumer stops `consumer_stops_after` seconds
    after the simulator started (None: it never stops)."""

    produced_per_minute: int = 120
    consumer_stops_after: float | None = None


def _parse_time(value: Any) -> float:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


@dataclass
class SimAnalytics:
    """What the simulated account's analytics say; mutable, so tests can script incidents."""

    account_id: str
    api_token: str
    workers: dict[str, WorkerTrafficSim] = field(default_factory=dict)
    queues: dict[str, QueueSim] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    rate_limited: int = 0
    """The next this many requests get 429 with `retry_after`."""
    retry_after: int | str = 60
    outage: bool = False
    """Answer 503 (an API outage) while set."""
    received: list[dict[str, Any]] = field(default_factory=list)
    """Every request body that passed authentication, in order."""
    answered: list[int] = field(default_factory=list)
    """The HTTP status of every request, in order."""
    arrived: list[float] = field(default_factory=list)
    """`time.monotonic()` of every request, in order (backing off is measured on it)."""

    def _filtered(self, filter_: dict[str, Any], key: str, names: list[str]) -> list[str]:
        wanted = filter_.get(f"{key}_in")
        if filter_.get(key) is not None:
            wanted = [filter_[key]]
        return [n for n in names if wanted is None or n in wanted]

    def workers_rows(self, filter_: dict[str, Any]) -> list[dict[str, Any]]:
        minutes = self._minutes(filter_)
        rows = []
        for script in self._filtered(filter_, "scriptName", sorted(self.workers)):
            sim = self.workers[script]
            total = round(sim.per_minute * minutes)
            errors = round(total * sim.error_ratio)
            for status, count in (("success", total - errors), (sim.error_status, errors)):
                if count:
                    rows.append(
                        {
                            "sum": {
                                "requests": count,
                                "errors": count if status != "success" else 0,
                                "subrequests": count,
                            },
                            "quantiles": {
                                "cpuTimeP50": sim.cpu_p50_us,
                                "cpuTimeP99": sim.cpu_p99_us,
                            },
                            "dimensions": {
                                "scriptName": script,
                                "status": status,
                                "datetime": filter_.get("datetime_geq"),
                            },
                        }
                    )
        return rows

    def _minutes(self, filter_: dict[str, Any]) -> float:
        start, end = _parse_time(filter_["datetime_geq"]), _parse_time(filter_["datetime_leq"])
        return max(0.0, end + 1 - start) / 60

    def _stopped_for(self, queue: QueueSim, at: float) -> float:
        if queue.consumer_stops_after is None:
            return 0.0
        return max(0.0, at - (self.started + queue.consumer_stops_after))

    def backlog_rows(self, filter_: dict[str, Any]) -> list[dict[str, Any]]:
        end = _parse_time(filter_["datetime_leq"]) + 1
        rows = []
        for queue_id in self._filtered(filter_, "queueId", sorted(self.queues)):
            sim = self.queues[queue_id]
            backlog = sim.produced_per_minute * self._stopped_for(sim, end) / 60
            rows.append(
                {
                    "avg": {"messages": backlog, "bytes": backlog * 512},
                    "dimensions": {"queueId": queue_id},
                }
            )
        return rows

    def operation_rows(self, filter_: dict[str, Any]) -> list[dict[str, Any]]:
        minutes, end = self._minutes(filter_), _parse_time(filter_["datetime_leq"]) + 1
        rows = []
        for queue_id in self._filtered(filter_, "queueId", sorted(self.queues)):
            sim = self.queues[queue_id]
            written = round(sim.produced_per_minute * minutes)
            stopped_min = min(minutes, self._stopped_for(sim, end) / 60)
            read = round(sim.produced_per_minute * (minutes - stopped_min))
            for action, count in (("WriteMessage", written), ("ReadMessage", read)):
                if count and filter_.get("actionType") in (None, action):
                    rows.append(
                        {"count": count, "dimensions": {"queueId": queue_id, "actionType": action}}
                    )
        return rows


def _resolver(method: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> Any:
    def resolve(_parent: Any, _info: Any, limit: int, filter: Any = None) -> Any:
        return method(dict(filter or {}))[: int(limit)]

    return resolve


def simulated_schema(sim: SimAnalytics) -> graphql.GraphQLSchema:
    """The schema subset with resolvers that read `sim` (one schema per simulator)."""
    schema = graphql.build_schema(SCHEMA_SDL)
    account = schema.type_map["Account"]
    viewer = schema.type_map["Viewer"]
    assert isinstance(account, graphql.GraphQLObjectType)
    assert isinstance(viewer, graphql.GraphQLObjectType)
    account.fields["workersInvocationsAdaptive"].resolve = _resolver(sim.workers_rows)
    account.fields["queueBacklogAdaptiveGroups"].resolve = _resolver(sim.backlog_rows)
    account.fields["queueMessageOperationsAdaptiveGroups"].resolve = _resolver(sim.operation_rows)

    def accounts(_parent: Any, _info: Any, filter: Any) -> list[dict[str, Any]]:
        if filter.get("accountTag") != sim.account_id:
            raise graphql.GraphQLError("does not have access to the path")
        return [{}]

    viewer.fields["accounts"].resolve = accounts
    return schema


def execute(schema: graphql.GraphQLSchema, body: Any) -> dict[str, Any]:
    """Answer one GraphQL request body as the real endpoint shapes it."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return {"data": None, "errors": [{"message": "expected a JSON body with a query"}]}
    try:
        document = graphql.parse(body["query"])
    except graphql.GraphQLError as exc:
        return {"data": None, "errors": [{"message": f"error parsing query: {exc.message}"}]}
    problems = graphql.validate(schema, document)
    if problems:
        return {"data": None, "errors": [{"message": p.message} for p in problems]}
    variables = body.get("variables")
    result = graphql.execute_sync(
        schema,
        document,
        root_value={"viewer": {}},
        variable_values=variables if isinstance(variables, dict) else {},
    )
    answer: dict[str, Any] = {"data": result.data, "errors": None}
    if result.errors:
        answer["errors"] = [
            {"message": e.message, "path": e.path, "extensions": {"timestamp": ""}}
            for e in result.errors
        ]
    return answer


DEMO_ACCOUNT = "demo-account"
DEMO_QUEUE = "github-sync"


def demo_analytics(
    services: list[str], api_token: str, consumer_stops_after: float
) -> SimAnalytics:
    """The demo's traffic: healthy Workers, `email` failing every request with 1101 (as its
    /health does), and `github-sync`, whose consumer stops after `consumer_stops_after` s."""
    workers = {name: WorkerTrafficSim() for name in services}
    if "email" in workers:
        workers["email"] = WorkerTrafficSim(per_minute=300, error_ratio=1.0)
    queues = {DEMO_QUEUE: QueueSim(consumer_stops_after=consumer_stops_after)}
    return SimAnalytics(DEMO_ACCOUNT, api_token, workers=workers, queues=queues)


class GraphQLSimulator:
    """The endpoint as a loopback aiohttp server: `async with GraphQLSimulator(sim) as api`."""

    def __init__(self, sim: SimAnalytics, port: int = 0) -> None:
        self.sim = sim
        self.schema = simulated_schema(sim)
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{GRAPHQL_PATH}"

    async def _handle(self, request: web.Request) -> web.Response:
        sim = self.sim
        sim.arrived.append(time.monotonic())
        status = 200
        if request.headers.get("Authorization") != f"Bearer {sim.api_token}":
            status = 403
            answer: Any = {"data": None, "errors": [{"message": "not authorized"}]}
        elif sim.outage:
            sim.answered.append(503)
            return web.Response(
                status=503, text="upstream connect error", content_type="text/plain"
            )
        elif sim.rate_limited > 0:
            sim.rate_limited -= 1
            sim.answered.append(429)
            return web.json_response(
                {"data": None, "errors": [{"message": "rate limiter budget depleted"}]},
                status=429,
                headers={"Retry-After": str(sim.retry_after)},
            )
        else:
            try:
                body = await request.json()
            except (ValueError, UnicodeDecodeError):
                body = None
            sim.received.append(body if isinstance(body, dict) else {})
            answer = execute(self.schema, body)
        sim.answered.append(status)
        return web.json_response(answer, status=status, dumps=json.dumps)

    async def __aenter__(self) -> GraphQLSimulator:
        app = web.Application()
        app.router.add_post(GRAPHQL_PATH, self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        self.port = bound_port(site)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
