"""Push checks end to end: a daemon on loopback, real processes (curl, `monitor push`) pinging
it over HTTP, and every state of issue 15 reached through them. The daemon's wall clock is
injected, so a deadline passes when the test moves it; the test then waits for the daemon's
own deadline timer to notice (never a sleep, never a bound on wall time)."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from monitor.cli import cli, push
from monitor.config import parse_config
from monitor.http.app import serve
from monitor.runtime.daemon import Monitor
from monitor.runtime.store import Store
from tests.polling import until
from tests.test_alerting_daemon import RULES as ALERT_RULES

NIGHTLY = "nightly-sync-token-0123456789"
CONSUMER = "queue-consumer-token-98765"
CONFIG = f"""\
auth:
  read_token: reader-token-0123456789
services:
  - name: do-schedule
    push:
      - name: nightly-sync
        schedule: "0 3 * * *"
        timezone: Europe/Berlin
        grace: 10m
        max_runtime: 30m
        token: {NIGHTLY}
  - name: queue
    push:
      - name: consumer
        every: 30s
        grace: 15s
        token: {CONSUMER}
"""
READ = {"Authorization": "Bearer reader-token-0123456789"}


class Clock:
    """The daemon's wall clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Daemon:
    monitor: Monitor
    url: str
    clock: Clock

    def check(self, service: str, name: str) -> Any:
        status = self.monitor.status()
        entry = next(s for s in status.services if s.name == service)
        return next(c for c in entry.checks if c.name == name)


async def started(config: str, clock: Clock, data: Path | None) -> tuple[Monitor, Any, str]:
    store = Store(data / "monitor.sqlite3") if data is not None else None
    monitor = Monitor(parse_config(config), clock=clock, store=store)
    await monitor.start()
    runner, port = await serve(monitor, "127.0.0.1", 0)
    return monitor, runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[Daemon]:
    clock = Clock(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))  # 02:00 in Berlin
    monitor, runner, url = await started(CONFIG, clock, tmp_path)
    try:
        yield Daemon(monitor, url, clock)
    finally:
        await runner.cleanup()
        await monitor.stop()


