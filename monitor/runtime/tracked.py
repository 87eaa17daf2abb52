"""One record per check the daemon runs: the check, its last state, its latency windows, where
their samples came from, and whether the store has the state yet.

One slotted record in one dict (check id -> record) rather than a dict per attribute: a
completed check costs one lookup, and a removed check cannot leave a piece of itself behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.config import Check
from monitor.latency import LatencyWindows, WindowSummary
from monitor.slo import LatencySource, judging_window, within_target
from monitor.state import CheckState

__all__ = ["TrackedCheck"]


@dataclass(slots=True, eq=False)
class TrackedCheck:
    """A check and what the daemon knows of it. `check` is replaced in place when a reload
    changes the check, so its state and windows carry over."""

    check: Check
    state: CheckState | None = None
    windows: LatencyWindows | None = None
    """Created by the first latency sample, and again when the target changes."""
    latency_source: LatencySource | None = None
    """Where the last sample came from (the service's own report, or the round trip)."""
    dirty: bool = False
    """The state changed since the store last saved it (runtime/store_writer.py)."""

    def record_latency(
        self,
        target_s: float,
        sample_s: float,
        source: LatencySource,
        now: float,
        windows_s: Sequence[float],
        min_samples: int,
    ) -> WindowSummary | None:
        """Record one sample; return the judging window's summary (the shortest window with
        `min_samples`), None while no window has enough. Only that window's quantiles are
        computed: a summary is the dearest step of a check, and this runs on every answer."""
        windows = self.windows
        if windows is None or windows.target_s != target_s:
            windows = self.windows = LatencyWindows(target_s, tuple(windows_s))
        windows.record(sample_s, now)
        self.latency_source = source
        judged = self.judging_window(now, min_samples)
        return None if judged is None else windows.summary(judged, now)

    def judging_window(self, now: float, min_samples: int) -> float | None:
        """The window targets are judged on: the shortest holding `min_samples` samples (None
        while none does). From the counts alone, so a caller pays for one window's quantiles."""
        windows = self.windows
        if windows is None:
            return None
        counts = windows.counts(now)
        return min(
            (w for w, n in zip(windows.windows, counts, strict=True) if n >= min_samples),
            default=None,
        )

    def latency_now(self, now: float, min_samples: int) -> tuple[list[WindowSummary], bool | None]:
        """Every window's summary, and whether the judging window's p95 is within the target
        the samples were counted against (None while no window has enough samples)."""
        windows = self.windows
        if windows is None:
            return [], None
        summaries = [windows.summary(w, now) for w in windows.windows]
        judged = judging_window(summaries, min_samples)
        return summaries, within_target(None if judged is None else judged.p95_s, windows.target_s)
