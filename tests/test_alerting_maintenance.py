"""Maintenance windows (`monitor/alerting/maintenance.py`): openings across DST with an injected
clock, pages held not lost, the config's errors, and the admin API with /status."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.alerting.evaluate import evaluate
from monitor.alerting.grouping import AlertGroup, settings_for, step_groups
from monitor.alerting.maintenance import MaintenanceWindow, last_start, service_windows, silences
from monitor.alerting.state import AlertState, RuleInput
from monitor.errors import ConfigError
from monitor.simulator import Behavior, SimulatedFleet, fleet_config
from tests.alerting_fixtures import Recorder, U, rules, service
from tests.polling import until
from tests.test_alerts_api import TOKEN, api  # noqa: F401  # the fixture

BERLIN = "Europe/Berlin"


def down_confirmed(monitor: Any, service: str) -> bool:
    """The service's health check has failed four times in a row (its rule confirmed it)."""
    state = monitor.tracked[f"{service}/health/health"].state
    return (
        state is not None and state.verdict.status.value == "unhealthy" and state.consecutive >= 4
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


def weekly(duration: float = 3600.0, schedule: str = "0 2 * * SUN") -> MaintenanceWindow:
    return MaintenanceWindow(
        name="db-migration",
        services=("do-db",),
        schedule=schedule,
        duration=duration,
        timezone=BERLIN,
    )


@pytest.mark.parametrize(
    ("now", "opening"),
    [
        # an ordinary winter Sunday: 02:00 CET is 01:00 UTC
        (utc(2026, 3, 22, 1, 0), (utc(2026, 3, 22, 1, 0), utc(2026, 3, 22, 2, 0))),
        (utc(2026, 3, 22, 0, 59, 59), None),
        (utc(2026, 3, 22, 1, 59, 59), (utc(2026, 3, 22, 1, 0), utc(2026, 3, 22, 2, 0))),
        (utc(2026, 3, 22, 2, 0), None),  # the end is not in it
        # spring forward (29 March): 02:00 does not exist; it opens at 03:00 CEST = 01:00 UTC
        (utc(2026, 3, 29, 0, 30), None),
        (utc(2026, 3, 29, 1, 0), (utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0))),
        # summer: 02:00 CEST is 00:00 UTC
        (utc(2026, 4, 5, 0, 0), (utc(2026, 4, 5, 0, 0), utc(2026, 4, 5, 1, 0))),
        # fall back (25 October): 02:00 happens twice; the window opens once, at the first
        (utc(2026, 10, 25, 0, 30), (utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 1, 0))),
        (utc(2026, 10, 25, 1, 30), None),
        (utc(2026, 11, 1, 1, 30), (utc(2026, 11, 1, 1, 0), utc(2026, 11, 1, 2, 0))),
    ],
)
def test_a_weekly_window_in_berlin_opens_at_the_local_time_across_dst(
    now: datetime, opening: tuple[datetime, datetime] | None
) -> None:
    assert weekly().occurrence(now) == opening


def test_last_start_counts_the_instant_it_fires() -> None:
    assert last_start("0 2 * * SUN", BERLIN, utc(2026, 3, 22, 1, 0)) == utc(2026, 3, 22, 1, 0)
    assert last_start("0 2 * * SUN", BERLIN, utc(2026, 3, 22, 0, 59)) == utc(2026, 3, 15, 1, 0)


def test_a_one_off_window_is_open_from_start_until_end() -> None:
    window = MaintenanceWindow(
        name="x", services=("a",), start=utc(2026, 1, 1, 10), end=utc(2026, 1, 1, 11)
    )
    assert window.occurrence(utc(2026, 1, 1, 9, 59)) is None
    assert window.occurrence(utc(2026, 1, 1, 10)) == (utc(2026, 1, 1, 10), utc(2026, 1, 1, 11))
    assert window.occurrence(utc(2026, 1, 1, 11)) is None
    assert window.next_start(utc(2026, 1, 1, 9)) == utc(2026, 1, 1, 10)


def test_services_and_matchers_pick_what_the_window_holds() -> None:
    window = MaintenanceWindow(
        name="x",
        services=("do-db", "a.b"),
        matchers={"team": "core"},
        start=utc(2026, 1, 1),
        end=utc(2026, 1, 2),
    )
    now = utc(2026, 1, 1, 12)
    held = service_windows(
        [window],
        {
            "do-db": {"team": "core"},
            "a.b": {"team": "core"},
            "axb": {"team": "core"},
            "auth": {"team": "core"},
            "do-db2": {"team": "core"},
        },
        now,
    )
    assert held == {"do-db": ("x", utc(2026, 1, 2)), "a.b": ("x", utc(2026, 1, 2))}
    (silence,) = silences([window], now)
    assert silence.id == "maintenance:x"
    assert not silence.silences({"service": "do-db", "team": "infra"}, now)


