"""Dashboards and rules against a REAL Prometheus: the simulated fleet, the daemon (with an
alerter, so alert metrics exist) and /usr/bin/prometheus scraping it every second on loopback.
Every panel query of every dashboard must be valid and return data; promtool must accept the
daemon's /metrics and the exported rules, and `promtool test rules` must pass.

Prometheus and promtool missing is a failure, not a skip: CI installs Debian's `prometheus`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from click.testing import CliRunner
from prometheus_client import CollectorRegistry

from monitor.alerting.rules import parse_alert_rules
from monitor.alerting.service import Alerter
from monitor.cli import cli
from monitor.config import parse_config
from monitor.http.app import serve
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.runtime.daemon import Monitor, utc_now
from monitor.simulator import Behavior, SimulatedFleet, fleet_config, seed_fleet
from monitor.simulator.graphql_api import (
    DEMO_ACCOUNT,
    DEMO_QUEUE,
    GraphQLSimulator,
    demo_analytics,
)
from tests.certs import CertificateAuthority
from tests.polling import until_value
from tests.processes import stop
from tests.prometheus_server import start_prometheus, tool
from tests.test_dashboards import ROOT, panel_queries

SERVICE = "do-gateway"
SUBSTITUTIONS = {
    "$__rate_interval": "10s",
    "$__interval": "5s",
    "$__range": "1h",
    "$service": SERVICE,
}
EXEMPT: dict[str, str] = {}
"""Panel title -> why it may have no data in a short run. Empty: the run produces it all."""

RULES = """
route: [log]
receivers: [{name: log, type: log}]
rules:
  - {name: ServiceDown, kind: status, status: [unhealthy], for: 1, resolve_after: 1,
     severity: critical}
  - {name: ServiceDegraded, kind: status, status: [degraded], for: 1, severity: warning}
