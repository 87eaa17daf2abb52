"""Grouping notifications (`monitor/alerting/grouping.py`): the pure decision at its
boundaries, the config, persistence, and the storm on real loopback receivers."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from monitor.alerting.grouping import (
    PASS_THROUGH,
    Grouping,
    next_flush,
    settings_for,
    step_groups,
)
from monitor.alerting.outbox import Outbox
from monitor.alerting.rules import parse_alert_rules
from monitor.alerting.service import Alerter
from monitor.alerting.state import (
    AlertEvent,
    AlertRecord,
    AlertState,
    Batch,
    Phase,
    RuleInput,
    alert_key,
)
from monitor.errors import ConfigError
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.receivers import build_receivers
from monitor.receivers._base import listed
from monitor.receivers.pagerduty import PagerDutyConfig, group_body
from monitor.receivers.slack import message
from tests.alerting_fixtures import T0, Recorder, U, event, rules, service
from tests.conftest import recording
from tests.polling import until
from tests.storm import HTTP_RECEIVERS, SERVICES, simulate

WAIT, INTERVAL = 30.0, 300.0
SETTINGS = {"r": Grouping(group_wait=WAIT, group_interval=INTERVAL)}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def firing_state(*events: AlertEvent) -> dict[str, AlertRecord]:
    """The alert state in which these events' alerts are firing and notified."""
    return {
        alert_key(e.rule, e.labels): AlertRecord(
            rule=e.rule,
            fingerprint=e.fingerprint,
            labels=e.labels,
            phase=Phase.FIRING,
            active_since=T0,
            notified_at=e.at,
        )
        for e in events
    }


def shifted(e: AlertEvent, seconds: float) -> AlertEvent:
    moment = T0 + timedelta(seconds=seconds)
    return e.model_copy(update={"at": moment, "ends_at": moment if e.kind == "resolved" else None})


A = shifted(event(service_name="a"), 0)
B = shifted(event(service_name="b"), 40)


@pytest.mark.parametrize(
    ("second", "sent"),
    [(0, 0), (WAIT - 0.001, 0), (WAIT, 1), (WAIT + 0.001, 1)],
)
def test_a_new_group_sends_when_group_wait_ends(second: float, sent: int) -> None:
    groups, _ = step_groups({}, [A], firing_state(A), SETTINGS, T0)
    _, batches = step_groups(groups, [], firing_state(A), SETTINGS, at(second))
    assert len(batches) == sent


@pytest.mark.parametrize(
    ("second", "services"),
    [
        (WAIT + INTERVAL - 0.001, None),
        (WAIT + INTERVAL, ["a", "b"]),  # the whole group, not only what is new
        (WAIT + 2 * INTERVAL - 0.001, ["a", "b"]),  # a late evaluation still sends once
    ],
)
def test_news_after_a_flush_waits_for_the_group_interval(
    second: float, services: list[str] | None
) -> None:
    alerts = firing_state(A, B)
    groups, first = step_groups({}, [A], alerts, SETTINGS, T0)
    groups, first = step_groups(groups, [], alerts, SETTINGS, at(WAIT))
    assert [len(b.events) for b in first] == [1]
    groups, none = step_groups(groups, [B], alerts, SETTINGS, at(40))
    assert none == []
    groups, batches = step_groups(groups, [], alerts, SETTINGS, at(second))
    if services is None:
        assert batches == []
        return
    (batch,) = batches
    assert [e.labels["service"] for e in batch.events] == services
    assert batch.group_labels == {"alertname": "CoreServiceDown"}
    # the ticks stay on the group's rhythm: the next is one interval after the missed one
    assert next(iter(groups.values())).next_flush == at(WAIT + 2 * INTERVAL)


def test_nothing_new_at_a_tick_sends_nothing() -> None:
    alerts = firing_state(A)
    groups, _ = step_groups({}, [A], alerts, SETTINGS, T0)
    groups, _ = step_groups(groups, [], alerts, SETTINGS, at(WAIT))
    assert next_flush(groups) is None
    _, batches = step_groups(groups, [], alerts, SETTINGS, at(WAIT + INTERVAL))
    assert batches == []


def test_firing_and_resolved_are_batched_and_the_group_ends_with_its_resolve() -> None:
    alerts = firing_state(A, B)
    groups, _ = step_groups({}, [A, B], alerts, SETTINGS, T0)
    groups, _ = step_groups(groups, [], alerts, SETTINGS, at(WAIT))
    resolved = [shifted(event("resolved", "a"), 100), shifted(event("resolved", "b"), 101)]
    gone = {k: r.model_copy(update={"phase": Phase.RESOLVED}) for k, r in alerts.items()}
    groups, early = step_groups(groups, resolved, gone, SETTINGS, at(101))
    assert early == []
    groups, (batch,) = step_groups(groups, [], gone, SETTINGS, at(WAIT + INTERVAL))
    assert batch.status == "resolved" and len(batch.events) == 2
    assert groups == {}


