"""The command line, run as users run it: a subprocess, real ports, real signals."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import parse_config
from monitor.model import Status
from monitor.simulator import SimulatedFleet, fleet_config_yaml
from tests.polling import until_value
from tests.processes import port_from_file
from tests.test_daemon import SEED_TABLE

MONITOR = [sys.executable, "-m", "monitor"]


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MONITOR, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def invoke(*args: str, env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    """The command in this process, for commands that need no served loop (refusals, checks,
    discover): exit code, stdout, stderr. A child process for each proved nothing more than
    the few kept (`test_bad_config_refused_with_exit_2_and_the_field`) and cost an
    interpreter start each."""
    result = CliRunner().invoke(cli, list(args), env={"GITHUB_ACTIONS": "", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


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
    proc = await asyncio.create_subprocess_exec(
        *MONITOR,
        *("run", "--config", str(config), "--data-dir", str(tmp_path)),
        *("--listen", "127.0.0.1:0", "--port-file", str(tmp_path / "port")),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        port = await port_from_file(tmp_path / "port", proc)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:

            async def all_checked() -> dict[str, object] | None:
                status = await fetch_json(session, base + "/status")
                services = status["services"] if status else []
                assert isinstance(services, list)
                done = services and all(
                    c["reason"] != "not_checked" for s in services for c in s["checks"]
                )  # every check, not only every service: the count of changes below
                return status if done else None

            status = await until_value(all_checked, timeout=20, every=0.1, what="every check run")
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
    assert [e["url"] for e in events if e["event"] == "monitor.listening"] == [base]
    changes = [e for e in events if e["event"] == "check.status_changed"]
    # one event per status change, not per check: each check changed once, from unknown, and
    # a first verdict is logged when it is news (not healthy): the rest is one summary
    not_healthy = sorted(k for k, (status, _) in SEED_TABLE.items() if status is not Status.HEALTHY)
    assert sorted(e["service"] for e in changes) == not_healthy  # one check each is failing
    assert {e["from"] for e in changes} == {"unknown"}
    services = [e for e in events if e["event"] == "service.status_changed"]
    assert sorted(e["service"] for e in services) == not_healthy
    (first_round,) = [e for e in events if e["event"] == "monitor.first_round"]
    assert first_round["checks"] == len(parse_config(config.read_text()).checks())
    assert first_round["services"] == {
        status.value: sum(s is status for s, _ in SEED_TABLE.values()) for status in Status
    }


async def test_two_daemons_on_port_0_get_different_ports_and_each_reports_its_own(
    tmp_path: Path,
) -> None:
    """`--listen 127.0.0.1:0` lets the OS pick; the port file and the `monitor.listening` event
    say which port, and that port answers with this daemon's own services."""
    procs = []
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
        config = tmp_path / name / "monitor.yaml"
        config.write_text(
            f"services:\n  - {{name: {name}, url: 'http://127.0.0.1:9', interval: 1h}}\n"
        )
        procs.append(
            await asyncio.create_subprocess_exec(
                *MONITOR,
                *("run", "--config", str(config), "--data-dir", str(tmp_path / name)),
                *("--listen", "127.0.0.1:0", "--port-file", str(tmp_path / name / "port")),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        )
    try:
        ports = [
            await port_from_file(tmp_path / n / "port", p)
            for n, p in zip(("alpha", "beta"), procs, strict=True)
        ]
        assert ports[0] != ports[1] and 0 not in ports
        async with aiohttp.ClientSession() as session:
            for name, port in zip(("alpha", "beta"), ports, strict=True):
                status = await fetch_json(session, f"http://127.0.0.1:{port}/status")
                assert status is not None
                assert [s["name"] for s in status["services"]] == [name]  # type: ignore[union-attr]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(proc.wait(), timeout=15) for proc in procs]
    assert codes == [0, 0]
    for proc, port in zip(procs, ports, strict=True):
        stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
        events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
        listening = [e["url"] for e in events if e["event"] == "monitor.listening"]
        assert listening == [f"http://127.0.0.1:{port}"]


def test_a_port_file_that_cannot_be_written_stops_the_daemon_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text("services:\n  - {name: a, url: 'http://127.0.0.1:9', interval: 1h}\n")
    port_file = tmp_path / "missing-dir" / "port"
    result = run_cli(
        *("run", "--config", str(config), "--data-dir", str(tmp_path)),
        *("--listen", "127.0.0.1:0", "--port-file", str(port_file)),
    )
    assert result.returncode == 2
    assert f"monitor: cannot write the port file {port_file}: No such file or directory" in (
        result.stderr
    )
    assert list((tmp_path / "missing-dir").parent.glob("missing-dir*")) == []


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
    code, _, err = invoke("run", "--config", str(config))
    assert code == 2
    assert f"{config}:4: services[0].runbook: expected an http:// or https:// URL" in err


def test_missing_config_file_exit_2(tmp_path: Path) -> None:
    code, _, err = invoke("run", "--config", str(tmp_path / "nope.yaml"))
    assert code == 2 and "cannot read" in err


def test_config_check(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("services:\n  - name: a\n    url: http://127.0.0.1:1\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  - name: a\n    url: http://127.0.0.1:1\n    colour: red\n")
    assert invoke("config", "check", str(good))[0] == 0
    code, _, err = invoke("config", "check", str(good), str(bad))
    assert code == 2
    assert f"{bad}:4: services[0].colour: unknown key" in err


def test_demo_once_prints_the_seed_table() -> None:
    result = run_cli("demo", "--once", "--fleet-port", "0")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in result.stdout.splitlines()[1:-1]}
    assert rows == {k: [v[0].value, v[1].value] for k, v in SEED_TABLE.items()}
    assert result.stdout.splitlines()[-1].startswith("fleet: unhealthy")


def test_schema_command_prints_the_status_schema() -> None:
    code, out, _ = invoke("schema")
    assert code == 0
    assert json.loads(out)["title"] == "FleetStatus"


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
    shipped = [str(ROOT / "examples" / "monitor.yaml"), str(ROOT / "alerts.yaml")]
    code, out, err = invoke("config", "check", *shipped, env=ALERTS_ENV)
    assert code == 0, err
    assert out.splitlines() == [f"{f}: ok" for f in shipped]
    monitor_yaml = tmp_path / "monitor.yaml"
    monitor_yaml.write_text("services:\n  - name: a\n    url: http://127.0.0.1:1\n")
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text(
        "receivers:\n  - {name: log, type: log}\nroute: [log]\nrules:\n"
        "  - name: down\n    kind: status\n    match: {services: [b]}\n"
    )
    code, out, err = invoke("config", "check", str(alerts), str(monitor_yaml), env=ALERTS_ENV)
    assert code == 2
    assert f"{alerts}:7: rules[0].match.services[0]: unknown service 'b'" in err
    assert out == f"{monitor_yaml}: ok\n"
