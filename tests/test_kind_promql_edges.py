"""The PromQL the kinds' exports share (alerting/kinds/_promql.py): the recording rules
written out whole for two windows, the selectors, and the refusal of `match.labels`. The
expected text is written out: it is what Prometheus loads (tests/test_prometheus.py runs it
through promtool)."""

from __future__ import annotations

import pytest

from monitor.alerting.kinds._promql import UnsupportedRule, check_kinds, recording_rules, selector
from monitor.model import CheckKind
from tests.alerting_fixtures import rules

BY = "service, check, kind"


def _window(w: str) -> list[dict[str, str]]:
    over = f"check:monitor_check_latency_over_target:ratio_rate{w}"
    failed = f"check:monitor_checks_failed:ratio_rate{w}"
    return [
        {
            "record": over,
            "expr": f"1 - sum by ({BY}) (rate("
            f"check:monitor_check_latency_seconds_bucket:at_target[{w}]))\n"
            f"  / (sum by ({BY}) (rate(monitor_check_latency_seconds_count[{w}])) > 0)",
        },
        {
            "record": failed,
            "expr": f"sum by ({BY}) (rate(monitor_checks_failed_total[{w}]))\n"
            f"  / (sum by ({BY}) (rate(monitor_checks_total[{w}])) > 0)",
        },
        {
            "record": f"check:monitor_checks_bad:ratio_rate{w}",
            "expr": f"clamp_max({failed} + ({over} or {failed} * 0), 1)",
        },
        {
            "record": f"check:monitor_check_latency_error_budget:burn_rate{w}",
            "expr": f"{over} / 0.05",
        },
    ]


def test_the_recording_rules_for_each_window_once_shortest_first() -> None:
    assert recording_rules([3600.0, 300.0, 300.0]) == [
        {
            "record": "check:monitor_check_latency_seconds_bucket:at_target",
            "expr": "monitor_check_latency_seconds_bucket\n"
            "  and on (service, check, kind, le) "
            'label_replace(monitor_check_latency_target_seconds, "le", "$1", "bucket", "(.+)")',
        },
        {
            "record": "check:monitor_check_latency_seconds:p95_5m",
            "expr": "histogram_quantile(0.95, sum by (service, check, kind, le) "
            "(rate(monitor_check_latency_seconds_bucket[5m])))",
        },
        *_window("5m"),
        *_window("1h"),
    ]


def test_no_windows_leave_the_two_shared_series_only() -> None:
    assert [r["record"] for r in recording_rules([])] == [
        "check:monitor_check_latency_seconds_bucket:at_target",
        "check:monitor_check_latency_seconds:p95_5m",
    ]


def test_selectors_list_the_services_after_the_extra_matchers() -> None:
    config = rules(
        """
rules:
  - {name: Some, kind: status, match: {services: [api, db]}}
  - {name: All, kind: status}
"""
    ).config
    some, every = config.rules
    kinds = check_kinds([CheckKind.RPC, CheckKind.HTTP])
    assert kinds == 'kind=~"http|rpc"'
    assert selector(some, kinds) == '{kind=~"http|rpc", service=~"api|db"}'
    assert selector(every, kinds, 'status="x"') == '{kind=~"http|rpc", status="x"}'


def test_match_labels_is_refused_with_what_to_write_instead() -> None:
    text = "rules:\n  - {name: Edge, kind: status, match: {labels: {tier: edge}}}\n"
    (edge,) = rules(text).config.rules
    with pytest.raises(UnsupportedRule) as refused:
        selector(edge, 'kind="health"')
    assert str(refused.value) == (
        "rule Edge: match.labels cannot be expressed in Prometheus (service labels are not "
        "exported as metrics); list the services under match.services instead"
    )
