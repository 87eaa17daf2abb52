"""Grouping notifications as Alertmanager does: one notification per receiver and group.

On the day a shared dependency fails, thirty services go down in the same minute; paging each
one is thirty pages. Alerts routed to a receiver are put in groups by the values of its
`group_by` labels (`[alertname]` by default, `[...]` for every label: no grouping). A new
group waits `group_wait` for the rest of the storm, then sends one notification carrying all
its alerts; after that it sends at most once per `group_interval`, and only when something in
it changed (an alert joined, repeated or resolved). Firing and resolved alerts are batched the
same way. `step_groups` is pure, the clock passed in; the groups are persisted with the alert
state in the outbox, so a restart neither forgets a group nor re-sends one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from monitor.alerting.state import AlertEvent, AlertRecord, Batch, Phase, alert_key
from monitor.config import Duration

ALL_LABELS = "..."
"""`group_by: [...]`: every label, so each alert is a group of its own."""


class Grouping(BaseModel):
    """The top-level `grouping:` block of alerts.yaml; each receiver may override a key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group_by: tuple[str, ...] = ("alertname",)
    group_wait: Duration = Field(default=30.0, ge=0)
    group_interval: Duration = Field(default=300.0, ge=0)
    """0: every change goes out at the next evaluation."""


GROUPING_KEYS = ("group_by", "group_wait", "group_interval")
PASS_THROUGH = Grouping(group_by=(ALL_LABELS,), group_wait=0.0, group_interval=0.0)
"""For a receiver that groups by itself (Alertmanager): every alert at once, on its own."""


def settings_for(defaults: Grouping, receiver: object) -> Grouping:
    """A receiver's grouping: its own keys where set, else the top-level block's (or, for a
    receiver whose config says `groups_downstream`, none: Alertmanager groups itself)."""
    base = PASS_THROUGH if getattr(receiver, "groups_downstream", False) else defaults
    overrides = {k: getattr(receiver, k, None) for k in GROUPING_KEYS}
    return base.model_copy(update={k: v for k, v in overrides.items() if v is not None})


def group_labels(labels: Mapping[str, str], group_by: Iterable[str]) -> dict[str, str]:
    """The labels that name an alert's group (a missing label groups as empty, as in AM)."""
    names = tuple(group_by)
    if ALL_LABELS in names:
        return dict(labels)
    return {name: labels[name] for name in names if labels.get(name)}


class AlertGroup(BaseModel):
    """One receiver's group: its alerts' latest events and when it may send next."""

    receiver: str
    labels: dict[str, str]
    next_flush: datetime
    changed: bool = False
    alerts: dict[str, AlertEvent] = Field(default_factory=dict)
    """By alert key: the latest event of each alert in the group."""
    sent_firing: list[str] = Field(default_factory=list)
    """Alerts its last notification showed firing: only those have a resolve to send."""

    @property
    def key(self) -> str:
        return group_key(self.receiver, self.labels)


def group_key(receiver: str, labels: Mapping[str, str]) -> str:
    inner = ",".join(f"{k}={v!r}" for k, v in sorted(labels.items()))
    return f"{receiver}|{{{inner}}}"


def _copy(groups: Mapping[str, AlertGroup]) -> dict[str, AlertGroup]:
    return {
        k: g.model_copy(update={"alerts": dict(g.alerts), "sent_firing": list(g.sent_firing)})
        for k, g in groups.items()
    }


def _add(
    groups: dict[str, AlertGroup],
    event: AlertEvent,
    receiver: str,
    settings: Grouping,
    alerts: Mapping[str, AlertRecord],
    now: datetime,
) -> None:
    labels = group_labels(event.labels, settings.group_by)
    key = group_key(receiver, labels)
    member = alert_key(event.rule, event.labels)
    group = groups.get(key)
    if group is None:
        # group_wait counts from when the alert began firing: one held back by a silence, a
        # maintenance window or its dependency has waited already and goes out now
        record = alerts.get(member)
        since = record.firing_since if record is not None and record.firing_since else now
        wait = timedelta(seconds=settings.group_wait)
        group = AlertGroup(receiver=receiver, labels=labels, next_flush=max(now, since + wait))
        groups[key] = group
    if event.kind == "resolved" and member in group.alerts and member not in group.sent_firing:
        del group.alerts[member]  # fired and resolved before its group said so: say nothing
        return
    group.alerts[member] = event
    group.changed = True


def _prune(group: AlertGroup, alerts: Mapping[str, AlertRecord]) -> None:
    """Drop firing members that stopped firing without a resolve to send (send_resolved off,
    or silenced or held back since): the group must not keep repeating them."""
    for member, event in list(group.alerts.items()):
        if event.status == "resolved":
            continue
        record = alerts.get(member)
        if record is None or record.phase is not Phase.FIRING or record.suppressed_by:
            del group.alerts[member]
            if member in group.sent_firing:
                group.sent_firing.remove(member)


def _next_tick(due: datetime, now: datetime, interval: float) -> datetime:
    """The group's next flush: ticks every `interval` from its first, strictly after now."""
    if interval <= 0:
        return now
    behind = (now - due).total_seconds()
    return due + timedelta(seconds=interval * (math.floor(behind / interval) + 1))


def step_groups(
    groups: Mapping[str, AlertGroup],
    events: Iterable[AlertEvent],
    alerts: Mapping[str, AlertRecord],
    settings: Mapping[str, Grouping],
    now: datetime,
    external_url: str = "",
) -> tuple[dict[str, AlertGroup], list[Batch]]:
    """Put `events` in their groups and flush the groups that are due. Pure.

    `alerts` is the alert state after the same evaluation. Returns the new groups (the input
    is not modified) and one batch per flushed group that has something new to say.
    """
    new = _copy(groups)
    for event in events:
        for receiver in event.receivers:
            _add(new, event, receiver, settings.get(receiver, Grouping()), alerts, now)
    batches: list[Batch] = []
    for key in sorted(new):
        group = new[key]
        _prune(group, alerts)
        if now < group.next_flush:
            continue
        if group.changed and group.alerts:
            members = sorted(
                group.alerts.items(),
                key=lambda m: (m[1].starts_at, m[1].labels.get("service", ""), m[0]),
            )
            batches.append(
                Batch(
                    receiver=group.receiver,
                    events=tuple(e for _, e in members),
                    external_url=external_url,
                    group_labels=group.labels,
                    flushed_at=now,
                )
            )
            group.sent_firing = [m for m, e in members if e.status == "firing"]
            group.alerts = {m: e for m, e in members if e.status == "firing"}
        group.changed = False
        interval = settings.get(group.receiver, Grouping()).group_interval
        group.next_flush = _next_tick(group.next_flush, now, interval)
        if not group.alerts:
            del new[key]
    return new, batches


def next_flush(groups: Mapping[str, AlertGroup]) -> datetime | None:
    """When the earliest group with news is due (the alerter evaluates again then)."""
    due = [g.next_flush for g in groups.values() if g.changed]
    return min(due, default=None)
