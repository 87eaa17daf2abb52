"""The `push:` contract of monitor.yaml (issue 15): what is accepted, and each refusal with
its file, line and field."""

from __future__ import annotations

import pytest

from monitor.config import Check, parse_config
from monitor.errors import ConfigError
from monitor.model import CheckKind

TOKEN = "nightly-sync-token-0123"
GOOD = """\
services:
  - name: do-schedule
    url: https://do-schedule.example.workers.dev
    push:
      - name: nightly-sync
        schedule: "0 3 * * *"
        timezone: Europe/Berlin
        grace: 10m
        max_runtime: 30m
        token: ${NIGHTLY_SYNC_TOKEN}
  - name: queue
    push:
      - name: consumer
        every: 30s
        grace: 15s
        token: ${QUEUE_CONSUMER_TOKEN}
"""
ENV = {"NIGHTLY_SYNC_TOKEN": TOKEN, "QUEUE_CONSUMER_TOKEN": "queue-consumer-token-456"}


def push_checks(text: str = GOOD) -> list[Check]:
    return [c for c in parse_config(text, env=ENV).checks() if c.kind is CheckKind.PUSH]


def test_the_issue_example_loads() -> None:
    config = parse_config(GOOD, env=ENV)
    checks = config.checks()
    assert [c.id for c in checks] == [
        "do-schedule/health/health",
        "do-schedule/push/nightly-sync",
        "queue/push/consumer",  # a push-only service has no health check
    ]
    nightly, consumer = checks[1].push, checks[2].push
    assert nightly is not None and consumer is not None
    assert (nightly.cron, nightly.timezone, nightly.grace, nightly.max_runtime) == (
        "0 3 * * *",
        "Europe/Berlin",
        600.0,
        1800.0,
    )
    assert (consumer.every, consumer.grace, consumer.timezone, consumer.cron) == (
        30.0,
        15.0,
        "UTC",
        None,
    )
    assert nightly.token.get_secret_value() == TOKEN
    assert TOKEN not in repr(checks[1])  # a token never reaches a log through a repr


def push(*jobs: dict[str, str], url: str = "    url: http://a\n") -> str:
    """A service `a` with the given push checks, one `key: value` line per field."""
    text = "services:\n  - name: a\n" + url + "    push:\n"
    for fields in jobs:
        lines = [f"{key}: {value}" for key, value in {"name": "job", **fields}.items()]
        text += "      - " + "\n        ".join(lines) + "\n"
    return text


OK = {"every": "1m", "grace": "1m", "token": TOKEN}
CRON = {"schedule": "'0 3 * * *'", "grace": "1m", "token": TOKEN}

BAD = [
    (
        "no schedule",
        push({"grace": "1m", "token": TOKEN}),
        "services[0].push[0]",
        5,
        "exactly one of schedule",
    ),
    (
        "both schedules",
        push({**OK, "schedule": "'* * * * *'"}),
        "services[0].push[0]",
        5,
        "exactly one of schedule",
    ),
    (
        "bad cron",
        push({**CRON, "schedule": "'61 * * * *'"}),
        "services[0].push[0].schedule",
        6,
        "5-field cron",
    ),
    (
        "six fields",
        push({**CRON, "schedule": "'0 0 3 * * *'"}),
        "services[0].push[0].schedule",
        6,
        "5-field cron",
    ),
    (
        "bad zone",
        push({**CRON, "timezone": "Mars/Olympus"}),
        "services[0].push[0].timezone",
        9,
        "IANA time zone",
    ),
    (
        "zone without cron",
        push({**OK, "timezone": "UTC"}),
        "services[0].push[0]",
        5,
        "timezone applies to a cron schedule only",
    ),
    (
        "short token",
        push({**OK, "token": "short-token"}),
        "services[0].push[0].token",
        8,
        "at least 16 characters",
    ),
    (
        "slash token",
        push({**OK, "token": "a/bcdefghijklmnopq"}),
        "services[0].push[0].token",
        8,
        "without '/'",
    ),
    ("no grace", push({"every": "1m", "token": TOKEN}), "services[0].push[0].grace", 5, "required"),
    ("zero grace", push({**OK, "grace": "0s"}), "services[0].push[0].grace", 7, "greater than 0"),
    ("unknown key", push({**OK, "retries": "3"}), "services[0].push[0].retries", 9, "unknown key"),
    (
        "duplicate name",
        push(OK, {**OK, "token": "other-token-0123456"}),
        "services[0].push[1].name",
        9,
        "duplicate push check name",
    ),
    (
        "shared token",
        push(OK, {**OK, "name": "job2"}),
        "services[0].push[1].token",
        12,
        "the same token as push check a/job",
    ),
    (
        "smoke without url",
        "services:\n  - name: a\n    rpc:\n      - {name: db, path: /x}\n",
        "services[0].url",
        2,
        "missing",
    ),
]


@pytest.mark.parametrize(
    ("case", "text", "location", "line", "message"), BAD, ids=[c[0] for c in BAD]
)
def test_bad_push_config(case: str, text: str, location: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "monitor.yaml", env={})
    problems = caught.value.problems
    assert any(p.location == location and message in p.message for p in problems), problems
    assert next(p for p in problems if p.location == location).line == line
    assert TOKEN not in str(caught.value)  # a refused config never prints the secret


@pytest.mark.parametrize("kind", ["latency", "burn_rate"])
def test_latency_rules_cannot_select_push_checks(kind: str) -> None:
    """A heartbeat has no latency: such a rule could never fire, so it is refused."""
    from monitor.alerting.rules import parse_alert_rules

    text = (
        "route: [log]\nreceivers: [{name: log, type: log}]\n"
        f"rules:\n  - {{name: X, kind: {kind}, checks: [rpc, push]}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_alert_rules(text, "alerts.yaml")
    assert "alerts.yaml:4: rules[0].checks[1]: push checks have no latency" in str(caught.value)
