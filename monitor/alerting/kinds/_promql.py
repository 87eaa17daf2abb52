"""The PromQL vocabulary the kinds' exported expressions share: recorded series names and
selectors. `prometheus_export.py` writes the recording rules these names refer to."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.alerting.kinds._base import RuleModel
from monitor.model import CheckKind

CHECK = "service, check, kind"
TARGET_BUCKET = "check:monitor_check_latency_seconds_bucket:at_target"
P95 = "check:monitor_check_latency_seconds:p95_5m"


class UnsupportedRule(ValueError):
    """A rule Prometheus cannot express from the exported metrics."""


def over_target(window: str) -> str:
    return f"check:monitor_check_latency_over_target:ratio_rate{window}"


def failed(window: str) -> str:
    return f"check:monitor_checks_failed:ratio_rate{window}"


def bad(window: str) -> str:
    return f"check:monitor_checks_bad:ratio_rate{window}"


def burn(window: str) -> str:
    return f"check:monitor_check_latency_error_budget:burn_rate{window}"


def selector(rule: RuleModel, *extra: str) -> str:
    parts = list(extra)
    if rule.match.labels:
        raise UnsupportedRule(
            f"rule {rule.name}: match.labels cannot be expressed in Prometheus (service labels "
            "are not exported as metrics); list the services under match.services instead"
        )
    if rule.match.services:
        parts.append(f'service=~"{"|".join(rule.match.services)}"')
    return "{" + ", ".join(parts) + "}" if parts else ""


def check_kinds(kinds: Iterable[CheckKind]) -> str:
    return f'kind=~"{"|".join(sorted(k.value for k in kinds))}"'
