"""The per-check record: latency recording and judging, the dirty marks the store flushes, and
what a reload keeps (the daemon end to end on the seed fleet with a real SQLite store)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Check, parse_config
from monitor.latency import to_latency_summary
from monitor.model import Reason, Status, Verdict
from monitor.runtime.daemon import Monitor
from monitor.runtime.latency_gauges import latency_view
from monitor.runtime.service_tracks import ServiceTracks
from monitor.runtime.store import Store
from monitor.runtime.store_writer import dirty_states
from monitor.runtime.tracked import TrackedCheck
from monitor.simulator import SimulatedFleet, fleet_config
from monitor.slo import LatencySource
from monitor.state import CheckState, ServiceTrack, advance

WINDOWS = (60.0, 300.0)


def check(target: float = 0.005, service: str = "gw") -> Check:
    """The health check of one service, as monitor.yaml resolves it, with this target."""
    config = parse_config(json.dumps({"services": [{"name": service, "url": "http://x"}]}))
    return replace(config.checks()[0], target=target)


def test_judging_summary_only_once_a_window_has_enough_samples() -> None:
    record = TrackedCheck(check())
    for i in range(4):
        judged = record.record_latency(0.005, 0.001, LatencySource.ROUND_TRIP, i, WINDOWS, 5)
        assert judged is None
    judged = record.record_latency(0.005, 0.001, LatencySource.JSON, 4, WINDOWS, 5)
    assert judged is not None and (judged.window_s, judged.count) == (60.0, 5)
    assert record.latency_source is LatencySource.JSON


def test_a_new_target_starts_new_windows() -> None:
    record = TrackedCheck(check())
    record.record_latency(0.005, 0.001, LatencySource.ROUND_TRIP, 0.0, WINDOWS, 1)
    first = record.windows
    record.record_latency(0.005, 0.001, LatencySource.ROUND_TRIP, 1.0, WINDOWS, 1)
    assert record.windows is first
    record.record_latency(0.010, 0.001, LatencySource.ROUND_TRIP, 2.0, WINDOWS, 1)
    assert record.windows is not first and record.windows is not None
    assert record.windows.target_s == 0.010
    assert record.windows.summary(60.0, 2.0).count == 1


@pytest.mark.parametrize(
    ("sample_s", "within"),
    [(0.004, True), (0.006, False)],  # the boundary itself: test_slo.py, within_target
)
def test_latency_now_judges_the_p95_against_the_target(sample_s: float, within: bool) -> None:
    record = TrackedCheck(check(0.005))
    assert record.latency_now(0.0, 3) == ([], None)
    for i in range(3):
        record.record_latency(0.005, sample_s, LatencySource.ROUND_TRIP, i, WINDOWS, 3)
    summaries, judged = record.latency_now(3.0, 3)
    assert [s.window_s for s in summaries] == list(WINDOWS)
    assert judged is within
    assert record.latency_now(3.0, 4)[1] is None  # no window with enough samples


TIMELINES = {
    "none": [],
    "one": [(0.0, 0.004)],
    "enough in 1m": [(i, 0.004) for i in range(5)],
    "enough in 5m only": [(i * 30.0, 0.006) for i in range(5)],
    "slow in 1m, fast in 5m": [(i * 30.0, 0.002) for i in range(5)]
    + [(150.0 + i, 0.009) for i in range(5)],
    "aged out of 1m": [(i, 0.004) for i in range(5)] + [(200.0, 0.004)],
    "aged out of every window": [(i, 0.004) for i in range(5)] + [(1000.0, 0.004)],
}


@pytest.mark.parametrize("timeline", TIMELINES.values(), ids=TIMELINES)
@pytest.mark.parametrize("status_window", [60.0, 300.0])
@pytest.mark.parametrize("later", [0.0, 20.0, 90.0])
def test_latency_view_is_latency_now_with_only_the_windows_it_needs(
    timeline: list[tuple[float, float]], status_window: float, later: float
) -> None:
    """/status's view picks the judging window from counts and computes one or two windows'
    quantiles: the same summary and within_target as every window computed (latency_now)."""
    record = TrackedCheck(check(0.005))
    for at, sample_s in timeline:
        record.record_latency(0.005, sample_s, LatencySource.ROUND_TRIP, at, WINDOWS, 5)
    now = (timeline[-1][0] if timeline else 0.0) + later
    summaries, within = latency_view({"c": record}, now, status_window, 5)
    if record.windows is None:
        assert (summaries, within) == ({}, {})
        return
    rows, judged = record.latency_now(now, 5)
    (shown,) = [r for r in rows if r.window_s == status_window]
    assert summaries == {"c": to_latency_summary(shown)}
    assert within == {"c": judged}


def test_dirty_states_skip_removed_checks_and_clear_the_marks() -> None:
    kept, removed = TrackedCheck(check()), TrackedCheck(check(service="gone"))
    unchecked = TrackedCheck(check(service="other"))
    verdict = Verdict(status=Status.HEALTHY, reason=Reason.OK, detail="ok")
    state = advance(None, verdict, datetime(2026, 11, 30, tzinfo=UTC), 0.1)
    kept.state = removed.state = state
    for r in (kept, removed, unchecked):
        r.dirty = True
    tracked = {kept.check.id: kept, unchecked.check.id: unchecked}
    assert dirty_states([kept, removed, unchecked], tracked) == {kept.check.id: state}
    assert not (kept.dirty or removed.dirty or unchecked.dirty)


async def test_reload_keeps_changed_checks_and_flushes_none_of_the_removed(
    fleet: SimulatedFleet, tmp_path: Path
) -> None:
    store = Store(tmp_path / "monitor.db")
    data = fleet_config(fleet)
    monitor = Monitor(parse_config(json.dumps(data)), store=store)
    await monitor.start(schedule=False)
    try:
        await monitor.run_all_once()
        before = dict(monitor.tracked)
        gone = data["services"][0]["name"]  # type: ignore[index]
        smaller = {**data, "services": data["services"][1:]}  # type: ignore[index]
        smaller["defaults"] = {"interval": "7s", "timeout": "2s"}  # every other check changes
        counts = monitor.apply_config(parse_config(json.dumps(smaller)))
        assert counts["added"] == 0 and counts["changed"] == len(monitor.tracked)
        assert counts["removed"] == len(before) - len(monitor.tracked) > 0
        for check_id, record in monitor.tracked.items():
            assert record is before[check_id] and record.state is not None
            assert record.check.interval == 7.0
        assert not any(c.service == gone for c in monitor.checks())
        await monitor.flush()
        assert set(store.load_states()) == set(monitor.tracked)
    finally:
        await monitor.stop()
        store.close()


THREE_SERVICES = """\
services:
  - {name: api, url: "http://127.0.0.1:9/health", rpc: [{name: db, path: /db}]}
  - {name: web, url: "http://127.0.0.1:9/"}
  - name: jobs
    push: [{name: nightly, every: 1h, grace: 1m, token: nightly-token-12345}]
