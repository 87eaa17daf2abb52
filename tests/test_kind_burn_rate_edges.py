"""The `burn_rate` rule kind (alerting/kinds/burn_rate.py) at its edges: the first bucket of
each window counted, `min_samples` exactly met, a `for` counted in new checks only, the page's
words and link, the refused window pair, and the exported Prometheus rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.alerting.evaluate import evaluate
from monitor.alerting.prometheus_export import alerting_rule
from monitor.alerting.state import AlertEvent, AlertState, CheckInput, RuleInput
from monitor.errors import ConfigError
from monitor.model import CheckKind, Status
from tests.alerting_fixtures import T0, rules, service

# budget 0.5 and burn 1: a window burns when half its checks or more are bad. Buckets are 60 s
# (the short window / 5), and T0 is on a bucket boundary.
RULE = (
    "external_url: https://monitor.example/\n"
    "rules:\n  - {name: Burn, kind: burn_rate, objective: 0.5, burn_rate: 1, long: 10m, short: 5m,"
    " min_samples: %d%s}\n"
)


def _evaluate(
    checks: list[tuple[int, bool | None]], min_samples: int = 1, extra: str = ""
) -> list[tuple[int, AlertEvent]]:
    """One evaluation per (second after T0, bad?); None: no new check at that evaluation."""
    config, state, out = rules(RULE % (min_samples, extra)), AlertState(), []
    last = None
    for second, bad in checks:
        now = T0 + timedelta(seconds=second)
        if bad is not None:
            duration = 0.080 if bad else 0.010
            last = CheckInput(
                "search", CheckKind.HTTP, Status.HEALTHY, now, duration_s=duration, target_s=0.050
            )
        assert last is not None
        view = RuleInput({"svc": service("svc", last.status, now, checks=[last])}, T0, now)
        state, events = evaluate(config, state, view, now)
        out += [(second, e) for e in events]
    return out


def _run(
    checks: list[tuple[int, bool | None]], min_samples: int = 1, extra: str = ""
) -> list[tuple[int, str]]:
    return [(second, e.kind) for second, e in _evaluate(checks, min_samples, extra)]


def _events(checks: list[tuple[int, bool | None]], extra: str = "") -> list[AlertEvent]:
    return [e for _, e in _evaluate(checks, extra=extra)]


def test_the_oldest_bucket_of_the_long_window_is_counted() -> None:
    # at 600 s the long window starts at T0's bucket: 2 samples, min_samples 2 met
    assert _run([(0, True), (600, True)], min_samples=2) == [(600, "firing")]


def test_a_bucket_before_the_long_window_is_not_counted() -> None:
    assert _run([(0, True), (660, True)], min_samples=2) == []


def test_the_oldest_bucket_of_the_short_window_is_counted() -> None:
    # at 600 s the short window starts at 300 s: one bad and one good check, exactly 1x
    assert _run([(300, True), (600, False)]) == [(300, "firing")]


def test_a_bucket_before_the_short_window_is_not_counted() -> None:
    # the bad check at 240 s is out of the short window at 600 s, which then burns at 0x
    assert _run([(240, True), (600, False)]) == [(240, "firing"), (600, "resolved")]


def test_a_check_that_stops_reporting_cools_each_window_without_an_error() -> None:
    # no new result after 0 s: at 360 s the short window is empty, at 660 s both are
    assert _run([(0, True), (360, None)]) == [(0, "firing"), (360, "resolved")]
    assert _run([(0, True), (660, None)]) == [(0, "firing"), (660, "resolved")]


def test_one_bad_check_in_a_window_of_one_burns() -> None:
    assert _run([(0, True)]) == [(0, "firing")]


def test_min_samples_one_short_holds_the_page() -> None:
    assert _run([(0, True), (60, True)], min_samples=3) == []
    assert _run([(0, True), (60, True), (120, True)], min_samples=3) == [(120, "firing")]


def test_for_counts_new_checks_not_evaluations() -> None:
    # `for: 2`: a second evaluation without a new check does not complete it
    assert _run([(0, True), (15, None), (30, None)], extra=", for: 2") == []
    assert _run([(0, True), (15, None), (30, True)], extra=", for: 2") == [(30, "firing")]


def test_the_page_names_the_burn_the_windows_and_links_the_service() -> None:
    (fired,) = _events([(0, False), (60, True)])
    assert fired.kind == "firing"
    assert fired.labels == {
        "alertname": "Burn",
        "severity": "warning",
        "service": "svc",
        "check": "search",
    }
    assert fired.annotations["summary"] == "svc search burns its error budget 1.0x too fast"
    assert fired.annotations["description"] == (
        "Checks of svc/search failed or missed the 50 ms target 1.0x the budgeted rate "
        "over 10m and 5m (threshold 1x)."
    )
    assert fired.generator_url == "https://monitor.example/status?service=svc"


def test_the_value_is_the_slower_of_the_two_windows() -> None:
    # `for: 2` fires at 420 s: long 2 bad of 3 (1.33x), short (from 120 s) 2 of 2 (2x)
    events = _events([(0, False), (360, True), (420, True)], extra=", for: 2")
    assert [(e.kind, e.annotations["summary"]) for e in events] == [
        ("firing", "svc search burns its error budget 1.3x too fast")
    ]


@pytest.mark.parametrize(("long", "short"), [("5m", "5m"), ("5m", "6m")])
def test_a_short_window_not_shorter_than_the_long_one_is_refused(long: str, short: str) -> None:
    text = f"rules:\n  - {{name: B, kind: burn_rate, long: {long}, short: {short}}}\n"
    with pytest.raises(ConfigError, match=r"rules\[0\]\.short: the short window must be shorter"):
        rules(text)


def test_a_short_window_one_second_shorter_is_accepted() -> None:
    config = rules("rules:\n  - {name: B, kind: burn_rate, long: 5m, short: 299s}\n").config
    assert [r.name for r in config.rules] == ["B"]


def test_the_exported_rule_reads_both_windows_and_the_samples() -> None:
    config = rules(RULE % (2, "")).config
    exported = alerting_rule(config.rules[0], config, 30.0)
    assert exported["expr"] == (
        "max by (service, check) (\n"
        '  check:monitor_checks_bad:ratio_rate10m{kind=~"http|rpc"} / 0.5 >= 1\n'
        "  and on (service, check, kind) check:monitor_checks_bad:ratio_rate5m / 0.5 >= 1\n"
        "  and on (service, check, kind) sum by (service, check, kind)"
        " (increase(monitor_checks_total[10m])) >= 2\n)"
    )
    assert "for" not in exported
    annotations = exported["annotations"]
    assert annotations["summary"] == (
        "{{ $labels.service }} {{ $labels.check }} burns its error budget"
        ' {{ printf "%.1f" $value }}x too fast'
    )
    assert annotations["description"].endswith(
        'ms target {{ printf "%.1f" $value }}x the budgeted rate over 10m and 5m (threshold 1x).'
    )