def test_a_page_is_held_across_the_dst_switch_and_goes_out_at_the_first_evaluation_after() -> None:
    """Daily 01:30 Berlin for 2 h over the spring-forward night: 00:30 UTC (01:30 CET) to
    02:30 UTC (04:30 CEST). A service down inside it pages at the first evaluation at or
    after 02:30 UTC, through default grouping (the alert waited in the window already)."""
    config = rules(
        "maintenance:\n"
        "  - {name: nightly, services: [db], schedule: '30 1 * * *', duration: 2h,"
        " timezone: Europe/Berlin}\n"
        "rules:\n  - {name: Down, kind: status, for: 2, resolve_after: 2}\n"
    )
    settings = {n: settings_for(config.config.grouping, c) for n, c in config.receivers.items()}
    state, groups = AlertState(), dict[str, AlertGroup]()
    start, down_at = utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 0, 40)
    sent: list[datetime] = []
    for tick in range(int(3 * 3600 / 30)):
        now = start + timedelta(seconds=30 * tick)
        status = U if now >= down_at else U.__class__("healthy")
        held = silences(config.config.maintenance, now)
        view = RuleInput({"db": service("db", status, now)}, start, now, silences=held)
        state, events = evaluate(config, state, view, now)
        groups, batches = step_groups(groups, events, state.alerts, settings, now)
        sent += [now for _ in batches]
        if utc(2026, 3, 29, 1, 0) <= now < utc(2026, 3, 29, 2, 30):  # the missing hour included
            key = next(iter(state.alerts))
            assert state.alerts[key].suppressed_by == "silence:maintenance:nightly"
    assert sent == [utc(2026, 3, 29, 2, 30)]


@pytest.mark.parametrize(
    ("entry", "location", "message"),
    [
        (
            "{name: w, schedule: '0 2 * * *', duration: 1h}",
            "maintenance[0]",
            "services or matchers",
        ),
        (
            "{name: w, services: [a], schedule: 'nope', duration: 1h}",
            "maintenance[0].schedule",
            "not a cron expression",
        ),
        (
            "{name: w, services: [a], schedule: '0 2 * * *', duration: 1h, timezone: Mars/Base}",
            "maintenance[0].timezone",
            "unknown timezone",
        ),
        ("{name: w, services: [a], schedule: '0 2 * * *'}", "maintenance[0]", "both schedule"),
        (
            "{name: w, services: [a], schedule: '0 2 * * *', duration: 1h, start: 2026-01-01}",
            "maintenance[0]",
            "either schedule",
        ),
        (
            "{name: w, services: [a], start: 2026-01-02, end: 2026-01-01}",
            "maintenance[0]",
            "end after it",
        ),
        (
            "{name: w, services: [nope], start: 2026-01-01, end: 2026-01-02}",
            "maintenance[0].services[0]",
            "unknown service",
        ),
    ],
)
def test_a_bad_window_names_its_line_and_field(entry: str, location: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        rules(f"maintenance:\n  - {entry}\nrules: []\n", services=["a"])
    (problem,) = caught.value.problems
    assert problem.location == location and message in problem.message and problem.line == 5


def test_two_windows_with_one_name_are_refused() -> None:
    entry = "{name: w, services: [a], start: 2026-01-01, end: 2026-01-02}"
    with pytest.raises(ConfigError, match="duplicate window 'w'"):
        rules(f"maintenance:\n  - {entry}\n  - {entry}\nrules: []\n")


async def test_the_api_adds_a_window_that_holds_the_page_and_status_shows_it(
    api: Any,  # noqa: F811
    fleet: SimulatedFleet,
) -> None:
    session, monitor = api
    body = {"name": "queue-upgrade", "services": ["queue"], "duration": "10m", "comment": "v2"}
    async with session.post("/api/maintenance", json=body) as r:
        assert r.status == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with session.post("/api/maintenance", json={"name": "x"}, headers=auth) as r:
        assert r.status == 400
    async with session.post("/api/maintenance", json=body, headers=auth) as r:
        assert r.status == 201
        added = await r.json()
    async with session.get("/api/maintenance") as r:
        (listed,) = (await r.json())["maintenance"]
    assert listed["name"] == "queue-upgrade" and listed["open"] is True
    assert listed["ends_at"] == datetime.fromisoformat(added["end"]).isoformat()
    async with session.get("/status") as r:
        services = {s["name"]: s for s in (await r.json())["services"]}
    assert services["queue"]["maintenance"] == {"name": "queue-upgrade", "ends_at": added["end"]}
    assert services["email"]["maintenance"] is None
    async with session.get("/") as r:
        page = await r.text()
    ends = datetime.fromisoformat(added["end"]).astimezone(UTC)
    assert "In maintenance (queue-upgrade) until " in page and f"{ends:%H:%M} UTC" in page

    fleet.set_behavior("queue", Behavior(status=503, body='{"status": "down"}'))

    await until(lambda: down_confirmed(monitor, "queue"))
    await monitor.alerter.evaluate_now()
    records = [r for r in monitor.alerter.state.alerts.values() if r.labels["service"] == "queue"]
    assert [r.suppressed_by for r in records] == ["silence:maintenance:queue-upgrade"]
    monitor.alerter.windows = []  # the window ends: the held page goes out
    await monitor.alerter.evaluate_now()
    records = [r for r in monitor.alerter.state.alerts.values() if r.labels["service"] == "queue"]
    assert records[0].notified_at is not None


async def test_a_deploy_holds_its_pages_and_a_failed_gate_pages_naming_the_version(
    api: Any,  # noqa: F811
    fleet: SimulatedFleet,
    recorder: Recorder,
) -> None:
    session, monitor = api
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"services": ["queue"], "version": "4f2a9c1", "hold": "10m"}
    async with session.post("/api/deploys", json=body) as r:
        assert r.status == 401
    async with session.post("/api/deploys", json={**body, "hold": "3h"}, headers=auth) as r:
        assert r.status == 400
    async with session.post("/api/deploys", json=body, headers=auth) as r:
        assert r.status == 201
        deploy = await r.json()
    async with session.get("/metrics") as r:
        assert (
            'monitor_deploy_timestamp_seconds{service="queue",version="4f2a9c1"}' in await r.text()
        )
    async with session.get("/status") as r:
        (queue,) = [s for s in (await r.json())["services"] if s["name"] == "queue"]
    assert queue["maintenance"]["name"] == f"deploy-{deploy['id']}"

    fleet.set_behavior("queue", Behavior(status=503, body='{"status": "down"}'))

    await until(lambda: down_confirmed(monitor, "queue"))
    await monitor.alerter.evaluate_now()
    assert not any(b'"queue"' in b for _, _, b in recorder.requests), "held during the deploy"
    async with session.post("/api/deploys/nope", json={"passed": False}, headers=auth) as r:
        assert r.status == 404
    async with session.post(
        f"/api/deploys/{deploy['id']}", json={"passed": False}, headers=auth
    ) as r:
        assert r.status == 200 and (await r.json())["passed"] is False
    await monitor.alerter.evaluate_now()  # the next evaluation pages
    await until(lambda: any(b'"queue"' in b for _, _, b in recorder.requests))
    (page,) = [json.loads(b) for _, _, b in recorder.requests if b'"queue"' in b]
    (alert,) = page["alerts"]
    assert alert["annotations"]["deploy"].startswith("deploy 4f2a9c1 failed its gate")


