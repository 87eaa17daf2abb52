"""The command line, run as users run it: a subprocess, real ports, real signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from monitor.config import parse_config
from monitor.simulator import SimulatedFleet, fleet_config_yaml
from tests.conftest import free_port
from tests.test_daemon import SEED_TABLE

MONITOR = [sys.executable, "-m", "monitor"]


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MONITOR, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


async def fetch_json(session: aiohttp.ClientSession, url: str) -> dict[str, object] | None:
    try:
        async with session.get(url) as response:
            return await response.json()  # type: ignore[no-any-return]
    except aiohttp.ClientError:
        return None


async def test_run_serves_status_and_metrics_and_stops_on_sigterm(
    fleet: SimulatedFleet, tmp_path: Path
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(fleet_config_yaml(fleet, interval="1s", timeout="500ms"))
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *MONITOR,
        "run",
        "--config",
        str(config),
        "--listen",
        f"127.0.0.1:{port}",
        "--data-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        status: dict[str, object] | None = None
        deadline = time.monotonic() + 20
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                status = await fetch_json(session, base + "/status")
                services = status["services"] if status else []
                assert isinstance(services, list)
                if services and all(s["reason"] != "not_checked" for s in services):
                    break
                await asyncio.sleep(0.1)
            assert status is not None, "the daemon never answered /status"
            got = {s["name"]: (s["status"], s["reason"]) for s in status["services"]}  # type: ignore[index, union-attr]
            assert got == {k: (v[0].value, v[1].value) for k, v in SEED_TABLE.items()}
            async with session.get(base + "/metrics") as response:
                metrics = await response.text()
        assert 'monitor_service_status{service="email",status="unhealthy"} 1.0' in metrics
        assert (
            'monitor_checks_failed_total{check="health",kind="health",service="auth"} 1.0'
            in metrics
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        start = time.monotonic()
        code = await asyncio.wait_for(proc.wait(), timeout=10)
        stopped_in = time.monotonic() - start
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert code == 0, stderr
    assert stopped_in < 6  # README: in-flight checks get 5 s on SIGTERM, then it exits
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert "monitor.started" in names and "monitor.stopped" in names
    changes = [e for e in events if e["event"] == "check.status_changed"]
    # one event per status change, not per check: each check changed once, from unknown
    checks = len(parse_config(config.read_text()).checks())
    assert len(changes) == checks


def test_bad_config_refused_with_exit_2_and_the_field(tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text("services:\n  - name: a\n    url: http://127.0.0.1:1\n    interval: soon\n")
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 2
    assert f"{config}:4: services[0].interval" in result.stderr
    assert "expected a duration" in result.stderr


def test_a_javascript_runbook_link_is_refused_at_load_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "services:\n  - name: a\n    url: http://127.0.0.1:1\n"
        "    runbook: 'javascript:fetch(\"//evil\")'\n"
    )
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 2
    assert f"{config}:4: services[0].runbook: expected an http:// or https:// URL" in (
        result.stderr
    )


def test_missing_config_file_exit_2(tmp_path: Path) -> None:
    result = run_cli("run", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_config_check(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("services:\n  - name: a\n    url: http://127.0.0.1:1\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  - name: a\n    url: http://127.0.0.1:1\n    colour: red\n")
    assert run_cli("config", "check", str(good)).returncode == 0
    result = run_cli("config", "check", str(good), str(bad))
    assert result.returncode == 2
    assert f"{bad}:4: services[0].colour: unknown key" in result.stderr


def test_demo_once_prints_the_seed_table() -> None:
    result = run_cli("demo", "--once", "--fleet-port", "0")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in result.stdout.splitlines()[1:-1]}
    assert rows == {k: [v[0].value, v[1].value] for k, v in SEED_TABLE.items()}
    assert result.stdout.splitlines()[-1].startswith("fleet: unhealthy")


def test_schema_command_prints_the_status_schema() -> None:
    result = run_cli("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout)["title"] == "FleetStatus"


ALERTS_ENV = {
    "PAGERDUTY_ROUTING_KEY": "k",
    "SLACK_WEBHOOK_URL": "https://hooks.example/x",
    "ALERT_WEBHOOK_URL": "https://hooks.example/y",
    "ALERT_WEBHOOK_SECRET": "s",
    "ALERTMANAGER_URL": "http://127.0.0.1:9093",
}
ROOT = Path(__file__).parent.parent


def test_config_check_takes_alerts_files_and_checks_them_against_the_services(
    tmp_path: Path,
) -> None:
    env = {**os.environ, **ALERTS_ENV}
    shipped = [str(ROOT / "examples" / "monitor.yaml"), str(ROOT / "alerts.yaml")]
    result = subprocess.run(
        [*MONITOR, "config", "check", *shipped], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{f}: ok" for f in shipped]
    monitor_yaml = tmp_path / "monitor.yaml"
    monitor_yaml.write_text("services:\n  - name: a\n    url: http://127.0.0.1:1\n")
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text(
        "receivers:\n  - {name: log, type: log}\nroute: [log]\nrules:\n"
        "  - name: down\n    kind: status\n    match: {services: [b]}\n"
    )
    result = subprocess.run(
        [*MONITOR, "config", "check", str(alerts), str(monitor_yaml)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 2
    assert f"{alerts}:7: rules[0].match.services[0]: unknown service 'b'" in result.stderr
    assert result.stdout == f"{monitor_yaml}: ok\n"