def test_an_alert_that_resolves_before_its_group_spoke_is_never_sent() -> None:
    groups, _ = step_groups({}, [A], firing_state(A), SETTINGS, T0)
    gone = {k: r.model_copy(update={"phase": Phase.RESOLVED}) for k, r in firing_state(A).items()}
    resolved = shifted(event("resolved", "a"), 10)
    groups, _ = step_groups(groups, [resolved], gone, SETTINGS, at(10))
    groups, batches = step_groups(groups, [], gone, SETTINGS, at(WAIT))
    assert batches == [] and groups == {}


def test_a_member_silenced_or_resolved_without_a_resolve_is_dropped_not_repeated() -> None:
    alerts = firing_state(A, B)
    groups, _ = step_groups({}, [A, B], alerts, SETTINGS, T0)
    groups, _ = step_groups(groups, [], alerts, SETTINGS, at(WAIT))
    key_b = alert_key(B.rule, B.labels)
    alerts[key_b] = alerts[key_b].model_copy(update={"suppressed_by": "silence:x"})
    repeat = shifted(event("repeat", "a"), 200)
    groups, _ = step_groups(groups, [repeat], alerts, SETTINGS, at(200))
    _, (batch,) = step_groups(groups, [], alerts, SETTINGS, at(WAIT + INTERVAL))
    assert [e.labels["service"] for e in batch.events] == ["a"]


@pytest.mark.parametrize(
    ("group_by", "groups"),
    [(("alertname",), 1), (("...",), 2), ((), 1), (("service",), 2), (("team",), 1)],
)
def test_group_by_decides_how_many_groups(group_by: tuple[str, ...], groups: int) -> None:
    settings = {"r": Grouping(group_by=group_by, group_wait=0)}
    both = [A, shifted(event(service_name="b"), 0)]
    made, batches = step_groups({}, both, firing_state(*both), settings, T0)
    assert len(batches) == groups and len(made) == groups


def test_receiver_keys_override_the_top_level_block_and_alertmanager_passes_through() -> None:
    config = rules(
        "grouping: {group_by: [service], group_wait: 10s}\nrules:\n  - {name: Down, kind: status}\n"
    )
    top = config.config.grouping
    assert top == Grouping(group_by=("service",), group_wait=10.0, group_interval=300.0)
    override = build_receivers(config.receivers)["log"].config  # type: ignore[attr-defined]
    assert settings_for(top, override) == top
    assert settings_for(top, override.model_copy(update={"group_wait": 1.0})).group_wait == 1.0

    class Downstream:
        groups_downstream = True
        group_by = group_wait = group_interval = None

    assert settings_for(top, Downstream()) == PASS_THROUGH


def test_default_grouping_is_alertmanagers() -> None:
    assert Grouping() == Grouping(group_by=("alertname",), group_wait=30, group_interval=300)


def test_a_bad_grouping_key_names_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        rules("grouping:\n  group_wait: soon\nrules: []\n")
    (problem,) = caught.value.problems
    assert problem.location == "grouping.group_wait" and problem.line == 5  # after 3 header lines


def test_groups_survive_a_restart(tmp_path: Path) -> None:
    config = rules("rules:\n  - {name: Down, kind: status}\n")
    outbox = Outbox(tmp_path / "a.db", build_receivers(config.receivers))
    groups, _ = step_groups({}, [A], firing_state(A), SETTINGS, T0)
    outbox.save(AlertState(), [], T0, groups)
    outbox.close()
    again = Outbox(tmp_path / "a.db", build_receivers(config.receivers))
    again.load_state()
    loaded = again.load_groups()
    assert loaded == groups
    _, (batch,) = step_groups(loaded, [], firing_state(A), SETTINGS, at(WAIT))
    assert batch.events == (A,)
    again.save(AlertState(), [], T0, {})  # an ended group is deleted
    assert again.load_groups() == {}


def _storm_batch(n: int) -> Batch:
    events = [shifted(event(service_name=f"svc-{i:02d}"), 0) for i in range(n)]
    _, (batch,) = step_groups(
        {}, events, firing_state(*events), {"r": Grouping(group_wait=0)}, T0, "http://m:8700"
    )
    return batch


@pytest.mark.parametrize("n", [1, 30, 300])
def test_one_message_names_every_alert_or_counts_it(n: int) -> None:
    batch = _storm_batch(n)
    lines = listed(batch)
    text = "\n".join(lines)
    assert len(text) <= 2600
    if n == 300:  # too many to list: detail, then names, then a count; every alert is in it
        detailed = sum(line.startswith("FIRING ") for line in lines)
        tail = lines[-1]
        named = len(tail.split(": ", 1)[1].split(" and ")[0].split(", "))
        assert tail.startswith(f"and {n - detailed} more: svc-")
        assert tail.endswith(f" and {n - detailed - named} others")
    else:
        assert all(f"svc-{i:02d}" in text for i in range(n))
    slack = message(batch)
    if n > 1:
        assert slack["text"] == f":rotating_light: [FIRING:{n}] CoreServiceDown"
        assert len(slack["blocks"]) <= 3
    pd = group_body(batch, PagerDutyConfig(type="pagerduty", name="pd", routing_key="k"))
    assert pd["event_action"] == "trigger" and len(pd["payload"]["summary"]) <= 1024
    assert pd["dedup_key"].startswith("group/")