"""
"""Two polled services (one with an rpc check) and a push-only one."""


async def test_restore_gives_each_service_what_its_checks_give(tmp_path: Path) -> None:
    """At start, a service with a restored check is recomputed from its checks; the others
    (none checked yet, most of a first start) are unknown since now, as recomputing gives."""
    config = parse_config(THREE_SERVICES)
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    since = now - timedelta(hours=2)
    store = Store(tmp_path / "monitor.db")
    down = Verdict(status=Status.UNHEALTHY, reason=Reason.REPORTED_UNHEALTHY, detail="503")
    store.save({"api/rpc/db": CheckState(down, since, since, 3, 0.01, Status.HEALTHY)}, [])
    monitor = Monitor(config, store=store, clock=lambda: now)
    await monitor.start(schedule=False)
    try:
        restored = dict(monitor.services.tracks)
        expected = ServiceTracks(monitor.metrics, monitor.log)
        for name, records in monitor.by_service.items():
            expected.update(name, records, now, log=False, headless=monitor._headless(name))
        assert restored == expected.tracks
        assert set(restored) == {"api", "web", "jobs"}
        assert restored["api"] == ServiceTrack(Status.DEGRADED, now)
        assert restored["web"] == ServiceTrack(Status.UNKNOWN, now)
    finally:
        await monitor.stop(grace=0)
        store.close()


async def test_push_checks_judged_together_recompute_their_service_once() -> None:
    """The start judges every push check: a service of ten is recomputed once for the batch
    (it was once per check: 1,000,000 check views for 100,000 push checks), to the same track."""
    jobs = ", ".join(
        f"{{name: job{i}, every: 1h, grace: 1m, token: job-token-{i:04d}-abcdef}}"
        for i in range(10)
    )
    config = parse_config(f"services:\n  - name: batch\n    push: [{jobs}]\n")
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    monitor = Monitor(config, clock=lambda: now)
    recomputed: list[str] = []
    update = monitor.services.update

    def counted(name: str, *args: Any, **kwargs: Any) -> None:
        recomputed.append(name)
        update(name, *args, **kwargs)

    monitor.services.update = counted  # type: ignore[method-assign]
    await monitor.start(schedule=False)
    try:
        assert recomputed == ["batch"]
        assert all(t.state is not None for t in monitor.by_service["batch"])
        expected = ServiceTracks(monitor.metrics, monitor.log)
        expected.update("batch", monitor.by_service["batch"], now, log=False, headless=True)
        assert monitor.services.tracks == expected.tracks
    finally:
        await monitor.stop(grace=0)
