"""Latency against targets: which number is judged, and what a breach does to a verdict. Pure.

An RPC between services is invisible from outside, so for `rpc` checks the service's own
report wins (W3C `Server-Timing: rpc;dur=2.3`, then the JSON field `rpc_ms`); only without
either is the monitor's round trip judged, and the check says so (`latency_source`). HTTP and
health checks are judged on the round trip the monitor measured.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence

from monitor.answer import Answer
from monitor.config import Check
from monitor.latency import WindowSummary
from monitor.model import CheckKind, Reason, Status, Verdict
from monitor.server_timing import json_duration_s, rpc_duration_s

MIN_SAMPLES = 20
"""Samples a window needs before its p95 is judged. Below 20 the nearest-rank p95 is the
maximum, and one slow answer would degrade a service for a whole window."""

_JSON_SNIFF_BYTES = 16384


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
