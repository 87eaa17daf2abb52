"""Real traffic: the `cloudflare:` config, the one query, and answers to verdicts (pure, tables)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.analytics.query import fleet_query, last_complete_interval, queries_per_request
from monitor.analytics.verdicts import (
    AnalyticsUnavailable,
    FleetTraffic,
    QueueActivity,
    WorkerTraffic,
    backlog_growing,
    fleet_verdicts,
    read_answer,
    retry_after_seconds,
)
from monitor.config import parse_config
from monitor.errors import ConfigError
from monitor.model import CheckKind, Reason, Status
from monitor.simulator.graphql_api import SimAnalytics, execute, simulated_schema

T0 = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)

CONFIG = """
cloudflare:
  account_id: acc-1
  api_token: ${CF_API_TOKEN}
services:
  - name: email
    url: https://email.example.workers.dev
  - name: do-db
    url: https://db.example.workers.dev
    worker: db-worker
    analytics: {error_ratio: 0.5%, cpu_p99: 10ms}
    queues: [github-sync, {name: jobs, id: 0123abcd}]
"""


def config(text: str = CONFIG) -> Any:
    return parse_config(text, "monitor.yaml", env={"CF_API_TOKEN": "cf-token-abcdef"})


def test_config_gives_every_service_an_analytics_check_with_its_targets() -> None:
    c = config()
    analytics = {ch.service: ch for ch in c.checks() if ch.kind is CheckKind.ANALYTICS}
    assert set(analytics) == {"email", "do-db"}
    assert analytics["email"].id == "email/analytics/analytics"
    assert analytics["email"].interval == 60.0
    db = c.service("do-db")
    assert db is not None
    assert (db.worker_name, db.analytics.error_ratio, db.analytics.cpu_p99) == (
        "db-worker",
        0.005,
        0.010,
    )
    assert [q.queue_id for q in db.queues] == ["github-sync", "0123abcd"]
    email = c.service("email")
    assert email is not None
    assert (email.worker_name, email.analytics.error_ratio) == ("email", 0.01)
    assert "cf-token-abcdef" not in repr(c)


def test_no_cloudflare_block_no_analytics_checks() -> None:
    c = parse_config("services: [{name: a, url: http://127.0.0.1:1}]\n")
    assert all(ch.kind is not CheckKind.ANALYTICS for ch in c.checks())


@pytest.mark.parametrize(
    ("edit", "line", "field", "message"),
    [
        (("  account_id: acc-1\n", ""), 2, "cloudflare.account_id", "required key is missing"),
        (
            ("cloudflare:\n", "cloudflare:\n  interval: 30s\n"),
            3,
            "cloudflare.interval",
            "shorter than 1m",
        ),
        (
            ("{error_ratio: 0.5%", "{error_ratio: 150%"),
            11,
            "services[1].analytics.error_ratio",
            "(0 to 1), got '150%'",
        ),
        (
            ("{error_ratio: 0.5%", "{error_ratio: lots"),
            11,
            "services[1].analytics.error_ratio",
            "expected a ratio",
        ),
        (("cpu_p99: 10ms", "cpu_p99: soon"), 11, "services[1].analytics.cpu_p99", "duration"),
        (("worker: db-worker", "worker: 'db worker'"), 10, "services[1].worker", "pattern"),
        (
            ("  account_id: acc-1\n", "  account_id: acc-1\n  token: x\n"),
            4,
            "cloudflare.token",
            "unknown key",
        ),
    ],
)
def test_bad_cloudflare_config_names_file_line_and_field(
    edit: tuple[str, str], line: int, field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config(CONFIG.replace(*edit))
    problem = next(p for p in caught.value.problems if p.location == field)
    assert caught.value.file == "monitor.yaml"
    assert (problem.line, message in problem.message) == (line, True), problem


def test_a_short_interval_is_allowed_against_another_api_url() -> None:
    text = CONFIG.replace(
        "cloudflare:\n", "cloudflare:\n  interval: 2s\n  api_url: http://127.0.0.1:9/graphql\n"
    )
    assert config(text).cloudflare.interval == 2.0


@pytest.mark.parametrize(
    ("now", "interval", "start", "end"),
    [
        (T0, 60, "11:59:00", "11:59:59"),
        (datetime(2026, 11, 30, 12, 1, 0, tzinfo=UTC), 60, "12:00:00", "12:00:59"),
        (datetime(2026, 11, 30, 12, 0, 59, 999, tzinfo=UTC), 60, "11:59:00", "11:59:59"),
        (datetime(2026, 11, 30, 12, 7, 0, tzinfo=UTC), 300, "12:00:00", "12:04:59"),
        (datetime(2026, 11, 30, 12, 0, 7, tzinfo=UTC), 5, "12:00:00", "12:00:04"),
    ],
)
def test_the_window_is_the_last_complete_interval(
    now: datetime, interval: float, start: str, end: str
) -> None:
    window = last_complete_interval(now, interval)
    assert (window.start.strftime("%H:%M:%S"), window.end.strftime("%H:%M:%S")) == (start, end)
    assert window.seconds == interval


def test_one_query_for_the_whole_fleet_validates_against_the_schema_subset() -> None:
    c = config()
    body = fleet_query(c, last_complete_interval(T0, 60))
    assert body["variables"]["scripts"] == ["db-worker", "email"]
    assert body["variables"]["queues"] == ["0123abcd", "github-sync"]
    assert (body["variables"]["start"], body["variables"]["end"]) == (
        "2026-11-30T11:59:00Z",
        "2026-11-30T11:59:59Z",
    )
    answer = execute(simulated_schema(SimAnalytics("acc-1", "x")), body)
    assert answer["errors"] is None, answer
    assert queries_per_request(c) == 3
    without_queues = config(
        CONFIG.replace("    queues: [github-sync, {name: jobs, id: 0123abcd}]\n", "")
    )
    assert "queue" not in fleet_query(without_queues, last_complete_interval(T0, 60))["query"]
    assert queries_per_request(without_queues) == 1


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (
            '{ viewer { accounts(filter: {accountTag: "a"}) { workersInvocations(limit: 1) '
            "{ sum { requests } } } } }",
            "Cannot query field 'workersInvocations'",
        ),
        (
            '{ viewer { accounts(filter: {accountTag: "a"}) { workersInvocationsAdaptive(limit: 1)'
            " { sum { requests cpuTime } } } } }",
            "Cannot query field 'cpuTime'",
        ),
        (
            '{ viewer { accounts(filter: {accountTag: "a"}) { queuesBacklogAdaptiveGroups('
            "limit: 1) { avg { messages } } } } }",
            "queuesBacklogAdaptiveGroups",
        ),
        (
            '{ viewer { accounts(filter: {accountTag: "a"}) { workersInvocationsAdaptive('
            'filter: {scriptName: "a"}) { sum { requests } } } } }',
            "limit",
        ),
        ("{ viewer { accounts(", "error parsing query"),
    ],
)
def test_the_simulator_refuses_what_the_real_schema_has_not(query: str, error: str) -> None:
    answer = execute(simulated_schema(SimAnalytics("a", "x")), {"query": query})
    assert answer["data"] is None
    assert error in answer["errors"][0]["message"]


def rows(*workers: tuple[str, str, int, int, float]) -> list[dict[str, Any]]:
    return [
        {
            "sum": {"requests": r, "errors": e, "subrequests": 0},
            "quantiles": {"cpuTimeP50": p99 / 3, "cpuTimeP99": p99},
            "dimensions": {"scriptName": script, "status": status},
        }
        for script, status, r, e, p99 in workers
    ]


def answer(workers: Any, backlog: Any = (), operations: Any = (), errors: Any = None) -> Any:
    account = {"workers": workers, "backlog": list(backlog), "operations": list(operations)}
    return {"data": {"viewer": {"accounts": [account]}}, "errors": errors}


@pytest.mark.parametrize(
    ("workers", "email", "db"),
    [
        # no traffic is no evidence of failure
        ([], (Status.HEALTHY, Reason.OK, "no requests"), (Status.HEALTHY, Reason.OK, "")),
        # 4 errors in 1,000 is 0.4 %: within email's 1 % and db's 0.5 %
        (
            rows(
                ("email", "success", 996, 0, 2000),
                ("email", "scriptThrewException", 4, 4, 2000),
                ("db-worker", "success", 1000, 4, 2000),
            ),
            (Status.HEALTHY, Reason.OK, "real traffic: 0.4 % errors over the last 1m"),
            (Status.HEALTHY, Reason.OK, "0.4 %"),
        ),
        # just over the target: degraded; at 10x: unhealthy
        (
            rows(
                ("email", "scriptThrewException", 1000, 11, 2000),
                ("db-worker", "success", 1000, 50, 2000),
            ),
            (Status.DEGRADED, Reason.ERROR_RATE_HIGH, "(error 1101)"),
            (Status.UNHEALTHY, Reason.ERROR_RATE_HIGH, "5 % errors"),
        ),
        # exactly the target is within it
        (
            rows(("email", "success", 1000, 10, 2000)),
            (Status.HEALTHY, Reason.OK, "1 %"),
            (Status.HEALTHY, Reason.OK, ""),
        ),
        # CPU: db's p99 target is 10 ms (10,000 us)
        (
            rows(("db-worker", "success", 100, 0, 10_001)),
            (Status.HEALTHY, Reason.OK, ""),
            (Status.DEGRADED, Reason.CPU_NEAR_LIMIT, "CPU p99 10.0 ms"),
        ),
        (
            rows(("db-worker", "success", 100, 0, 10_000)),
            (Status.HEALTHY, Reason.OK, ""),
            (Status.HEALTHY, Reason.OK, ""),
        ),
    ],
)
def test_verdicts_from_worker_traffic(workers: Any, email: Any, db: Any) -> None:
    c = config(CONFIG.replace("    queues: [github-sync, {name: jobs, id: 0123abcd}]\n", ""))
    verdicts = fleet_verdicts(c, read_answer(200, answer(workers)), 60.0, {})
    for name, (status, reason, text) in (("email", email), ("do-db", db)):
        v = verdicts[name]
        assert (v.status, v.reason) == (status, reason), v
        assert text in v.detail


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (503, None, "HTTP 503"),
        (200, [], "not a JSON object"),
        (
            200,
            {"data": None, "errors": [{"message": "does not have access to the path"}]},
            "does not have access",
        ),
        (200, {"data": {"viewer": {"accounts": []}}, "errors": None}, "no data"),
    ],
)
def test_no_data_is_unavailable_with_the_reason(status: int, body: Any, message: str) -> None:
    with pytest.raises(AnalyticsUnavailable, match=message):
        read_answer(status, body)


def test_partial_data_judges_what_came_and_says_unknown_for_the_rest() -> None:
    c = config()
    body = answer(rows(("email", "success", 10, 0, 10)))
    body["data"]["viewer"]["accounts"][0]["backlog"] = None
    body["errors"] = [{"message": "quota exceeded for queueBacklogAdaptiveGroups", "path": []}]
    verdicts = fleet_verdicts(c, read_answer(200, body), 60.0, {})
    assert verdicts["email"].status is Status.HEALTHY  # no queues: its data came whole
    assert verdicts["do-db"].status is Status.UNKNOWN
    assert verdicts["do-db"].reason is Reason.ANALYTICS_UNAVAILABLE
    assert "quota exceeded" in verdicts["do-db"].detail


def test_a_non_number_is_unknown_not_zero() -> None:
    body = answer(rows(("email", "success", 10, 0, 10)))
    body["data"]["viewer"]["accounts"][0]["workers"][0]["sum"]["errors"] = "lots"
    traffic = read_answer(200, body)
    assert traffic.workers is None
    v = fleet_verdicts(config(), traffic, 60.0, {})["email"]
    assert (v.status, v.reason) == (Status.UNKNOWN, Reason.ANALYTICS_UNAVAILABLE)
    assert "sum.errors" in v.detail


def q(backlog: float, consumed: int = 0) -> QueueActivity:
    return QueueActivity(backlog, consumed)


@pytest.mark.parametrize(
    ("history", "growing"),
    [
        ([q(0), q(10), q(20), q(30)], True),
        ([q(10), q(20), q(30)], False),  # only 2 steps seen of the 3 needed
        ([q(0), q(10), q(10), q(30)], False),  # flat once
        ([q(0), q(10), q(20, consumed=1), q(30)], False),  # something was consumed
        ([q(0, consumed=5), q(10), q(20), q(30)], True),  # before the window counts not
        ([q(40), q(30), q(20), q(10)], False),
    ],
)
def test_backlog_growing_needs_n_rising_intervals_with_no_consumption(
    history: list[QueueActivity], growing: bool
) -> None:
    assert backlog_growing(history, 3) is growing


def test_a_growing_backlog_degrades_the_service_that_lists_the_queue() -> None:
    c = config()
    traffic = FleetTraffic({"db-worker": WorkerTraffic(100)}, {"github-sync": q(30)})
    history = {"github-sync": [q(0), q(10), q(20), q(30)]}
    v = fleet_verdicts(c, traffic, 60.0, history)
    assert (v["do-db"].status, v["do-db"].reason) == (Status.DEGRADED, Reason.QUEUE_BACKLOG_GROWING)
    assert v["do-db"].detail.startswith("queue github-sync: backlog grew for 3 intervals to 30")
    assert v["email"].status is Status.HEALTHY


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Mon, 30 Nov 2026 12:01:30 GMT", 60.0),
        ("Mon, 30 Nov 2026 11:00:00 GMT", 0.0),  # in the past
        ("soon", 300.0),
        (None, 300.0),
        ("", 300.0),
    ],
)
def test_retry_after(header: str | None, seconds: float) -> None:
    assert retry_after_seconds(header, T0, 300.0) == seconds
