"""What the monitor's own duration kinds share (alerting/kinds/_lag.py): every evaluation
observes the monitor anew, so `for` and `resolve_after` in checks count evaluations; the
limit is written into the exported annotations; `checks_stalled` at its limit does not fire."""

from __future__ import annotations

from datetime import timedelta

from monitor.alerting.evaluate import evaluate
from monitor.alerting.prometheus_export import alerting_rule
from monitor.alerting.state import AlertState, RuleInput
from tests.alerting_fixtures import T0, rules

LOOP = "rules:\n  - {name: LoopLag, kind: loop_lag, threshold: 250ms, for: 3, resolve_after: 2}\n"


def test_for_and_resolve_after_count_evaluations_of_the_monitor() -> None:
    config, state, seen = rules(LOOP), AlertState(), []
    lags = [0.3, 0.3, 0.3, 0.1, 0.1]
    for second, lag in enumerate(lags):
        now = T0 + timedelta(seconds=second)
        state, events = evaluate(config, state, RuleInput({}, T0, loop_lag_s=lag), now)
        seen += [(second, e.kind) for e in events]
    assert seen == [(2, "firing"), (4, "resolved")]


def test_the_exported_descriptions_name_the_limit() -> None:
    config = rules(
        """
rules:
  - {name: LoopLag, kind: loop_lag, threshold: 250ms}
  - {name: Behind, kind: schedule_lag, threshold: 2s}
"""
    ).config
    loop, behind = (alerting_rule(r, config, 30.0)["annotations"] for r in config.rules)
    assert loop["description"] == "Loop lag over 250ms distorts every latency measurement."
    assert behind["description"] == (
        "Checks start over 2s behind schedule (p99 over a minute): the monitor is short of CPU "
        "and runs every check less often than configured."
    )


STALLED = "rules:\n  - {name: Stalled, kind: checks_stalled, after: 2m}\n"


def test_checks_stalled_fires_only_past_its_limit_since_the_last_check() -> None:
    config = rules(STALLED)
    last = T0 + timedelta(minutes=1)
    at_limit = RuleInput({}, T0, last_check_at=last)
    assert evaluate(config, AlertState(), at_limit, last + timedelta(minutes=2))[1] == []
    (fired,) = evaluate(config, AlertState(), at_limit, last + timedelta(minutes=2, seconds=1))[1]
    assert (fired.kind, fired.labels["service"], fired.annotations["summary"]) == (
        "firing",
        "monitor",
        "No check has completed for 121s",
    )
