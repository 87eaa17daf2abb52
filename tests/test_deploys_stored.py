"""Announced deploys are stored with the alerting state: after a restart the page's timeline
still marks them and a failed gate still names itself; only the newest MAX_DEPLOYS stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from monitor.alerting.rules import parse_alert_rules
from monitor.alerting.service import MAX_DEPLOYS, Alerter
from monitor.metrics.daemon_metrics import MonitorMetrics

RULES = """
route: [log]
receivers:
  - {name: log, type: log}
rules: []
"""

T0 = datetime(2026, 11, 30, 13, 5, tzinfo=UTC)


def alerter(path: Path, now: list[datetime]) -> Alerter:
    rules = parse_alert_rules(RULES, env={}, services=["queue", "auth"])
    metrics = MonitorMetrics(CollectorRegistry(), "test")
    return Alerter(rules, path, metrics, clock=lambda: now[0])


async def test_a_deploy_and_its_verdict_survive_a_restart(tmp_path: Path) -> None:
    now = [T0]
    first = alerter(tmp_path / "alerts.sqlite3", now)
    deploy = await first.open_deploy(("queue",), "4f2a9c1", hold=600)
    await first.close_deploy(deploy.id, passed=False)
    first.outbox.close()

    now[0] = T0 + timedelta(minutes=1)
    second = alerter(tmp_path / "alerts.sqlite3", now)
    await second.restore()  # what start() does first
    (kept,) = second.deploys.values()
    assert (kept.id, kept.version, kept.services, kept.passed) == (
        deploy.id,
        "4f2a9c1",
        ("queue",),
        False,
    )
    assert kept.started_at == T0
    again = await second.open_deploy(("auth",), "5e3b0d2", hold=600)
    assert again.id != deploy.id and list(second.deploys) == [deploy.id, again.id]
    second.outbox.close()


async def test_only_the_newest_deploys_are_kept(tmp_path: Path) -> None:
    now = [T0]
    made = alerter(tmp_path / "alerts.sqlite3", now)
    ids = []
    for i in range(MAX_DEPLOYS + 1):
        now[0] = T0 + timedelta(seconds=i)
        ids.append((await made.open_deploy(("queue",), f"v{i}", hold=60)).id)
    assert list(made.deploys) == ids[1:]
    assert [d.id for d in made.outbox.load_deploys()] == ids[1:]
    made.outbox.close()
