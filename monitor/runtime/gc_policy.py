"""How `monitor run` sets Python's cyclic garbage collector for a long-running daemon.

Two costs, both measured on the latency benchmark (docs/benchmarks.md):

- Full collections walk every tracked object. What is built at start-up and in the first
  round (config, checks, metric series, latency windows, pooled connections) lives as long as
  the process, so it is frozen out of the collector (`gc.freeze`): otherwise every answer in
  flight waits behind a walk of all of it.
- With Python's default young threshold (700 allocations) a busy daemon collects its young
  generation every millisecond or so, and every request in flight at that moment (a few dozen
  aiohttp objects each, alive for the service's answer time) is promoted; dying later in the
  old generation, they count towards the next full collection, of hundreds of ms each. A young
  threshold of 50,000 lets a request's objects die young (freed by reference counting before
  any collection sees them).
- Start-up and a reload build objects that all live on (at 100,000 checks, millions): a
  collection while they are built walks everything built so far, again and again (half the
  start-up CPU there). The collector is off until start-up is done, and during a reload.
- The first round builds each check's state, windows and connection, which live on too: young
  collections promote them, and a middle collection during the first round walked all of
  them (421 ms at 100,000 checks, every request and check in flight waiting it out). Until
  the first round is done only young collections run; then it is frozen like start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from monitor.config import Check

__all__ = [
    "FIRST_ROUND_THRESHOLDS",
    "GC_THRESHOLDS",
    "freeze_after_first_round",
    "freeze_after_reload",
    "pause_collector",
    "paused_collector",
    "tune_collector",
]

GC_THRESHOLDS = (50_000, 20, 10)
"""Young threshold (allocations), then how many young collections per middle one, and
middle per full (Python's defaults: 700, 10, 10)."""
FIRST_ROUND_THRESHOLDS = (GC_THRESHOLDS[0], 1_000_000, GC_THRESHOLDS[2])
"""Until the first round is frozen: young collections only (a million young collections,
~40 days of them at 100,000 checks, before a middle one)."""


class _Monitor(Protocol):
    first_round_done: asyncio.Event

    def checks(self) -> list[Check]: ...


def pause_collector() -> None:
    """No collections while start-up builds what lives on; `tune_collector` ends the pause."""
    gc.disable()


@contextmanager
def paused_collector() -> Iterator[None]:
    """No collections while the block builds what lives on (a reload's config and records)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def tune_collector(*, first_round: bool = False) -> None:
    """Freeze what exists now, raise the young threshold and collect from now on; call once
    start-up is done. `first_round`: young collections only, until `freeze_after_first_round`."""
    gc.freeze()
    gc.set_threshold(*(FIRST_ROUND_THRESHOLDS if first_round else GC_THRESHOLDS))
    gc.enable()


def freeze_after_reload() -> None:
    """What a reload built (the config, its checks) lives until the next one: frozen as at
    start-up, or every full collection after a reload walks it again while checks wait. Only
    where `tune_collector` set the daemon's policy (a test process keeps its own)."""
    if gc.get_threshold() in (GC_THRESHOLDS, FIRST_ROUND_THRESHOLDS):
        gc.freeze()


async def freeze_after_first_round(monitor: _Monitor) -> None:
    """Freeze again once every check has run once (`monitor.first_round_done`; at the latest
    after the longest interval and timeout, over which the scheduler spreads first runs): what
    the first round makes (latency windows, connections) lives as long as the process too, and
    would otherwise be walked by every full collection. Then middle and full collections run."""
    longest = max((c.interval + c.timeout for c in monitor.checks()), default=0)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(monitor.first_round_done.wait(), longest)
    gc.freeze()
    if gc.get_threshold() == FIRST_ROUND_THRESHOLDS:
        gc.set_threshold(*GC_THRESHOLDS)