async def curl(*args: str) -> tuple[int, str]:
    """A real HTTP client in its own process, as a cron line would run it."""
    process = await asyncio.create_subprocess_exec(
        "curl",
        "-sS",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        *args,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    body, _, code = out.decode().rpartition("\n")
    return int(code), body


async def monitor_push(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "push",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_every_state_driven_by_real_pings(daemon: Daemon) -> None:
    nightly = f"{daemon.url}/push/{NIGHTLY}"
    check = daemon.check("do-schedule", "nightly-sync")
    assert (check.status, check.reason) == ("unknown", "never_reported")

    # 03:02 Berlin: the job reports success (GET, as `curl -fsS URL` does)
    daemon.clock.now = datetime(2026, 11, 30, 2, 2, tzinfo=UTC)
    assert await curl(nightly) == (200, "OK\n")
    check = daemon.check("do-schedule", "nightly-sync")
    assert (check.status, check.reason) == ("healthy", "ok")
    assert check.detail == "last ping 0 s ago; next expected by 03:10 Europe/Berlin"

    # the next night passes without a ping: late at 03:10, seen by the deadline timer
    daemon.clock.now = datetime(2026, 12, 1, 5, 2, tzinfo=UTC)  # 06:02 Berlin, 27 h later
    await until(lambda: daemon.check("do-schedule", "nightly-sync").reason == "late")
    check = daemon.check("do-schedule", "nightly-sync")
    assert check.status == "unhealthy"
    assert check.detail == "expected by 03:10 Europe/Berlin, last ping 27 h ago"

    # a failure with its output as evidence (POST body), redacted like any evidence
    code, _ = await curl(
        "-X", "POST", "--data-binary", "sync failed: password=hunter2", f"{nightly}/fail"
    )
    assert code == 200
    check = daemon.check("do-schedule", "nightly-sync")
    assert (check.status, check.reason) == ("unhealthy", "reported_failure")
    assert check.evidence == "sync failed: password=[redacted]"

    # an exit code: 0 is success, anything else failure
    assert (await curl(f"{nightly}/0"))[0] == 200
    assert daemon.check("do-schedule", "nightly-sync").reason == "ok"
    assert (await curl("-X", "POST", f"{nightly}/3"))[0] == 200
    check = daemon.check("do-schedule", "nightly-sync")
    assert check.reason == "reported_failure" and "exit code 3" in check.detail

    # a run that starts and never finishes: run_too_long after max_runtime
    assert (await curl(f"{nightly}/start"))[0] == 200
    check = daemon.check("do-schedule", "nightly-sync")
    assert check.reason == "reported_failure"  # a new start does not clear the last failure
    assert "run in progress" not in check.detail
    assert (await curl(f"{nightly}/0"))[0] == 200
    assert (await curl(f"{nightly}/start"))[0] == 200
    check = daemon.check("do-schedule", "nightly-sync")
    assert check.reason == "ok" and "(run in progress)" in check.detail
    daemon.clock.advance(minutes=30)
    await until(lambda: daemon.check("do-schedule", "nightly-sync").reason == "run_too_long")

    # the service follows its push check, uncapped: a dead job is the service failing
    service = next(s for s in daemon.monitor.status().services if s.name == "do-schedule")
    assert (service.status, service.reason) == ("unhealthy", "run_too_long")


async def test_answers_reveal_nothing_and_tokens_stay_secret(daemon: Daemon) -> None:
    for path in (f"/push/{'x' * 20}", f"/push/{NIGHTLY}/log", f"/push/{NIGHTLY}/256"):
        assert await curl(daemon.url + path) == (404, "not found\n")
    # the read token guards /status, never a push URL
    assert (await curl(f"{daemon.url}/status"))[0] == 401
    # a job that prints a secret of the config (here another check's token) publishes nothing
    leak = f"calling {daemon.url}/push/{NIGHTLY} with reader-token-0123456789"
    code, _ = await curl("--data-binary", leak, f"{daemon.url}/push/{CONSUMER}")
    assert code == 200
    evidence = daemon.check("queue", "consumer").evidence
    assert "[redacted]" in evidence and NIGHTLY not in evidence and "reader-token" not in evidence
    async with aiohttp.ClientSession(headers=READ) as session:
        texts = []
        for path in ("/status", "/metrics", "/", "/status/queue"):
            async with session.get(daemon.url + path) as answer:
                assert answer.status == 200
                texts.append(await answer.text())
    for text in texts:
        assert NIGHTLY not in text and CONSUMER not in text
    assert (
        'monitor_push_pings_total{check="consumer",outcome="success",service="queue"} 1.0'
        in texts[1]
    )
    await daemon.monitor.flush()
    assert daemon.monitor.store is not None
    files = list(Path(daemon.monitor.store.path).parent.glob("monitor.sqlite3*"))  # WAL too
    stored = b"".join(f.read_bytes() for f in files)
    assert b"push_record" in stored  # the pings are in there ...
    assert NIGHTLY.encode() not in stored and CONSUMER.encode() not in stored  # ... no token


async def test_a_burst_past_the_rate_limit_gets_429(daemon: Daemon) -> None:
    url = f"{daemon.url}/push/{CONSUMER}"
    codes = []
    async with aiohttp.ClientSession() as session:
        for _ in range(40):  # the burst is 20: a loop this fast cannot refill 20 more
            async with session.post(url) as answer:
                codes.append(answer.status)
    assert codes[:20] == [200] * 20
    assert 429 in codes[20:]


async def test_a_restart_keeps_the_clock_and_the_verdicts(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    monitor, runner, url = await started(CONFIG, clock, tmp_path)
    try:
        assert (await curl(f"{url}/push/{CONSUMER}"))[0] == 200
        assert (await curl(f"{url}/push/{NIGHTLY}/start"))[0] == 200
    finally:
        await runner.cleanup()
        await monitor.stop()
    # down for 10 s: the consumer's deadline (30 s + 15 s) is still ahead, and is kept
    clock.advance(seconds=10)
    monitor, runner, url = await started(CONFIG, clock, tmp_path)
    daemon = Daemon(monitor, url, clock)
    try:
        consumer = daemon.check("queue", "consumer")
        assert (consumer.status, consumer.reason) == ("healthy", "ok")
        assert "last ping 10 s ago" in consumer.detail
        assert "run in progress" in daemon.check("do-schedule", "nightly-sync").detail
        clock.advance(seconds=35)  # 45 s after the ping: late, without any new ping
        await until(lambda: daemon.check("queue", "consumer").reason == "late")
    finally:
        await runner.cleanup()
        await monitor.stop()
    # a restart long after the deadline finds it late at once, not unknown or healthy
    clock.advance(hours=1)
    monitor, runner, url = await started(CONFIG, clock, tmp_path)
    try:
        daemon = Daemon(monitor, url, clock)
        assert daemon.check("queue", "consumer").reason == "late"
        assert daemon.check("do-schedule", "nightly-sync").reason == "run_too_long"
    finally:
        await runner.cleanup()
        await monitor.stop()


async def test_the_wrapper_reports_the_commands_exit_code_and_output(daemon: Daemon) -> None:
    nightly = f"{daemon.url}/push/{NIGHTLY}"
    code, out, _ = await monitor_push(
        nightly, "--", sys.executable, "-c", "print('synced 12 rows'); raise SystemExit(4)"
    )
    assert (code, out) == (4, "synced 12 rows\n")  # the job's own code and output, untouched
    check = daemon.check("do-schedule", "nightly-sync")
    assert (check.reason, check.evidence) == ("reported_failure", "synced 12 rows")
    assert "exit code 4" in check.detail
    code, _, _ = await monitor_push(nightly, "--", sys.executable, "-c", "pass")
    assert code == 0 and daemon.check("do-schedule", "nightly-sync").reason == "ok"
    runs = daemon.monitor.registry.get_sample_value(
        "monitor_push_run_duration_seconds_count",
        {"service": "do-schedule", "check": "nightly-sync"},
    )
    assert runs == 2


def test_an_unreachable_monitor_never_fails_the_job(
    refused_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process, with the pauses between retries recorded instead of slept (the
    wrapper's 2 x 4 s of them are what a child process would spend its time on)."""
    pauses: list[float] = []
    monkeypatch.setattr(push, "send", functools.partial(push.send, sleep=pauses.append))
    url = f"http://127.0.0.1:{refused_port}/push/{NIGHTLY}"
    runner = CliRunner()
    wrapped = runner.invoke(
        cli, ["push", url, "--timeout", "1", "--", sys.executable, "-c", "print('ok')"]
    )
    assert (wrapped.exit_code, wrapped.stdout) == (0, "ok\n")
    err = wrapped.stderr
    assert "warning: start not reported" in err and "warning: exit code 0 not reported" in err
    assert "Connection refused" in err
    assert NIGHTLY not in err  # the URL's token is never printed
    assert pauses == [1.0, 3.0, 1.0, 3.0]  # each report tried three times
    ping = runner.invoke(cli, ["push", url, "--timeout", "1", "--fail"])
    assert ping.exit_code == 1 and "warning: ping not reported" in ping.stderr
    assert NIGHTLY not in ping.stderr


async def test_a_missed_heartbeat_pages_like_a_failed_poll(tmp_path: Path, recorder: Any) -> None:
    """A `status` rule that counts observations (`for: 3`) confirms a late push check as it
    confirms an outage: the watcher re-observes it at every re-check, then the page goes out,
    and the pings that follow resolve it."""
    from prometheus_client import CollectorRegistry

    from monitor.alerting.rules import parse_alert_rules
    from monitor.alerting.service import Alerter
    from monitor.metrics.daemon_metrics import MonitorMetrics

    clock = Clock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    config = parse_config(
        CONFIG.replace("services:", "defaults: {recheck_interval: 1s}\nservices:")
    )
    rules = parse_alert_rules(
        ALERT_RULES,
        env={"HOOK_URL": recorder.url + "/hook"},
        services=[s.name for s in config.services],
    )
    metrics = MonitorMetrics(CollectorRegistry(), "test")
    # the alerter keeps real time (its outbox waits on it); the daemon's clock is the test's
    alerter = Alerter(
        rules,
        tmp_path / "alerts.sqlite3",
        metrics,
        clock=lambda: datetime.now(UTC),
        min_period=0.02,
    )
    monitor = Monitor(config, metrics=metrics, alerter=alerter, clock=clock)
    await monitor.start()
    runner, port = await serve(monitor, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}/push/{CONSUMER}"

    def pages(status: str) -> list[Any]:
        import json

        return [
            a
            for _, _, body in recorder.requests
            for a in json.loads(body)["alerts"]
            if a["labels"].get("service") == "queue" and a["status"] == status
        ]

    def tick_until(predicate: Any) -> Any:
        def step() -> bool:
            if predicate():
                return True
            clock.advance(seconds=1)  # the re-checks are due on the daemon's clock
            return False

        return step

    try:
        assert (await curl(url))[0] == 200
        clock.advance(seconds=46)
        await until(tick_until(lambda: pages("firing")), timeout=30)
        page = pages("firing")[0]
        assert page["labels"]["alertname"] == "ServiceDown"
        assert "late" in json_text(page)
        # as two good polls resolve an outage (`resolve_after: 2`), two pings resolve a silence
        assert (await curl(url))[0] == 200
        # rules count what one evaluation observes: two pings before one evaluation are one
        await monitor.alerter.evaluate_now()
        clock.advance(seconds=5)
        assert (await curl(url))[0] == 200
        await until(lambda: pages("resolved"), timeout=30)
    finally:
        await runner.cleanup()
        await monitor.stop()


def json_text(value: Any) -> str:
    import json

    return json.dumps(value)


async def verify_from(url: str) -> tuple[int | None, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor", "verify", "--from", url, "--service", "queue",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    return process.returncode, out.decode()


async def test_verify_from_judges_a_push_check_by_its_state(tmp_path: Path) -> None:
    """The deploy gate cannot probe a heartbeat; `verify --from` judges its current state."""
    clock = Clock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    config = CONFIG.split("services:", 1)[1]
    monitor, runner, url = await started("services:" + config, clock, None)
    try:
        assert (await curl(f"{url}/push/{CONSUMER}"))[0] == 200
        code, out = await verify_from(url)
        assert code == 0, out
        clock.advance(seconds=46)
        await until(lambda: Daemon(monitor, url, clock).check("queue", "consumer").reason == "late")
        code, out = await verify_from(url)
        assert code == 1 and "late" in out and CONSUMER not in out
    finally:
        await runner.cleanup()
        await monitor.stop()


async def test_a_reload_keeps_the_pings_and_judges_by_the_new_schedule(daemon: Daemon) -> None:
    assert (await curl(f"{daemon.url}/push/{CONSUMER}"))[0] == 200
    daemon.clock.advance(seconds=40)  # healthy: due by 45 s
    assert daemon.check("queue", "consumer").reason == "ok"
    shorter = CONFIG.replace("grace: 15s", "grace: 5s")  # due by 35 s: late now
    daemon.monitor.apply_config(parse_config(shorter))
    check = daemon.check("queue", "consumer")
    assert (check.reason, check.detail) == ("late", "expected by 01:00:35 UTC, last ping 40 s ago")
    removed = CONFIG.split("  - name: queue", 1)[0]
    daemon.monitor.apply_config(parse_config(removed))
    assert (await curl(f"{daemon.url}/push/{CONSUMER}")) == (404, "not found\n")
