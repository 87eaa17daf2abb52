"""`/status`'s kept JSON per service (http/status_views.py) and the unvalidated views behind it
(model.unvalidated): byte for byte what validated models give, for a service with every field
set, and rebuilt whenever what a service shows changes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.alerting.maintenance import MaintenanceWindow
from monitor.fleet.sharding import ShardSpec
from monitor.http.app import build_app, serve
from monitor.http.status_api import VIEWS_KEY, fleet_json_chunks
from monitor.http.status_views import StatusViews
from monitor.model import (
    Certificate,
    CheckStatus,
    Component,
    FleetStatus,
    Page,
    Reason,
    ServiceStatus,
    Status,
    Verdict,
)
from monitor.runtime.daemon import Monitor
from monitor.runtime.settings import MonitorSettings
from monitor.slo import LatencySource
from tests.alerting_fixtures import HOOK_ALERTS, alerting_monitor
from tests.polling import until
from tests.test_status_document import CONFIG

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FULL = Verdict(
    status=Status.DEGRADED,
    reason=Reason.COMPONENT_DEGRADED,
    detail="cache: slow",
    http_status=200,
    components={"cache": Component(status=Status.DEGRADED, detail="slow")},
    version="1.2.3",
    evidence='{"status":"degraded"}',
    tls=Certificate(
        host="api.test",
        not_after=T0 + timedelta(days=30),
        chain_not_after=T0 + timedelta(days=20),
        days_left=20,
        subject="CN=api.test",
        issuer="CN=ca",
        expiring_subject="CN=intermediate",
        verified=False,
    ),
)
OK = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="reports healthy (JSON)")


def monitor_at(tmp_path: Path) -> Monitor:
    """test_status_document's fleet (api with every service field, its rpc check db, and db)
    on a one-shard replica (so `shard` is set) with an alerter (maintenance), clock at T0."""
    monitor = alerting_monitor(CONFIG, HOOK_ALERTS + "  []\n", "http://127.0.0.1:9/hook", tmp_path)
    monitor.settings = MonitorSettings(shard=ShardSpec(0, 1, 1))
    monitor.apply_config(monitor.config)  # indexed again as the replica it now is
    monitor.clock = lambda: T0
    return monitor


def answer(views: StatusViews, monitor: Monitor, names: Any = None, page: Any = None) -> bytes:
    return b"".join(fleet_json_chunks(*views.answer(monitor, names, page)))


def validated(monitor: Monitor, names: Any = None, page: Any = None) -> bytes:
    """The same document from validated models: every value checked and copied."""
    fleet = monitor.status(names).model_copy(update={"page": page})
    return FleetStatus.model_validate(fleet.model_dump()).model_dump_json().encode()


def feed_full(monitor: Monitor) -> None:
    """Every field of api's health check set: a full verdict, 20 round trips (enough to judge
    within_target), a second result (consecutive 2)."""
    latency = monitor.config.latency
    for record in monitor.by_service["api"]:
        check = record.check
        if check.name == "health":
            for i in range(latency.min_samples):
                record.record_latency(
                    check.target, 0.004 + i / 1000, LatencySource.SERVER_TIMING,
                    time.monotonic(), latency.windows, latency.min_samples,
                )  # fmt: skip
            monitor.apply_verdict(check, FULL, T0 - timedelta(seconds=30), 0.0123456)
            monitor.apply_verdict(check, FULL, T0, 0.0234567)
        else:
            monitor.apply_verdict(check, OK, T0, 0.001)
    for record in monitor.by_service["db"]:
        monitor.apply_verdict(record.check, OK, T0, 0.002)


def test_every_field_is_what_validated_models_give(tmp_path: Path) -> None:
    monitor = monitor_at(tmp_path)
    feed_full(monitor)
    monitor.alerter.windows = [  # type: ignore[union-attr]
        MaintenanceWindow(name="upgrade", services=("api",), start=T0, end=T0 + timedelta(hours=1))
    ]
    page = Page(total=2, limit=1, next_cursor="YXBp")
    body = answer(StatusViews(), monitor, ["api"], page)
    assert body == validated(monitor, ["api"], page)
    fleet = FleetStatus.model_validate_json(body)
    assert fleet.shard is not None and fleet.page == page
    (api,) = fleet.services
    health = next(c for c in api.checks if c.name == "health")
    for model, fields in ((api, ServiceStatus.model_fields), (health, CheckStatus.model_fields)):
        empty = [f for f in fields if getattr(model, f) in (None, "", {}, [])]
        assert empty == [], f"set these in the test so their JSON is pinned: {empty}"
    assert health.latency_ms is not None and health.latency_ms.count == 20
    assert health.duration_ms == 23.457 and health.consecutive == 2


def test_a_kept_view_is_the_same_bytes_until_a_check_of_its_service_runs(tmp_path: Path) -> None:
    monitor = monitor_at(tmp_path)
    feed_full(monitor)
    views = StatusViews()
    first = views.answer(monitor, None)[1]
    again = views.answer(monitor, None)[1]
    assert [a is b for a, b in zip(first, again, strict=True)] == [True, True]
    (db,) = monitor.by_service["db"]
    monitor.apply_verdict(db.check, OK, T0 + timedelta(seconds=60), 0.005)
    after = views.answer(monitor, None)[1]
    assert after[0] is first[0] and after[1] is not first[1]
    assert b'"consecutive":2' in after[1]
    assert answer(views, monitor) == validated(monitor)


def test_a_status_change_rebuilds_the_service_and_the_counts(tmp_path: Path) -> None:
    monitor = monitor_at(tmp_path)
    feed_full(monitor)
    views = StatusViews()
    assert answer(views, monitor) == validated(monitor)
    (db,) = monitor.by_service["db"]
    down = Verdict(status=Status.UNHEALTHY, reason=Reason.SERVER_ERROR, detail="HTTP 500")
    monitor.apply_verdict(db.check, down, T0 + timedelta(seconds=60), 0.005)
    body = answer(views, monitor)
    assert body == validated(monitor)
    fleet = FleetStatus.model_validate_json(body)
    assert fleet.status is Status.UNHEALTHY and fleet.counts[Status.UNHEALTHY] == 1


@pytest.mark.parametrize("opens", [True, False])
def test_a_maintenance_window_opening_or_closing_rebuilds_what_it_holds(
    tmp_path: Path, opens: bool
) -> None:
    monitor = monitor_at(tmp_path)
    feed_full(monitor)
    alerter = monitor.alerter
    assert alerter is not None
    window = MaintenanceWindow(
        name="upgrade", services=("db",), start=T0, end=T0 + timedelta(hours=1)
    )
    alerter.windows = [] if opens else [window]
    views = StatusViews()
    before = answer(views, monitor)
    alerter.windows = [window] if opens else []
    after = answer(views, monitor)
    assert after == validated(monitor) and after != before
    assert (b'"maintenance":{"name":"upgrade"' in after) is opens


def test_a_reload_rebuilds_every_view(tmp_path: Path) -> None:
    monitor = monitor_at(tmp_path)
    feed_full(monitor)
    views = StatusViews()
    assert b'"tier":"edge"' in answer(views, monitor)
    api, db = CONFIG.services
    relabelled = api.model_copy(update={"labels": {"tier": "core"}})
    monitor.apply_config(CONFIG.model_copy(update={"services": [relabelled, db]}))
    body = answer(views, monitor)
    assert b'"tier":"core"' in body and b'"tier":"edge"' not in body
    assert body == validated(monitor)


def test_services_not_shown_are_left_out_and_the_order_is_the_callers(tmp_path: Path) -> None:
    monitor = monitor_at(tmp_path)
    feed_full(monitor)
    views = StatusViews()
    shell, parts = views.answer(monitor, ["db", "no-such", "api"])
    assert [ServiceStatus.model_validate_json(p).name for p in parts] == ["db", "api"]
    assert sum(shell.counts.values()) == 2


async def test_a_failing_service_is_rebuilt_after_its_result_and_a_healthy_one_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once /status has been asked (`follow`), a result of a service that is not healthy
    rebuilds its view soon after, off the request; a healthy one waits to be asked."""
    monitor = monitor_at(tmp_path)
    feed_full(monitor)  # api degraded, db healthy
    views = StatusViews()
    views.answer(monitor, None)
    views.follow(monitor)
    built: list[list[str]] = []
    status = monitor.status

    def counted(names: Any = None) -> FleetStatus:
        if names is not None:  # (the alerter asks for the whole document)
            built.append(list(names))
        return status(names)

    monkeypatch.setattr(monitor, "status", counted)
    later = T0 + timedelta(seconds=60)
    for record in monitor.by_service["api"] + monitor.by_service["db"]:
        verdict = FULL if record.check.name == "health" and record.check.service == "api" else OK
        monitor.apply_verdict(record.check, verdict, later, 0.005)
    await until(lambda: built, timeout=5.0, what="api's view rebuilt after its results")
    assert built == [["api"]]
    body = answer(views, monitor)
    assert built == [["api"], ["db"]], "only db, healthy, was built when asked"
    assert body == validated(monitor)
    views.follow(monitor)  # again: still one watcher
    assert monitor.result_watchers.count(views._result) == 1
    views.unfollow()
    assert views._result not in monitor.result_watchers


async def test_the_app_keeps_failing_services_warm_from_its_start_until_it_closes(
    tmp_path: Path,
) -> None:
    """Before any request: the daemon's first `?status=unhealthy` answer is kept JSON too."""
    monitor = monitor_at(tmp_path)
    runner = web.AppRunner(build_app(monitor))
    await runner.setup()
    views = runner.app[VIEWS_KEY]
    assert monitor.result_watchers == [views._result]
    await runner.cleanup()
    assert monitor.result_watchers == []


async def test_the_service_index_is_built_soon_after_listening_without_a_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first filtered request finds the index (and its status watcher) there already."""
    monkeypatch.setattr("monitor.http.status_api.INDEX_WARM_AFTER_S", 0.0)
    monitor = monitor_at(tmp_path)
    assert monitor.services.watchers == []
    runner, _port = await serve(monitor, "127.0.0.1", 0)
    try:
        await until(lambda: monitor.services.watchers, what="the index following statuses")
    finally:
        await runner.cleanup()
