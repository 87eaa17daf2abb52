"""Against a real Prometheus Alertmanager: what we POST to /api/v2/alerts is what it serves.

The binary is required (`.ci/run` installs Debian's prometheus-alertmanager): a missing
binary fails this module rather than skipping it, so CI cannot go green without the check.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.alerting.state import AlertEvent, Batch, fingerprint
from monitor.receivers import Outcome
from monitor.receivers.alertmanager import AlertmanagerConfig, AlertmanagerReceiver
from tests.processes import listening_address, stop

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
CONFIG = """
route:
  receiver: "null"
  group_wait: 1h
receivers:
  - name: "null"
"""


@contextlib.contextmanager
def running_alertmanager(workdir: Path, config: str) -> Iterator[str]:
    """A real Alertmanager with `config` on a loopback port of the OS's choice, clustering off,
    its files in `workdir`; yields its URL, and stops it (killing it if it will not stop)."""
    if BINARY is None:
        pytest.fail(
            "prometheus-alertmanager is not installed; the real-Alertmanager tests require it "
            "(apt-get install prometheus-alertmanager)"
        )
    (workdir / "alertmanager.yml").write_text(config)
    log = (workdir / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            BINARY,
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'alertmanager-data'}",
            "--web.listen-address=127.0.0.1:0",
            "--cluster.listen-address=",
            "--log.level=info",  # the "Listening on" line with the port it got
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://{listening_address(workdir / 'alertmanager.log', process, 'alertmanager')}"
        _wait_ready(url, process, workdir / "alertmanager.log")
        yield url
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_alertmanager(tmp_path_factory.mktemp("alertmanager"), CONFIG) as url:
        yield url


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"alertmanager exited with {process.returncode}: {log.read_text()[-2000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/-/ready", timeout=1) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.05)  # polling a child process's readiness, bounded by the deadline
    pytest.fail(f"alertmanager not ready within 30 s: {log.read_text()[-2000:]}")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _event(kind: str, service: str, starts: datetime, at: datetime) -> AlertEvent:
    labels = {"alertname": "CoreServiceDown", "severity": "critical", "service": service}
    return AlertEvent(
        kind=kind,
        rule="CoreServiceDown",
        fingerprint=fingerprint(labels),
        labels=labels,
        annotations={"summary": f"{service} is unhealthy", "runbook_url": "https://rb.example/x"},
        starts_at=starts,
        ends_at=at if kind == "resolved" else None,
        at=at,
        receivers=["am"],
        generator_url=f"http://localhost:8700/status?service={service}",
    )


async def _alerts(session: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
    async with session.get(f"{url}/api/v2/alerts") as response:
        assert response.status == 200
        result: list[dict[str, Any]] = await response.json()
        return result


async def _poll(
    session: aiohttp.ClientSession, url: str, predicate: Any, timeout: float = 15.0
) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        alerts = await _alerts(session, url)
        if predicate(alerts):
            return alerts
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {timeout}s; alerts: {alerts}")
        await asyncio.sleep(0.05)  # polling an external process, bounded by the deadline


def _receiver(url: str, **options: str) -> AlertmanagerReceiver:
    config = {"type": "alertmanager", "name": "am", "url": url, **options}
    return AlertmanagerReceiver(AlertmanagerConfig.model_validate(config))


def _ours(alerts: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["labels"].get("service") == service]


async def test_firing_then_resolved_round_trip(
    alertmanager: str, session: aiohttp.ClientSession
) -> None:
    receiver = _receiver(alertmanager, hold="1h")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    firing = _event("firing", "do-db", start, datetime.now(UTC))
    result = await receiver.send(session, Batch(receiver="am", events=(firing,)))
    assert result.outcome is Outcome.DELIVERED, result

    alerts = await _poll(session, alertmanager, lambda a: len(_ours(a, "do-db")) == 1)
    (alert,) = _ours(alerts, "do-db")
    assert alert["labels"] == firing.labels
    assert alert["annotations"] == firing.annotations
    assert alert["status"]["state"] == "active"
    assert alert["generatorURL"] == "http://localhost:8700/status?service=do-db"
    assert datetime.fromisoformat(alert["startsAt"].replace("Z", "+00:00")) == start
    ends = datetime.fromisoformat(alert["endsAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=55) < ends - datetime.now(UTC) <= timedelta(hours=1)

    resolved = _event("resolved", "do-db", start, datetime.now(UTC))
    result = await receiver.send(session, Batch(receiver="am", events=(resolved,)))
    assert result.outcome is Outcome.DELIVERED
    await _poll(session, alertmanager, lambda a: not _ours(a, "do-db"))


async def test_two_replicas_are_one_alert(
    alertmanager: str, session: aiohttp.ClientSession
) -> None:
    receiver = _receiver(alertmanager)
    start = datetime.now(UTC).replace(microsecond=0)
    for _replica in range(2):
        event = _event("firing", "auth", start, datetime.now(UTC))
        assert (
            await receiver.send(session, Batch(receiver="am", events=(event,)))
        ).outcome is Outcome.DELIVERED
    alerts = await _poll(session, alertmanager, lambda a: len(_ours(a, "auth")) >= 1)
    assert len(_ours(alerts, "auth")) == 1


async def test_invalid_alert_is_final(alertmanager: str, session: aiohttp.ClientSession) -> None:
    async with session.post(f"{alertmanager}/api/v2/alerts", json=[{"labels": {}}]) as answer:
        status = answer.status
    from monitor.receivers._base import classify

    assert status == 400 and classify(status, None, datetime.now(UTC)).outcome is Outcome.FAILED


LABEL_SETS = [
    {"alertname": "CoreServiceDown", "severity": "critical", "service": "do-db"},
    {"alertname": "Unicode", "service": "Zürich ☃ 東京 ÿ", "team": "ümlaut"},
    {"alertname": "EmptyValue", "service": "x", "empty": ""},
    {"alertname": "Many", **{f"label_{i:02d}": f"value {i} ✓" for i in range(60)}},
    {"alertname": "Separator", "a": "b\u00ffc", "ab": "c", "z": "\t\n\"'\\"},
]


async def test_fingerprints_are_the_ones_alertmanager_reports(
    alertmanager: str, session: aiohttp.ClientSession
) -> None:
    """Issue 21 item 5: tools correlate our webhooks and Alertmanager's API by fingerprint."""
    receiver = _receiver(alertmanager, hold="1h")
    now = datetime.now(UTC)
    events = []
    for labels in LABEL_SETS:
        tagged = {**labels, "suite": "fingerprint"}
        event = _event("firing", "x", now, now)
        events.append(
            event.model_copy(update={"labels": tagged, "fingerprint": fingerprint(tagged)})
        )
    result = await receiver.send(session, Batch(receiver="am", events=tuple(events)))
    assert result.outcome is Outcome.DELIVERED, result

    def ours(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [a for a in alerts if a["labels"].get("suite") == "fingerprint"]

    alerts = await _poll(session, alertmanager, lambda a: len(ours(a)) == len(LABEL_SETS))
    reported = {a["labels"]["alertname"]: a["fingerprint"] for a in ours(alerts)}
    assert reported == {e.labels["alertname"]: e.fingerprint for e in events}
