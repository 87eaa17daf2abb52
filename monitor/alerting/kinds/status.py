"""`status`: a service's status is one of `status` for `for`; resolves after `resolve_after`
clear. The page people are woken by: it waits while the service flaps, re-checks the service
while pending, and names the services that depend on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field, field_validator

from monitor.alerting.kinds._base import (
    RuleModel,
    ServicePageKind,
    Signal,
    Subject,
    Threshold,
    ThresholdField,
    base_labels,
)
from monitor.alerting.kinds._promql import selector
from monitor.model import Status


class StatusRule(RuleModel):
    """A service's status is one of `status` for `for`; resolves after `resolve_after` clear."""

    kind: Literal["status"]
    status: list[Status] = Field(default_factory=lambda: [Status.UNHEALTHY], min_length=1)
    for_: ThresholdField = Field(default=Threshold(checks=3), alias="for")
    resolve_after: ThresholdField = Threshold(checks=2)
    inhibit_by_dependencies: bool = True

    @field_validator("status")
    @classmethod
    def _not_healthy(cls, value: list[Status]) -> list[Status]:
        if Status.HEALTHY in value:
            raise ValueError("a status rule cannot alert on healthy")
        return value


class StatusKind(ServicePageKind[StatusRule]):
    model = StatusRule
    summary = "{service} is {status} ({reason})"
    description = "{service} has been {status} since {since}: {reason}: {detail}"
    held_while_flapping = True
    rechecks_while_pending = True
    names_dependents = True

    def service_signals(self, rule: StatusRule, at: Subject) -> Iterator[Signal]:
        s = at.service
        yield Signal(base_labels(rule, s), s.status in rule.status, at.observed, at.values, s.name)

    def expr(self, rule: StatusRule) -> str:
        statuses = "|".join(s.value for s in rule.status)
        sel = selector(rule, f'status=~"{statuses}"')
        return f"max by (service) (monitor_service_status{sel}) == 1"

    def export_fields(self, rule: StatusRule, fields: dict[str, str]) -> None:
        if len(rule.status) == 1:
            fields["status"] = rule.status[0].value


KIND = StatusKind()
