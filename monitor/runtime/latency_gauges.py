"""Latency per check as the outputs show it: the status window's percentiles for `/status`,
and every window's p95, over-target share and within-target flag as gauges.

Summaries cost far more than recording a sample, so they are not computed per answer: `/status`
computes them when asked, and the gauges are refreshed in the background, in small slices, with
a bounded share of a core (a large fleet refreshes less often rather than slowing its checks).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Protocol

from monitor.config import MonitorConfig
from monitor.durations import format_duration
from monitor.latency import to_latency_summary
from monitor.metrics.daemon_metrics import MonitorMetrics
from monitor.model import LatencySummary
from monitor.runtime.tracked import TrackedCheck
from monitor.slo import within_target

__all__ = [
    "GAUGE_CPU_SHARE",
    "GAUGE_PAUSE_MIN",
    "GAUGE_SLICE",
    "GaugeSource",
    "latency_view",
    "refresh_latency_gauges",
]

GAUGE_CPU_SHARE = 0.05
"""Latency gauges are refreshed in the background using at most this share of a core."""
GAUGE_SLICE = 0.002
"""...and in slices of at most this long between yields to the event loop."""
GAUGE_PAUSE_MIN = 5.0
"""Seconds between the starts of two refreshes at least, however small the fleet."""


class GaugeSource(Protocol):
    """What the refresh reads, again on every pass: a reload replaces the first two."""

    @property
    def tracked(self) -> Mapping[str, TrackedCheck]: ...
    @property
    def config(self) -> MonitorConfig: ...
    @property
    def metrics(self) -> MonitorMetrics: ...


def latency_view(
    tracked: Mapping[str, TrackedCheck], now: float, status_window: float, min_samples: int
) -> tuple[dict[str, LatencySummary], dict[str, bool | None]]:
    """Per check with samples: the status window's percentiles, and whether the judging
    window's p95 is within target (None while no window has enough samples). Only those two
    windows' quantiles are computed (one when they are the same): the others are not shown."""
    summaries: dict[str, LatencySummary] = {}
    within: dict[str, bool | None] = {}
    for check_id, record in tracked.items():
        windows = record.windows
        if windows is None:
            continue
        shown = windows.summary(status_window, now) if status_window in windows.windows else None
        if shown is not None:
            summaries[check_id] = to_latency_summary(shown)
        judged = record.judging_window(now, min_samples)
        if judged is None:
            within[check_id] = None
            continue
        summary = shown if shown is not None and judged == status_window else None
        summary = summary or windows.summary(judged, now)
        within[check_id] = within_target(summary.p95_s, windows.target_s)
    return summaries, within


async def refresh_latency_gauges(monitor: GaugeSource) -> None:
    """Recompute every check's window gauges, again and again, until cancelled."""
    while True:
        started = slice_started = time.perf_counter()
        spent = 0.0
        now = time.monotonic()
        for record in list(monitor.tracked.values()):
            if record.windows is None or monitor.tracked.get(record.check.id) is not record:
                continue  # no sample yet, or removed by a reload meanwhile
            summaries, within = record.latency_now(now, monitor.config.latency.min_samples)
            rows = [(format_duration(s.window_s), s.p95_s, s.over_target_ratio) for s in summaries]
            monitor.metrics.observe_latency_windows(record.check, rows, within)
            if time.perf_counter() - slice_started > GAUGE_SLICE:
                # a long slice delays every answer waiting for the loop: that delay
                # would be measured as the services' latency
                spent += time.perf_counter() - slice_started
                await asyncio.sleep(0)
                slice_started = time.perf_counter()
        spent += time.perf_counter() - slice_started
        pause = spent / GAUGE_CPU_SHARE - (time.perf_counter() - started)
        await asyncio.sleep(max(GAUGE_PAUSE_MIN, pause))
