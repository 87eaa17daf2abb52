"""Latency against targets: which number is judged, and what a breach does to a verdict. Pure.

An RPC between services is invisible from outside, so for `rpc` checks the service's own
report wins (W3C `Server-Timing: rpc;dur=2.3`, then the JSON field `rpc_ms`); only without
either is the monitor's round trip judged, and the check says so (`latency_source`). HTTP and
health checks are judged on the round trip the monitor measured.

The objectives, error budgets and burn rates live here too, once: the metrics, the alert rules
and the Prometheus export all call `error_budget` / `burn_rate` / `burning`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache

from monitor.answer import Answer
from monitor.config import Check
from monitor.latency import WindowSummary
from monitor.model import CheckKind, Reason, Status, Verdict
from monitor.server_timing import json_duration_s, rpc_duration_s

MIN_SAMPLES = 20
"""Samples a window needs before its p95 is judged. Below 20 the nearest-rank p95 is the
maximum, and one slow answer would degrade a service for a whole window."""

_JSON_SNIFF_BYTES = 16384

P95_OBJECTIVE = 0.95
"""A latency target is a p95 target: 95 % of samples within it. The 5 % left is the budget that
`monitor_check_error_budget_burn_rate` and the exported burn-rate recording rules divide by."""
BURN_RATE_RULE_OBJECTIVE = 0.99
"""The default `objective` of a `burn_rate` alert rule. Not the p95 objective, on purpose: that
rule counts a check bad when it failed *or* was slow, an availability objective for which 95 %
is far too lax (its default 14.4x page would need 72 % of checks bad), while the p95 objective
is fixed by what a latency target means. Users set the rule's objective; the p95 one is not a
setting."""


@lru_cache(maxsize=64)
def error_budget(objective: float) -> float:
    """The share of bad events an objective allows: 1 - objective, taken on the decimal the
    objective is written as (in binary 1 - 0.95 is 0.050000000000000044), so 0.95 gives 0.05."""
    if not 0.0 < objective < 1.0:
        raise ValueError(f"objective must be in (0, 1), got {objective}")
    return float(1 - Decimal(repr(objective)))


P95_BUDGET = error_budget(P95_OBJECTIVE)


def burn_rate(bad_ratio: float, objective: float = P95_OBJECTIVE) -> float:
    """How fast the error budget burns: share of bad events / error budget.

    1.0 spends exactly the budget over the SLO period; the SRE workbook pages at 14.4 over 1h
    (2 % of a 30-day budget).
    """
    if not 0.0 <= bad_ratio <= 1.0:
        raise ValueError(f"a bad-event ratio must be in [0, 1], got {bad_ratio}")
    return bad_ratio / error_budget(objective)


TIE_TOLERANCE = 1e-9
"""Relative: a burn rate this close to its threshold is at it. Ratio, budget and threshold are
decimals rounded to binary (0.3 / 0.1 is 2.9999999999999996), and rounding must not decide a tie."""


def burning(long_rate: float, short_rate: float, threshold: float) -> bool:
    """SRE workbook multiwindow alert: the long window (e.g. 1h) and the short one (e.g. 5m)
    both burn at `threshold` or faster. The long window makes it significant, the short one
    makes it reset soon after the problem ends. At least (>=), as alerts.yaml documents it and
    the Prometheus export writes it."""
    floor = threshold * (1.0 - TIE_TOLERANCE)
    return long_rate >= floor and short_rate >= floor


class LatencySource(enum.StrEnum):
    SERVER_TIMING = "server_timing"
    JSON = "json"
    ROUND_TRIP = "round_trip"


def judged_latency(check: Check, answer: Answer) -> tuple[float | None, LatencySource]:
    """The sample to record for `check`: None when there was no complete answer."""
    if answer.status_code is None or answer.error is not None:
        return None, LatencySource.ROUND_TRIP
    if check.kind is CheckKind.RPC:
        reported = rpc_duration_s(answer.headers)
        if reported is not None:
            return reported, LatencySource.SERVER_TIMING
        if answer.content_type.endswith("json") and len(answer.body) <= _JSON_SNIFF_BYTES:
            try:
                from_body = json_duration_s(json.loads(answer.body))
            except (ValueError, RecursionError):
                from_body = None
            if from_body is not None:
                return from_body, LatencySource.JSON
    return answer.duration_s, LatencySource.ROUND_TRIP


def judging_window(
    summaries: Sequence[WindowSummary], min_samples: int = MIN_SAMPLES
) -> WindowSummary | None:
    """The shortest window with enough samples: 1m for a check every second, 1h for one
    every 30 s. None while no window has enough."""
    enough = [s for s in summaries if s.count >= min_samples and s.p95_s is not None]
    return min(enough, key=lambda s: s.window_s) if enough else None


def within_target(p95: float | None, target: float) -> bool | None:
    """Whether a p95 meets its target (at or below it: the target is the slowest acceptable);
    None when there is no p95 to judge. Both in the same unit."""
    return None if p95 is None else p95 <= target


def judge_latency(
    verdict: Verdict,
    summaries: Sequence[WindowSummary],
    target_s: float,
    min_samples: int = MIN_SAMPLES,
) -> Verdict:
    """A healthy verdict whose p95 (over the judging window) is over target becomes
    `degraded` (`latency_over_target`); anything already worse keeps its own reason."""
    summary = judging_window(summaries, min_samples)
    if verdict.status is not Status.HEALTHY or summary is None or summary.p95_s is None:
        return verdict
    p95 = summary.p95_s
    if within_target(p95, target_s):
        return verdict
    window = f"{summary.window_s / 60:g}m" if summary.window_s >= 60 else f"{summary.window_s:g}s"
    detail = (
        f"p95 {p95 * 1000:.2f} ms is over the {target_s * 1000:g} ms target "
        f"({window} window, {summary.count} samples, "
        f"{summary.over_target} over target)"
    )
    return verdict.model_copy(
        update={"status": Status.DEGRADED, "reason": Reason.LATENCY_OVER_TARGET, "detail": detail}
    )
