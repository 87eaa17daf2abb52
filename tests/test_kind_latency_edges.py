"""The `latency` rule kind (alerting/kinds/latency.py) and the lag kinds (loop_lag,
schedule_lag) at their edges: a p95 or a lag exactly at its limit does not fire, one over it
does; `factor` scales the target; `for` counts new checks; the pages' words and the exported
Prometheus rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.alerting.evaluate import evaluate
from monitor.alerting.prometheus_export import alerting_rule
from monitor.alerting.state import AlertEvent, AlertState, CheckInput, RuleInput
from monitor.model import CheckKind, Status
from tests.alerting_fixtures import INTERVAL, T0, page, rules, service

RULE = "external_url: https://monitor.example\nrules:\n  - {name: Slow, kind: latency%s}\n"


def _evaluate(
    p95s_ms: list[float | None], fields: str = "", *, new: bool = True
) -> list[tuple[int, AlertEvent]]:
    """One evaluation every 30 s of an RPC check with a 5 ms target and this p95 (ms); with
    `new` False, only the first evaluation brings a new check."""
    config, state, out = rules(RULE % fields), AlertState(), []
    for tick, p95 in enumerate(p95s_ms):
        now = T0 + tick * INTERVAL
        at = now if new else T0
        rpc = CheckInput(
            "db-read",
            CheckKind.RPC,
            Status.HEALTHY,
            at,
            duration_s=0.004,
            target_s=0.005,
            p95_s=None if p95 is None else p95 / 1000,
        )
        view = RuleInput({"svc": service("svc", rpc.status, at, checks=[rpc])}, T0, now)
        state, events = evaluate(config, state, view, now)
        out += [(tick, e) for e in events]
    return out


def _run(
    p95s_ms: list[float | None], fields: str = "", *, new: bool = True
) -> list[tuple[int, str]]:
    return [(tick, e.kind) for tick, e in _evaluate(p95s_ms, fields, new=new)]


@pytest.mark.parametrize(
    ("p95", "fields", "expected"),
    [
        (5.0, "", []),  # at the target: not over it
        (5.5, "", [(0, "firing")]),
        (10.0, ", factor: 2", []),  # at twice the target with factor 2
        (10.5, ", factor: 2", [(0, "firing")]),
        (2.6, ", factor: 0.5", [(0, "firing")]),  # over half the target
    ],
)
def test_a_p95_fires_only_over_factor_times_the_target(
    p95: float, fields: str, expected: list[tuple[int, str]]
) -> None:
    assert _run([p95], fields + ", for: 1, resolve_after: 1") == expected


def test_for_counts_new_checks_not_evaluations() -> None:
    assert _run([6.0, 6.0, 6.0], ", for: 2", new=False) == []
    assert _run([6.0, 6.0], ", for: 2") == [(1, "firing")]


def test_the_page_names_the_check_its_p95_and_target_and_links_the_service() -> None:
    ((tick, fired),) = _evaluate([6.25], ", for: 1")
    assert tick == 0
    assert page(fired) == {
        "kind": "firing",
        "labels": {
            "alertname": "Slow",
            "severity": "warning",
            "service": "svc",
            "check": "db-read",
        },
        "summary": "svc db-read p95 6.2 ms is over its 5 ms target",
        "description": "The rolling p95 of svc/db-read (rpc) is 6.2 ms; the target is 5 ms.",
        "link": "https://monitor.example/status?service=svc",
    }


def test_the_exported_rule_scales_the_target_only_by_a_factor_other_than_one() -> None:
    config = rules(
        "rules:\n  - {name: L, kind: latency}\n"
        "  - {name: M, kind: latency, factor: 2.5, checks: [rpc], for: 3, resolve_after: 1m}\n"
    ).config
    plain, scaled = (alerting_rule(r, config, 30.0) for r in config.rules)
    assert plain["expr"] == (
        "1000 * max by (service, check) (check:monitor_check_latency_seconds:p95_5m"
        '{kind=~"http|rpc"}'
        "\n  > on (service, check, kind) group_left () max by (service, check, kind)"
        " (monitor_check_latency_target_seconds))"
    )
    assert scaled["expr"] == (
        '1000 * max by (service, check) (check:monitor_check_latency_seconds:p95_5m{kind=~"rpc"}'
        "\n  > on (service, check, kind) group_left () 2.5 * max by (service, check, kind)"
        " (monitor_check_latency_target_seconds))"
    )
    assert (plain["for"], plain["keep_firing_for"]) == ("5m", "5m")
    assert (scaled["for"], scaled["keep_firing_for"]) == ("1m", "1m")
    assert scaled["annotations"]["summary"].startswith(
        '{{ $labels.service }} {{ $labels.check }} p95 {{ printf "%.1f" $value }} ms is over its '
    )


# --- loop_lag and schedule_lag ------------------------------------------------------------

LAGS = """
rules:
  - {name: LoopLag, kind: loop_lag, threshold: 250ms, for: 1, resolve_after: 1}
  - {name: Behind, kind: schedule_lag, threshold: 2s, for: 1, resolve_after: 1}
"""


def _lags(loop: float | None, schedule: float | None) -> list[AlertEvent]:
    view = RuleInput({}, T0, T0, loop_lag_s=loop, schedule_lag_s=schedule)
    return evaluate(rules(LAGS), AlertState(), view, T0 + timedelta(seconds=1))[1]


def test_a_lag_at_its_threshold_does_not_fire_and_one_over_it_does() -> None:
    assert _lags(0.25, 2.0) == []
    fired = _lags(0.251, 2.001)
    assert [(e.rule, e.kind, e.labels["service"]) for e in fired] == [
        ("LoopLag", "firing", "monitor"),
        ("Behind", "firing", "monitor"),
    ]
    assert [e.annotations["summary"] for e in fired] == [
        "Monitor event loop lags 251ms",
        "Monitor checks start 2001ms late",
    ]
    assert fired[0].annotations["description"] == (
        "Loop lag over 250ms distorts every latency measurement."
    )
    assert fired[1].annotations["description"] == (
        "Checks start over 2s behind schedule (p99 over a minute): the monitor is short of CPU "
        "and runs every check less often than configured."
    )


def test_no_lag_measured_is_no_data() -> None:
    assert _lags(None, None) == []


def test_the_exported_lag_rules() -> None:
    config = rules(LAGS).config
    loop, behind = (alerting_rule(r, config, 30.0) for r in config.rules)
    assert loop["expr"] == "max(monitor_event_loop_lag_seconds) > 0.25"
    assert behind["expr"] == (
        "max(histogram_quantile(0.99, sum by (instance, le) "
        "(rate(monitor_schedule_lag_seconds_bucket[1m])))) > 2"
    )
    assert (
        loop["annotations"]["summary"] == "Monitor event loop lags {{ $value | humanizeDuration }}"
    )
    assert behind["labels"] == {"severity": "warning", "service": "monitor"}