"""
DOWN = Behavior(status=503, body='{"status": "down"}')
UP = Behavior(body='{"status": "ok"}')
PUSH_TOKEN = "prometheus-test-push-token"


def substitute(expr: str) -> str:
    for variable, value in SUBSTITUTIONS.items():
        expr = expr.replace(variable, value)
    # label_replace's "$1" is a regex group, which Grafana leaves alone (no variable "1")
    assert "$" not in expr.replace('"$1"', ""), f"a template variable is left: {expr}"
    return expr


@dataclass
class Stack:
    fleet: SimulatedFleet
    monitor: Monitor
    daemon_url: str
    prometheus_url: str
    session: aiohttp.ClientSession

    async def query(self, expr: str) -> dict[str, Any]:
        async with self.session.get(
            f"{self.prometheus_url}/api/v1/query", params={"query": expr}
        ) as response:
            body: dict[str, Any] = await response.json()
            return body


def daemon_config(
    fleet: SimulatedFleet, analytics_url: str, tls: TlsServer, metrics: str = "lean"
) -> str:
    data: dict[str, Any] = fleet_config(fleet, interval="250ms", timeout="200ms")
    data["metrics"] = metrics
    data["cloudflare"] = {  # real traffic, for the analytics panels
        "account_id": DEMO_ACCOUNT,
        "api_token": "prom-test-token",
        "interval": "1s",
        "api_url": analytics_url,
    }
    data["defaults"]["recheck_interval"] = "100ms"
    data["latency"] = {"min_samples": 5}
    for service in data["services"]:
        if service["name"] == "do-schedule":  # an http smoke path, for the http panels
            service["http"] = [{"name": "page", "path": "/health"}]
        if service["name"] == SERVICE:
            service["queues"] = [DEMO_QUEUE]
        if service["name"] == SERVICE:  # a push check, for the push panels
            service["push"] = [{"name": "sync", "every": "1h", "grace": "1m", "token": PUSH_TOKEN}]
        if service["name"] == SERVICE:  # a certificate, for the certificate panels
            service["tls"] = {"ca_file": str(tls.ca_file)}
            service["tcp"] = [{"name": "tls", "address": f"127.0.0.1:{tls.port}", "tls": True}]
    return json.dumps(data)


@dataclass
class TlsServer:
    port: int
    ca_file: Path


@asynccontextmanager
async def tls_server(directory: Path) -> AsyncIterator[TlsServer]:
    """A TLS listener on loopback whose certificate (45 days left, signed by a CA that the
    daemon is given as `ca_file`) a `tcp` check with `tls: true` reads."""
    authority = CertificateAuthority(valid_days=400)
    cert, key = authority.leaf(valid_days=45)
    (directory / "server.crt").write_bytes(cert + authority.cert_pem.encode())
    (directory / "server.key").write_bytes(key)
    (directory / "ca.pem").write_text(authority.cert_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "server.crt", directory / "server.key")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            await reader.read(1)  # until the check closes its side
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield TlsServer(server.sockets[0].getsockname()[1], directory / "ca.pem")
    finally:
        server.close()
        await server.wait_closed()


@pytest_asyncio.fixture(loop_scope="module", scope="module", params=["lean", "detailed"])
async def stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    """The seed behind a daemon exporting the lean set (the default) or `metrics: detailed`:
    every panel must answer from either."""
    directory = tmp_path_factory.mktemp("prometheus")
    async with (
        SimulatedFleet(seed_fleet()) as fleet,
        GraphQLSimulator(demo_analytics(fleet.names, "prom-test-token", 0.0)) as api,
        tls_server(directory) as tls,
    ):
        config = parse_config(daemon_config(fleet, api.url, tls, request.param))
        rules = parse_alert_rules(RULES, services=[s.name for s in config.services])
        registry = CollectorRegistry()
        metrics = MonitorMetrics(registry, "test")
        alerter = Alerter(
            rules,
            directory / "alerts.sqlite3",
            metrics,
            clock=utc_now,
            min_period=0.05,
            timer_period=1.0,
        )
        monitor = Monitor(config, metrics=metrics, alerter=alerter)
        await monitor.start()
        runner, port = await serve(monitor, "127.0.0.1", 0)
        process, prometheus_url = start_prometheus(directory, f"127.0.0.1:{port}")
        try:
            async with aiohttp.ClientSession() as session:
                yield Stack(fleet, monitor, f"http://127.0.0.1:{port}", prometheus_url, session)
        finally:
            stop(process)
            await runner.cleanup()
            await monitor.stop(grace=1.0)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def scraped(stack: Stack) -> Stack:
    """The stack once Prometheus has several scrapes, the latency gauges are out and one
    service has gone down and come back (so status changes and alerts have data)."""

    async def ready() -> bool:
        try:
            body = await stack.query('count_over_time(up{job="monitor"}[1m]) >= 3')
        except aiohttp.ClientError:
            return False
        return body.get("status") == "success" and bool(body["data"]["result"])

    await until_value(ready, 20.0, every=0.2, what="Prometheus scraped the daemon three times")
    for signal in ("/start", "/0"):  # one run of the push check, between scrapes
        async with stack.session.post(f"{stack.daemon_url}/push/{PUSH_TOKEN}{signal}") as answer:
            assert answer.status == 200
    stack.fleet.set_behavior("queue", DOWN)

    async def down() -> bool:
        s = stack.monitor.tracked["queue/health/health"].state
        return s is not None and s.verdict.status.value == "unhealthy"

    await until_value(down, 10.0, every=0.2, what="queue checked unhealthy")
    stack.fleet.set_behavior("queue", UP)

    async def gauges() -> bool:
        body = await stack.query(
            'rate(monitor_check_latency_seconds_count{kind="rpc"}[1m]) > 0 and on () '
            'changes(monitor_check_status_since_timestamp_seconds{service="queue"}[1m]) > 0'
        )
        return bool(body["data"]["result"])

    await until_value(
        gauges, 20.0, every=0.2, what="rpc latency samples and a status change scraped"
    )
    return stack


QUERIES = panel_queries()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("uid", "title", "ref", "expr"), QUERIES, ids=[f"{q[0]}:{q[1]}:{q[2]}" for q in QUERIES]
)
async def test_panel_query_is_valid_and_returns_data(
    scraped: Stack, uid: str, title: str, ref: str, expr: str
) -> None:
    query = substitute(expr)

    async def answered() -> dict[str, Any] | None:
        body = await scraped.query(query)
        assert body["status"] == "success", f"{title}: {body.get('error')}\n{query}"
        return body if finite(body["data"]["result"]) or title in EXEMPT else None

    body = await until_value(
        answered, 15.0, every=0.2, what=f"{uid} / {title} / {ref} returns numbers:\n{query}"
    )
    assert finite(body["data"]["result"]) or title in EXEMPT


def finite(result: list[dict[str, Any]]) -> bool:
    """Data, and at least one number that is not NaN (a quantile of no samples is NaN)."""
    return any(math.isfinite(float(row["value"][1])) for row in result)


def test_exemptions_are_listed_with_a_reason() -> None:
    titles = {title for _, title, _, _ in QUERIES}
    assert set(EXEMPT) <= titles and all(EXEMPT.values())


@pytest.mark.asyncio(loop_scope="module")
async def test_service_variable_lists_every_service(scraped: Stack) -> None:
    async with scraped.session.get(
        f"{scraped.prometheus_url}/api/v1/label/service/values",
        params={"match[]": "monitor_service_status"},
    ) as response:
        body = await response.json()
    assert set(body["data"]) == set(scraped.fleet.names)


@pytest.mark.asyncio(loop_scope="module")
async def test_promtool_check_metrics_finds_no_problem(scraped: Stack, tmp_path: Path) -> None:
    async with scraped.session.get(f"{scraped.daemon_url}/metrics") as response:
        text = await response.read()
    assert b"monitor_alerts_firing" in text and b"process_resident_memory_bytes" in text
    process = await asyncio.create_subprocess_exec(
        tool("promtool"),
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(text), timeout=30)
    assert process.returncode == 0 and out.strip() == b"", out.decode()


def export(directory: Path) -> Path:
    rules = directory / "rules.yml"
    result = CliRunner().invoke(
        cli, ["rules", "export", "--alerts", str(ROOT / "alerts.yaml"), "-o", str(rules)]
    )
    assert result.exit_code == 0, result.output
    return rules


def test_promtool_check_rules_accepts_the_export(tmp_path: Path) -> None:
    rules = export(tmp_path)
    run = subprocess.run(
        [tool("promtool"), "check", "rules", str(rules)], capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout


def test_promtool_test_rules_passes(tmp_path: Path) -> None:
    export(tmp_path)
    shutil.copy(ROOT / "tests" / "fixtures" / "prometheus" / "rules_test.yml", tmp_path)
    run = subprocess.run(
        [tool("promtool"), "test", "rules", "rules_test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout


def test_committed_example_rules_are_the_export(tmp_path: Path) -> None:
    committed = ROOT / "deploy" / "prometheus" / "monitor-rules.yml"
    assert export(tmp_path).read_text() == committed.read_text(), (
        "deploy/prometheus/monitor-rules.yml is stale: run monitor rules export "
        "-o deploy/prometheus/monitor-rules.yml"
    )


def test_example_prometheus_config_is_valid() -> None:
    config = ROOT / "deploy" / "prometheus" / "prometheus.yml"
    run = subprocess.run(
        [tool("promtool"), "check", "config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stdout + run.stderr
