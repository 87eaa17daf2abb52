"""The PromQL vocabulary the kinds' exported expressions share: recorded series names,
selectors, and the recording rules that define those series (`prometheus_export.py` writes
them into the rules file)."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.alerting.kinds._base import RuleModel
from monitor.durations import format_duration
from monitor.model import CheckKind
from monitor.slo import P95_BUDGET

CHECK = "service, check, kind"
TARGET_BUCKET = "check:monitor_check_latency_seconds_bucket:at_target"
P95 = "check:monitor_check_latency_seconds:p95_5m"
TARGET_LE = 'label_replace(monitor_check_latency_target_seconds, "le", "$1", "bucket", "(.+)")'
"""The target series with its `bucket` label as `le`: matches the bucket at the target."""


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


def recording_rules(windows: Iterable[float]) -> list[dict[str, str]]:
    """p95 over 5m, and per window the slow, failed and bad shares and the 95 % burn rate."""
    at_target = f"monitor_check_latency_seconds_bucket\n  and on ({CHECK}, le) {TARGET_LE}"
    rules = [
        {"record": TARGET_BUCKET, "expr": at_target},
        {
            "record": P95,
            "expr": "histogram_quantile(0.95, sum by (service, check, kind, le) "
            "(rate(monitor_check_latency_seconds_bucket[5m])))",
        },
    ]
    for seconds in sorted(set(windows)):
        w = format_duration(seconds)
        rules += [
            {
                "record": over_target(w),
                "expr": f"1 - sum by ({CHECK}) (rate({TARGET_BUCKET}[{w}]))\n"
                f"  / (sum by ({CHECK}) (rate(monitor_check_latency_seconds_count[{w}])) > 0)",
            },
            {
                "record": failed(w),
                "expr": f"sum by ({CHECK}) (rate(monitor_checks_failed_total[{w}]))\n"
                f"  / (sum by ({CHECK}) (rate(monitor_checks_total[{w}])) > 0)",
            },
            {
                "record": bad(w),
                "expr": f"clamp_max({failed(w)} + ({over_target(w)} or {failed(w)} * 0), 1)",
            },
            {
                "record": burn(w),
                "expr": f"{over_target(w)} / {P95_BUDGET:g}",
            },
        ]
    return rules
