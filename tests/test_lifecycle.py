"""Restart, reload, shutdown, admin auth and secrets: the daemon as a real process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.config import parse_config
from monitor.simulator import SimulatedFleet, fleet_config
from tests.polling import until_value
from tests.processes import port_from_file

ADMIN = "adm-7f3c9a2e51b84d06"
SECRET = "tok-5be1c0d9e8a74f23"
HOOK_SECRET = "hook-9d1e77c0b2f3"
HMAC_SECRET = "hmac-4a0f2c8e61d9"
PD_SECRET = "pdkey-71b3e9a05c24"


class Daemon:
    """`monitor run` in a subprocess, with helpers to read it over HTTP."""

    def __init__(
        self,
        config: Path,
        data_dir: Path,
        env: dict[str, str] | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.config, self.data_dir, self.extra = config, data_dir, extra
        self.port_file = data_dir / "monitor.port"
        self.base = ""  # known once the daemon has bound port 0 and said which
        self.env = {**os.environ, **(env or {})}
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr = b""

    async def start(self) -> None:
        self.port_file.unlink(missing_ok=True)  # an earlier daemon's, killed before it could
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "monitor",
            "run",
            "--config",
            str(self.config),
            *("--listen", "127.0.0.1:0", "--port-file", str(self.port_file)),
            "--data-dir",
            str(self.data_dir),
            *self.extra,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
        )
        self.base = f"http://127.0.0.1:{await port_from_file(self.port_file, self.proc)}"
        await self.until(lambda s: s is not None, "/healthz", timeout=15)

    async def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(self.base + path, headers=headers) as response,
            ):
                text = await response.text()
                try:
                    return response.status, json.loads(text)
                except ValueError:
                    return response.status, text
        except aiohttp.ClientError:
            return 0, None

    async def post(self, path: str, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.base + path, headers=headers) as response,
        ):
            return response.status, await response.json()

    async def until(
        self,
        predicate: Callable[[Any], bool],
        path: str = "/status",
        timeout: float = 15,
        token: str | None = None,
    ) -> Any:
        last: list[Any] = [None]

        async def satisfied() -> tuple[Any] | None:
            code, last[0] = await self.get(path, token)
            return (last[0],) if code and predicate(last[0]) else None

        try:
            (body,) = await until_value(satisfied, timeout, every=0.1, what=path)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last: {last[0]!r}"[:500]) from None
        return body

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), timeout=15)
        if self.proc.stderr is not None:
            self.stderr += await self.proc.stderr.read()
        return code


async def wait_for_rows(db: Path, count: int, timeout: float = 10) -> None:
    async def stored() -> bool:
        if not db.exists():
            return False
        with contextlib.closing(sqlite3.connect(db)) as conn:
            try:
                return bool(conn.execute("SELECT count(*) FROM check_state").fetchone()[0] >= count)
            except sqlite3.OperationalError:  # not created yet
                return False

    await until_value(stored, timeout, every=0.1, what=f"the store holding {count} states")


def all_checked(status: Any) -> bool:
    return bool(status) and all(s["reason"] != "not_checked" for s in status["services"])


def by_name(status: Any) -> dict[str, Any]:
    return {s["name"]: s for s in status["services"]}


Launch = Callable[..., Awaitable[Daemon]]


@pytest.fixture
async def launch() -> AsyncIterator[Launch]:
    """`await launch(config, data_dir, env=..., extra=...)`: a started Daemon, killed at the end
    of the test if it is still running."""
    started: list[Daemon] = []

    async def start(
        config: Path,
        data_dir: Path,
        env: dict[str, str] | None = None,
        extra: tuple[str, ...] = (),
    ) -> Daemon:
        daemon = Daemon(config, data_dir, env, extra)
        started.append(daemon)
        await daemon.start()
        return daemon

    yield start
    for daemon in started:
        if daemon.proc is not None and daemon.proc.returncode is None:
            daemon.proc.kill()
            await daemon.proc.wait()


def write_config(
    directory: Path,
    fleet: SimulatedFleet,
    *,
    extra: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> Path:
    """The fleet's config (without `drop`, plus `extra`) as directory/monitor.yaml."""
    data: dict[str, Any] = fleet_config(fleet, interval="500ms", timeout="400ms")
    data["services"] = [s for s in data["services"] if s["name"] not in drop]
    for service in data["services"]:
        service.pop("depends_on", None)
    data.update(extra or {})
    path = directory / "monitor.yaml"
    path.write_text(json.dumps(data))
    return path


async def test_sigkill_then_restart_keeps_status_and_since(
    fleet: SimulatedFleet, tmp_path: Path, launch: Launch
) -> None:
    config = write_config(tmp_path, fleet)
    first = await launch(config, tmp_path)
    before = by_name(await first.until(all_checked))
    checks = len(parse_config(config.read_text()).checks())
    await wait_for_rows(tmp_path / "monitor.sqlite3", checks)  # the periodic flush has run
    await first.stop(signal.SIGKILL)

    second = await launch(config, tmp_path)
    code, status = await second.get("/status")
    assert code == 200
    after = by_name(status)
    for name in ("auth", "email", "do-db", "queue"):
        assert after[name]["status"] == before[name]["status"], name
        assert after[name]["since"] == before[name]["since"], "since survives the restart"
    assert await second.stop() == 0


