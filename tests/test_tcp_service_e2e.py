"""A service with only tcp checks and no url (issue 16's db-proxy), through `monitor run` and
`monitor verify` as users run them: it loads, shows on /status, exports metrics, pages when its
port goes away and fails the gate. And a service with no url and nothing that names its own
target is refused before anything starts."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.alerting_fixtures import Recorder
from tests.polling import until, until_value
from tests.processes import port_from_file
from tests.test_alerts_api import RULES
from tests.test_cli import MONITOR, fetch_json, invoke, run_cli


async def _port_server() -> asyncio.Server:
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)  # until the client closes
        writer.close()

    return await asyncio.start_server(hold, "127.0.0.1", 0)


def _service(status: dict[str, object] | None, name: str) -> dict[str, object] | None:
    services = status["services"] if status else []
    assert isinstance(services, list)
    return next((s for s in services if s["name"] == name), None)


async def test_a_tcp_only_service_runs_pages_and_fails_the_gate(
    tmp_path: Path, recorder: Recorder
) -> None:
    server = await _port_server()
    port = server.sockets[0].getsockname()[1]
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "defaults: {interval: 300ms, timeout: 250ms, recheck_interval: 100ms}\n"
        "services:\n"
        "  - name: db-proxy\n"
        "    tcp:\n"
        f'      - {{name: connect, address: "127.0.0.1:{port}"}}\n'
    )
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text(RULES.replace("${HOOK_URL}", recorder.url + "/hook"))
    assert invoke("config", "check", str(config), str(alerts))[0] == 0
    gate = run_cli("verify", "--config", str(config))
    assert gate.returncode == 0, gate.stdout + gate.stderr
    proc = await asyncio.create_subprocess_exec(
        *MONITOR,
        *("run", "--config", str(config), "--alerts", str(alerts), "--data-dir", str(tmp_path)),
        *("--listen", "127.0.0.1:0", "--port-file", str(tmp_path / "port")),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{await port_from_file(tmp_path / 'port', proc)}"
        async with aiohttp.ClientSession() as session:

            async def db_proxy() -> dict[str, object] | None:
                service = _service(await fetch_json(session, base + "/status"), "db-proxy")
                return service if service and service["reason"] != "not_checked" else None

            up = await until_value(db_proxy, timeout=20)
            assert (up["status"], up["url"]) == ("healthy", "")
            [check] = up["checks"]  # type: ignore[misc]
            assert (check["kind"], check["url"]) == ("tcp", f"tcp://127.0.0.1:{port}")
            assert check["detail"].startswith("connected in ")
            async with session.get(base + "/metrics") as response:
                metrics = await response.text()
            assert 'monitor_service_status{service="db-proxy",status="healthy"} 1.0' in metrics
            assert 'monitor_checks_total{check="connect",kind="tcp",service="db-proxy"}' in (
                metrics
            )

            server.close()  # the port goes away: refused, the whole service down
            await server.wait_closed()

            async def down() -> dict[str, object] | None:
                service = await db_proxy()
                return service if service and service["status"] == "unhealthy" else None

            gone = await until_value(down, timeout=20)
            assert gone["reason"] == "connection_refused"
            assert str(gone["detail"]).startswith("tcp check connect: ")
            await until(lambda: recorder.requests, timeout=20)
        page = recorder.json(0)
        assert page["status"] == "firing"
        assert page["alerts"][0]["labels"]["service"] == "db-proxy"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=15)
        stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert code == 0, stderr
    gate = run_cli("verify", "--config", str(config))
    assert gate.returncode == 1
    assert "FAIL db-proxy: not healthy: unhealthy (connection_refused)" in gate.stdout
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(e["event"] == "monitor.started" for e in events)


@pytest.mark.parametrize(
    ("service", "message"),
    [
        (
            "  - name: nothing\n    labels: {team: db}\n",
            "services[0].url: missing: expected a url, or only checks that name their own "
            "target (tcp, push)",
        ),
        (
            '  - name: mixed\n    tcp: [{name: c, address: "db:5432"}]\n    mcp: [{name: t}]\n',
            "services[0].url: missing: expected a url; its mcp checks are paths under it",
        ),
    ],
)
def test_a_service_without_url_needs_checks_that_name_their_target(
    tmp_path: Path, service: str, message: str
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text("services:\n" + service)
    code, _, err = invoke("run", "--config", str(config))  # refused before anything starts
    assert code == 2
    assert f"{config}:2: {message}" in err