async def test_storm_pages_each_receiver_at_most_twice_naming_all_30(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """30 services fall within one second: each receiver gets at most 2 notifications in the
    first minute naming all 30, and at most 2 resolved ones after they recover. Default
    grouping (30 s wait, 5 m interval), simulated clock, real loopback receivers."""
    async with contextlib.AsyncExitStack() as stack:
        recorders = {n: await stack.enter_async_context(recording()) for n in HTTP_RECEIVERS}
        storm = await simulate(tmp_path, session, recorders)
    everyone = frozenset(SERVICES)
    for receiver in (*HTTP_RECEIVERS, "log"):
        got = storm.of(receiver)
        first_minute = [r for r in got if r.at < 60]
        assert 1 <= len(first_minute) <= 2, (receiver, got)
        assert frozenset().union(*(r.services for r in first_minute)) == everyone, receiver
        resolved = [r for r in got if r.at >= storm.recovered_at]
        assert all(r.status == "resolved" for r in resolved), receiver
        assert 1 <= len(resolved) <= 2, (receiver, resolved)
        if receiver != "pd":  # a PagerDuty resolve carries only its key: checked below
            assert frozenset().union(*(r.services for r in resolved)) == everyone, receiver
    (page,) = [json.loads(b) for _, _, b in recorders["hook"].requests[:1]]
    assert len(page["alerts"]) == 30 and page["groupLabels"] == {"alertname": "ServiceDown"}
    trigger, resolve = [json.loads(b) for _, _, b in recorders["pd"].requests]
    assert resolve["event_action"] == "resolve" and resolve["dedup_key"] == trigger["dedup_key"]


@pytest.mark.parametrize(
    ("firing_for", "due_in"),
    [(0.0, WAIT), (WAIT - 1, 1.0), (WAIT, 0.0), (3600.0, 0.0)],
)
def test_group_wait_counts_from_when_the_alert_began_firing(
    firing_for: float, due_in: float
) -> None:
    """An alert held back by a maintenance window, a silence or its dependency has waited
    already: its new group is due at once, not group_wait after the hold ends."""
    now = at(7200)
    late = shifted(event(service_name="a"), 7200)
    alerts = {
        k: r.model_copy(update={"firing_since": now - timedelta(seconds=firing_for)})
        for k, r in firing_state(late).items()
    }
    groups, batches = step_groups({}, [late], alerts, SETTINGS, now)
    assert len(batches) == (1 if due_in == 0 else 0)
    if due_in:
        assert next_flush(groups) == now + timedelta(seconds=due_in)


async def test_a_group_waiting_across_a_restart_sends_once(
    tmp_path: Path, recorder: Recorder
) -> None:
    """The daemon stops while a group waits out group_wait; after the restart the group is
    still there, sends at its time, once, and nothing is sent twice."""
    config = parse_alert_rules(
        "grouping: {group_wait: 1h}\nroute: [hook]\n"
        "receivers:\n  - {name: hook, type: webhook, url: '${HOOK_URL}'}\n"
        "rules:\n  - {name: Down, kind: status, for: 1}\n",
        env={"HOOK_URL": recorder.url + "/hook"},
    )
    now = [T0]

    def view() -> RuleInput:
        services = {n: service(n, U, now[0]) for n in ("a", "b")}
        return RuleInput(services, T0, now[0])

    async def alerter() -> Alerter:
        made = Alerter(
            config,
            tmp_path / "alerts.sqlite3",
            MonitorMetrics(CollectorRegistry(), "test"),
            clock=lambda: now[0],
            timer_period=3600,
        )
        await made.start(view, lambda _: None)
        return made

    first = await alerter()
    await first.evaluate_now()
    assert len(first.groups) == 1 and recorder.requests == []
    await first.stop()

    second = await alerter()
    assert second.groups == first.groups
    now[0] = T0 + timedelta(minutes=59)
    await second.evaluate_now()
    now[0] = T0 + timedelta(hours=1)
    await second.evaluate_now()
    await until(lambda: recorder.requests)
    now[0] = T0 + timedelta(hours=1, minutes=1)
    await second.evaluate_now()
    await second.stop()
    (page,) = [json.loads(body) for _, _, body in recorder.requests]
    assert sorted(a["labels"]["service"] for a in page["alerts"]) == ["a", "b"]
