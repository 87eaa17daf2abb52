"""The collector settings `monitor run` applies (monitor/runtime/gc_policy.py)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from monitor.config import parse_config
from monitor.runtime.daemon import Monitor
from monitor.runtime.gc_policy import (
    FIRST_ROUND_THRESHOLDS,
    GC_THRESHOLDS,
    freeze_after_first_round,
    freeze_after_reload,
    pause_collector,
    paused_collector,
    tune_collector,
)


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        gc.enable()


@pytest.mark.usefixtures("restored_collector")
def test_start_up_runs_without_collections_until_tuned() -> None:
    pause_collector()
    assert not gc.isenabled()
    tune_collector()
    assert gc.isenabled()


@pytest.mark.usefixtures("restored_collector")
@pytest.mark.parametrize("enabled_before", [True, False])
def test_a_paused_block_leaves_the_collector_as_it_found_it(enabled_before: bool) -> None:
    (gc.enable if enabled_before else gc.disable)()
    with pytest.raises(RuntimeError), paused_collector():
        assert not gc.isenabled()
        raise RuntimeError("a failed reload")
    assert gc.isenabled() == enabled_before


@pytest.mark.usefixtures("restored_collector")
def test_a_reload_reads_and_applies_its_file_without_collections(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("services:\n  - {name: a, url: 'http://127.0.0.1:9'}\n")
    monitor = Monitor(parse_config(path.read_text()))
    path.write_text("services:\n  - {name: b, url: 'http://127.0.0.1:9'}\n")
    seen: list[bool] = []
    apply = monitor.apply_config
    monkeypatch.setattr(
        monitor, "apply_config", lambda new: seen.append(gc.isenabled()) or apply(new)
    )
    assert monitor.reload_from(str(path))[0]
    assert seen == [False]
    assert gc.isenabled()


@pytest.mark.usefixtures("restored_collector")
def test_a_reload_freezes_what_it_built_under_the_daemons_policy_only(tmp_path: Any) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("services:\n  - {name: a, url: 'http://127.0.0.1:9'}\n")
    monitor = Monitor(parse_config(path.read_text()))
    path.write_text("services:\n  - {name: b, url: 'http://127.0.0.1:9'}\n")
    assert monitor.reload_from(str(path))[0]
    assert gc.get_freeze_count() == 0, "a process without the daemon's policy froze"
    tune_collector()
    gc.unfreeze()
    path.write_text("services:\n  - {name: c, url: 'http://127.0.0.1:9'}\n")
    assert monitor.reload_from(str(path))[0]
    assert not any(o is monitor.config for o in gc.get_objects()), "full collections walk it"
    freeze_after_reload()  # again: harmless


@pytest.mark.usefixtures("restored_collector")
def test_tune_collector_freezes_and_raises_the_young_threshold() -> None:
    kept = [[i] for i in range(1000)]  # tracked objects alive now
    tune_collector()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700, "the point is fewer young collections than the default"


@pytest.mark.usefixtures("restored_collector")
async def test_second_freeze_comes_after_the_longest_interval_and_timeout() -> None:
    """At the latest: a first round the daemon never reports done (every check restored)."""
    check = SimpleNamespace(interval=0.5, timeout=0.5)
    monitor = cast(Any, SimpleNamespace(checks=lambda: [check], first_round_done=asyncio.Event()))
    task = asyncio.create_task(freeze_after_first_round(monitor))
    await asyncio.sleep(0.02)  # well inside the 1 s round: a freeze that came early shows here
    assert gc.get_freeze_count() == 0 and not task.done(), "froze before the round ended"
    await asyncio.wait_for(task, timeout=5)
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("restored_collector")
async def test_the_first_round_has_young_collections_only_until_it_is_done() -> None:
    """No middle collection walks what the first round builds (421 ms at 100,000 checks):
    young collections only, until the daemon says the round is done; then it is frozen and
    the usual thresholds hold."""
    tune_collector(first_round=True)
    assert gc.isenabled() and gc.get_threshold() == FIRST_ROUND_THRESHOLDS
    assert FIRST_ROUND_THRESHOLDS[0] == GC_THRESHOLDS[0]
    assert FIRST_ROUND_THRESHOLDS[1] >= 1_000_000, "no middle collection in a first round"
    gc.unfreeze()
    done = asyncio.Event()
    check = SimpleNamespace(interval=3600.0, timeout=5.0)  # the latest moment: an hour away
    monitor = cast(Any, SimpleNamespace(checks=lambda: [check], first_round_done=done))
    task = asyncio.create_task(freeze_after_first_round(monitor))
    await asyncio.sleep(0)  # the task waits for the round
    assert not task.done() and gc.get_freeze_count() == 0
    done.set()
    await asyncio.wait_for(task, timeout=5)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == GC_THRESHOLDS
    tune_collector()
    assert gc.get_threshold() == GC_THRESHOLDS, "load and benches: the usual policy at once"
