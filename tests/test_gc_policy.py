"""The collector settings `monitor run` applies (monitor/runtime/gc_policy.py)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from monitor.runtime.gc_policy import GC_THRESHOLDS, freeze_after_first_round, tune_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_tune_collector_freezes_and_raises_the_young_threshold() -> None:
    kept = [[i] for i in range(1000)]  # tracked objects alive now
    tune_collector()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700, "the point is fewer young collections than the default"


@pytest.mark.usefixtures("restored_collector")
async def test_second_freeze_comes_after_the_longest_interval_and_timeout() -> None:
    check = SimpleNamespace(interval=0.5, timeout=0.5)
    monitor = cast(Any, SimpleNamespace(checks=lambda: [check]))
    task = asyncio.create_task(freeze_after_first_round(monitor))
    await asyncio.sleep(0.02)
    assert gc.get_freeze_count() == 0 and not task.done(), "froze before the round ended"
    await asyncio.wait_for(task, timeout=5)
    assert gc.get_freeze_count() > 0