async def test_a_failed_gate_with_announce_pages_naming_the_version(
    api: Any,  # noqa: F811
    fleet: SimulatedFleet,
    recorder: Recorder,
    tmp_path: Path,
) -> None:
    """`monitor verify --announce` (the real command, in a subprocess) opens the window, the
    gate fails on a service that is down, and its page names the version."""
    session, monitor = api
    auth = {"Authorization": f"Bearer {TOKEN}"}
    silence = {"matchers": {"service": "queue"}, "duration": "10m"}  # down before the deploy
    async with session.post("/api/silences", json=silence, headers=auth) as r:
        silence_id = (await r.json())["id"]
    fleet.set_behavior("queue", Behavior(status=503, body='{"status": "down"}'))
    config = tmp_path / "gate.yaml"
    config.write_text(json.dumps(fleet_config(fleet, interval="1s", timeout="500ms")))
    daemon = str(session._base_url)
    gate = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "verify",
        "--config",
        str(config),
        "--service",
        "queue",
        "--announce",
        daemon,
        "--deploy-version",
        "9.9.9",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "MONITOR_ADMIN_TOKEN": TOKEN},
    )
    await until(lambda: monitor.alerter.windows, timeout=30)  # announced: the window holds
    async with session.delete(f"/api/silences/{silence_id}", headers=auth) as r:
        assert r.status == 200
    out, err = await asyncio.wait_for(gate.communicate(), timeout=60)
    assert gate.returncode == 1, (out, err)
    assert b"could not" not in err
    (deploy,) = monitor.alerter.deploys.values()
    assert deploy.version == "9.9.9" and deploy.passed is False
    assert monitor.alerter.windows == []
    await until(lambda: any(b'"queue"' in b for _, _, b in recorder.requests))
    (page,) = [json.loads(b) for _, _, b in recorder.requests if b'"queue"' in b]
    assert page["alerts"][0]["annotations"]["deploy"].startswith("deploy 9.9.9 failed its gate")
