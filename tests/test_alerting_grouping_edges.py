"""Grouping (`monitor/alerting/grouping.py`) at its edges: ticks after missed intervals,
intervals of 0 and 1 s, a receiver's own interval, members dropped from a group, the order of
a batch, the persisted key and fields, and the groups passed in left as they were."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.alerting.grouping import AlertGroup, Grouping, group_key, settings_for, step_groups
from monitor.alerting.state import AlertEvent, AlertRecord, Phase, alert_key
from tests.alerting_fixtures import T0, event


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def firing(*events: AlertEvent, phase: Phase = Phase.FIRING) -> dict[str, AlertRecord]:
    return {
        alert_key(e.rule, e.labels): AlertRecord(
            rule=e.rule,
            fingerprint=e.fingerprint,
            labels=e.labels,
            phase=phase,
            active_since=T0,
            notified_at=T0,
        )
        for e in events
    }


A, B, C = (event(service_name=name) for name in ("a", "b", "c"))


def settings(wait: float = 30.0, interval: float = 300.0) -> dict[str, Grouping]:
    return {"r": Grouping(group_wait=wait, group_interval=interval)}


def test_after_missed_intervals_the_next_tick_stays_on_the_rhythm() -> None:
    """Flushed at 30 (ticks 330, 630, 930, ...); nothing evaluated until 1000: the tick after
    1000 is 1230, not one interval after the last tick (430, long gone)."""
    alerts = firing(A, B, C)
    groups, _ = step_groups({}, [A], alerts, settings(), T0)
    groups, (_first,) = step_groups(groups, [], alerts, settings(), at(30))
    groups, _ = step_groups(groups, [B], alerts, settings(), at(100))
    groups, (_late,) = step_groups(groups, [], alerts, settings(), at(1000))
    (group,) = groups.values()
    assert group.next_flush == at(1230)
    groups, none = step_groups(groups, [C], alerts, settings(), at(1100))
    assert none == []
    _, (batch,) = step_groups(groups, [], alerts, settings(), at(1230))
    assert len(batch.events) == 3


@pytest.mark.parametrize(("interval", "second", "sent"), [(1.0, 0.999, 0), (1.0, 1.0, 1)])
def test_a_one_second_interval_still_waits_its_second(
    interval: float, second: float, sent: int
) -> None:
    alerts = firing(A, B)
    rules = settings(wait=0.0, interval=interval)
    groups, (_,) = step_groups({}, [A], alerts, rules, T0)
    groups, _ = step_groups(groups, [B], alerts, rules, at(0.5))
    _, batches = step_groups(groups, [], alerts, rules, at(second))
    assert len(batches) == sent


def test_an_interval_of_zero_sends_every_change_at_the_next_evaluation() -> None:
    alerts = firing(A, B)
    rules = settings(wait=0.0, interval=0.0)
    groups, (_first,) = step_groups({}, [A], alerts, rules, T0)
    groups, (second,) = step_groups(groups, [B], alerts, rules, at(0.001))
    assert [e.labels["service"] for e in second.events] == ["a", "b"]
    (group,) = groups.values()
    assert group.next_flush == at(0.001)


def test_a_receiver_s_own_interval_sets_its_ticks() -> None:
    alerts = firing(A)
    rules = settings(wait=10.0, interval=60.0)
    groups, _ = step_groups({}, [A], alerts, rules, T0)
    groups, _ = step_groups(groups, [], alerts, rules, at(10))
    (group,) = groups.values()
    assert group.next_flush == at(70)


def test_a_receiver_without_settings_groups_with_the_defaults() -> None:
    alerts = firing(A)
    groups, batches = step_groups({}, [A], alerts, {}, T0)
    assert batches == []
    (group,) = groups.values()
    assert group.next_flush == at(Grouping().group_wait)
    groups, (_batch,) = step_groups(groups, [], alerts, {}, at(Grouping().group_wait))
    (group,) = groups.values()
    assert group.next_flush == at(Grouping().group_wait + Grouping().group_interval)


def test_a_receiver_config_without_grouping_keys_takes_the_block() -> None:
    block = Grouping(group_by=("service",), group_wait=5.0, group_interval=7.0)
    assert settings_for(block, object()) == block


def test_members_that_stopped_firing_are_dropped_behind_a_resolved_one() -> None:
    """A group holding a resolve to send and two members that stopped firing without one
    (resolve_after but send_resolved off: the record is resolved; or the record is gone):
    both are dropped, wherever they stand in the group, and forgotten as sent."""
    alerts = firing(A, B, C)
    groups, _ = step_groups({}, [A, B, C], alerts, settings(), T0)
    groups, (_shown,) = step_groups(groups, [], alerts, settings(), at(30))
    resolved_a = event("resolved", "a")
    now_resolved = firing(A, B, phase=Phase.RESOLVED)  # C's record is gone
    groups, _ = step_groups(groups, [resolved_a], now_resolved, settings(), at(40))
    _, (batch,) = step_groups(groups, [], now_resolved, settings(), at(330))
    assert [(e.labels["service"], e.status) for e in batch.events] == [("a", "resolved")]


def test_a_dropped_member_is_no_longer_counted_as_shown_firing() -> None:
    alerts = firing(A, B)
    groups, _ = step_groups({}, [A, B], alerts, settings(), T0)
    groups, _ = step_groups(groups, [], alerts, settings(), at(30))
    key_a, _key_b = (alert_key(e.rule, e.labels) for e in (A, B))
    still = {key_a: alerts[key_a]}  # B stopped firing, no resolve to send
    groups, _ = step_groups(groups, [], still, settings(), at(40))
    (group,) = groups.values()
    assert group.sent_firing == [key_a] and list(group.alerts) == [key_a]


def test_a_group_not_due_does_not_hold_back_the_next_one() -> None:
    rules = {"r": Grouping(group_by=("service",), group_wait=30.0, group_interval=300.0)}
    late, early = event(service_name="a"), event(service_name="b")
    alerts = firing(late, early)
    groups, _ = step_groups({}, [early], alerts, rules, T0)
    groups, _ = step_groups(groups, [late], alerts, rules, at(20))  # group "a" sorts first
    _, batches = step_groups(groups, [], alerts, rules, at(30))
    assert [b.events[0].labels["service"] for b in batches] == ["b"]


def test_a_batch_is_ordered_by_start_then_service_then_key() -> None:
    """Same start: an alert without a service label comes before "ABC"; two alerts of one
    service by their key (the rule name)."""
    rules = {"r": Grouping(group_by=(), group_wait=0.0, group_interval=0.0)}
    upper = event(service_name="ABC")
    bare = upper.model_copy(update={"labels": {"alertname": "Fleet"}, "rule": "Fleet"})
    second = event(service_name="ABC", rule="AAA")
    alerts = firing(upper, bare, second)
    _, (batch,) = step_groups({}, [upper, second, bare], alerts, rules, T0)
    assert [(e.rule, e.labels.get("service")) for e in batch.events] == [
        ("Fleet", None),
        ("AAA", "ABC"),
        ("CoreServiceDown", "ABC"),
    ]


def test_a_batch_says_when_it_was_flushed_and_where_the_monitor_is() -> None:
    rules = settings(wait=0.0)
    _, (plain,) = step_groups({}, [A], firing(A), rules, at(5))
    assert (plain.flushed_at, plain.external_url) == (at(5), "")
    _, (linked,) = step_groups({}, [A], firing(A), rules, at(5), external_url="https://m.example")
    assert linked.external_url == "https://m.example"


def test_the_group_key_is_the_persisted_one() -> None:
    """Groups are saved under this key (outbox.py): a new spelling would orphan them on
    upgrade and re-send their alerts."""
    assert group_key("hook", {"service": "db", "alertname": "Down"}) == (
        "hook|{alertname='Down',service='db'}"
    )


def test_groups_round_trip_through_their_persisted_form() -> None:
    alerts = firing(A)
    groups, _ = step_groups({}, [A], alerts, settings(), T0)
    groups, _ = step_groups(groups, [], alerts, settings(), at(30))
    for group in groups.values():
        assert AlertGroup.model_validate_json(group.model_dump_json()) == group
        assert group.changed is False


def test_the_groups_passed_in_are_left_as_they_were() -> None:
    alerts = firing(A, B)
    waiting, _ = step_groups({}, [A, B], alerts, settings(), T0)
    shown, _ = step_groups(waiting, [], alerts, settings(), at(30))
    before = [g.model_dump() for g in (*waiting.values(), *shown.values())]
    assert before[1]["sent_firing"], "the flushed group lists what it showed firing"
    step_groups(waiting, [], firing(A), settings(), at(30))  # drops B, flushes its own copy
    step_groups(shown, [], firing(A), settings(), at(40))  # drops B from alerts and sent
    assert [g.model_dump() for g in (*waiting.values(), *shown.values())] == before