async def test_sighup_reload_applies_valid_and_refuses_invalid(
    fleet: SimulatedFleet, tmp_path: Path, launch: Launch
) -> None:
    config = write_config(tmp_path, fleet, drop=("queue",))
    daemon = await launch(config, tmp_path)
    before = by_name(await daemon.until(all_checked))
    assert "queue" not in before

    write_config(tmp_path, fleet)
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGHUP)
    after = by_name(await daemon.until(lambda s: "queue" in by_name(s) and all_checked(s)))
    assert after["auth"]["since"] == before["auth"]["since"], "unchanged services keep state"
    assert after["queue"]["status"] == "healthy"
    checks = len(parse_config(config.read_text()).checks())

    config.write_text("services:\n  - name: queue\n    url: nope\n")
    daemon.proc.send_signal(signal.SIGHUP)
    metrics = await daemon.until(
        lambda m: isinstance(m, str) and "monitor_config_last_reload_successful 0.0" in m,
        "/metrics",
    )
    assert f"monitor_checks_configured {checks}.0" in metrics
    _, status = await daemon.get("/status")
    assert "auth" in by_name(status), "the old config keeps running"
    assert await daemon.stop() == 0
    assert b"config.reload_failed" in daemon.stderr


async def test_admin_reload_needs_the_token_and_reads_can_too(
    fleet: SimulatedFleet, tmp_path: Path, launch: Launch
) -> None:
    config = write_config(
        tmp_path,
        fleet,
        extra={"auth": {"admin_token": "${MONITOR_ADMIN}", "read_token": "${MONITOR_READ}"}},
    )
    daemon = await launch(config, tmp_path, env={"MONITOR_ADMIN": ADMIN, "MONITOR_READ": SECRET})
    assert (await daemon.get("/status"))[0] == 401
    assert (await daemon.get("/metrics"))[0] == 401
    assert (await daemon.get("/status", SECRET))[0] == 200
    assert (await daemon.get("/status", ADMIN))[0] == 200
    code, health = await daemon.get("/healthz")  # open without a token: a liveness probe has none
    assert (code, health["status"], health["problems"]) == (200, "healthy", [])
    assert (await daemon.post("/-/reload"))[0] == 401
    assert (await daemon.post("/-/reload", SECRET))[0] == 401, "a read token is not admin"
    code, body = await daemon.post("/-/reload", ADMIN)
    assert code == 200 and body["ok"] is True
    assert await daemon.stop() == 0


async def test_admin_api_disabled_without_a_token(
    fleet: SimulatedFleet, tmp_path: Path, launch: Launch
) -> None:
    config = write_config(tmp_path, fleet)
    daemon = await launch(config, tmp_path)
    code, body = await daemon.post("/-/reload", "anything")
    assert code == 403 and "disabled" in body["error"]
    assert await daemon.stop() == 0


async def test_secrets_never_appear_in_any_output(
    fleet: SimulatedFleet, tmp_path: Path, launch: Launch, refused_port: int
) -> None:
    config = tmp_path / "monitor.yaml"
    data: dict[str, Any] = fleet_config(fleet, interval="500ms", timeout="400ms")
    data["defaults"]["headers"] = {"Authorization": "Bearer ${SVC_TOKEN}"}
    data["auth"] = {"admin_token": "${MONITOR_ADMIN}"}
    config.write_text(json.dumps(data))
    # receivers' secrets too: a webhook URL with a token in it (unreachable, so delivery
    # fails and is logged), an HMAC secret and a PagerDuty routing key
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text(
        "grouping: {group_wait: 0s, group_interval: 0s}\n"
        "route: [hook, pd]\n"
        "receivers:\n"
        "  - {name: hook, type: webhook, url: '${HOOK_URL}', hmac_secret: '${HOOK_HMAC}'}\n"
        "  - {name: pd, type: pagerduty, routing_key: '${PD_KEY}', url: '${PD_URL}'}\n"
        "rules:\n"
        "  - {name: ServiceDown, kind: status, status: [unhealthy], for: 1}\n"
    )
    receiver_secrets = {
        "HOOK_URL": f"http://127.0.0.1:{refused_port}/hooks/{HOOK_SECRET}",
        "HOOK_HMAC": HMAC_SECRET,
        "PD_KEY": PD_SECRET,
        "PD_URL": f"http://127.0.0.1:{refused_port}/v2/enqueue",
    }
    daemon = await launch(
        config,
        tmp_path,
        env={"SVC_TOKEN": SECRET, "MONITOR_ADMIN": ADMIN, **receiver_secrets},
        extra=("--alerts", str(alerts)),
    )
    outputs = [json.dumps(await daemon.until(all_checked))]
    for path in ("/metrics", "/healthz", "/status/schema", "/status/auth"):
        outputs.append(str((await daemon.get(path))[1]))
    outputs.append(str((await daemon.post("/-/reload", "wrong"))[1]))
    config.write_text(config.read_text().replace('"interval": "500ms"', '"interval": "never"'))
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGHUP)
    await daemon.until(lambda m: "monitor_config_last_reload_successful 0.0" in str(m), "/metrics")
    assert await daemon.stop() == 0
    outputs.append(daemon.stderr.decode())
    stores = b"".join(p.read_bytes() for p in tmp_path.glob("*.sqlite3*"))
    secrets = (SECRET, ADMIN, HOOK_SECRET, HMAC_SECRET, PD_SECRET)
    for text in outputs:
        assert not [s for s in secrets if s in text]
    assert not [s for s in secrets if s.encode() in stores]
    assert "alert.event" in outputs[-1], "alerts were evaluated and sent (and failed)"
    assert "config.reload_failed" in outputs[-1], "the run did log"
