"""LatencyWindows against exact percentiles of sorted lists; window edges; exact target counts."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.latency import (
    MAX_VALUE_S,
    LatencyWindows,
    WindowSummary,
    to_latency_summary,
)
from monitor.model import LatencySummary

Z95 = 1.6448536269514722  # standard normal quantile at 0.95


def exact(values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least q of them at or below it."""
    ordered = sorted(values)
    rank = math.ceil(round(q * len(ordered), 9))  # round: 0.95 * 20 must be 19, not 19.000..01
    return ordered[rank - 1]


def lognormal_with_p95(p95_s: float, sigma: float) -> Callable[[random.Random], float]:
    mu = math.log(p95_s) - Z95 * sigma
    return lambda rng: rng.lognormvariate(mu, sigma)


def bimodal(rng: random.Random) -> float:
    """90 % fast path near 2 ms, 10 % slow path near 40 ms (a cache miss, say)."""
    if rng.random() < 0.9:
        return rng.gauss(0.002, 0.0003)
    return rng.gauss(0.040, 0.005)


DISTRIBUTIONS: dict[str, Callable[[random.Random], float]] = {
    "uniform_1_10ms": lambda rng: rng.uniform(0.001, 0.010),
    "lognormal_p95_3ms": lognormal_with_p95(0.003, 0.5),
    "lognormal_p95_40ms": lognormal_with_p95(0.040, 0.6),
    "bimodal_2ms_40ms": bimodal,
}


def assert_within(estimate: float | None, truth: float, accuracy: float) -> None:
    assert estimate is not None
    assert abs(estimate - truth) <= accuracy * truth + 1e-15, (estimate, truth)


@pytest.mark.parametrize("accuracy", [0.01, 0.001, 0.05])
@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_quantiles_within_relative_accuracy(name: str, accuracy: float) -> None:
    rng = random.Random(f"{name}-{accuracy}")
    values = [max(0.0, DISTRIBUTIONS[name](rng)) for _ in range(3000)]
    lw = LatencyWindows(0.005, relative_accuracy=accuracy)
    for value in values:
        lw.record(value, now=1000.0)
    for window in lw.windows:
        s = lw.summary(window, now=1000.0)
        assert s.count == len(values)
        assert_within(s.p50_s, exact(values, 0.50), accuracy)
        assert_within(s.p95_s, exact(values, 0.95), accuracy)
        assert_within(s.p99_s, exact(values, 0.99), accuracy)


@pytest.mark.parametrize(
    ("name", "p95_s"), [("lognormal_p95_3ms", 0.003), ("lognormal_p95_40ms", 0.040)]
)
def test_generated_data_has_the_p95_the_targets_are_about(name: str, p95_s: float) -> None:
    rng = random.Random(name)
    values = [DISTRIBUTIONS[name](rng) for _ in range(20000)]
    assert exact(values, 0.95) == pytest.approx(p95_s, rel=0.05)


def test_rolling_windows_match_exact_over_three_hours_of_samples() -> None:
    """One sample every 7 s for 3 h; every 10 min compare each window with the documented rule."""
    rng = random.Random(7)
    draw = DISTRIBUTIONS["bimodal_2ms_40ms"]
    lw = LatencyWindows(0.005)
    samples: list[tuple[float, float]] = []
    t = 0.0
    while t < 3 * 3600:
        value = max(0.0, draw(rng))
        lw.record(value, t)
        samples.append((t, value))
        t += 7.0
        if int(t) % 600 < 7:
            for window in lw.windows:
                width = window / 12
                current = math.floor(t / width)
                inside = [
                    v for ts, v in samples if current - 12 < math.floor(ts / width) <= current
                ]
                s = lw.summary(window, t)
                assert s.count == len(inside)
                assert inside
                assert all(ts >= t - window for ts, _ in samples[-len(inside) :])
                assert s.over_target == sum(v > 0.005 for v in inside)
                assert_within(s.p95_s, exact(inside, 0.95), 0.01)
                assert_within(s.p50_s, exact(inside, 0.50), 0.01)


@pytest.mark.parametrize(
    ("sample_at", "read_at", "count"),
    [
        (0.0, 0.0, 1),  # the current sub-bucket counts
        (0.0, 59.9, 1),  # same 5 s sub-bucket as 0.0 is still the oldest live one
        (0.0, 60.0, 0),  # a full minute later it is gone
        (4.9, 59.9, 1),
        (4.9, 60.0, 0),  # aged 55.1 s: dropped with its sub-bucket (documented: up to w early)
        (5.0, 60.0, 1),
        (5.0, 64.9, 1),
        (5.0, 65.0, 0),
        (10.0, 5.0, 0),  # a sample after `now` is not in [now - window, now]
    ],
)
def test_one_minute_window_edges(sample_at: float, read_at: float, count: int) -> None:
    lw = LatencyWindows(0.005)
    lw.record(0.001, sample_at)
    assert lw.summary(60.0, read_at).count == count


def test_windows_expire_one_after_another() -> None:
    lw = LatencyWindows(0.005)
    lw.record(0.001, 100.0)
    counts = {
        now: [lw.summary(w, now).count for w in (60.0, 300.0, 3600.0)]
        for now in (100.0, 200.0, 500.0, 4000.0)
    }
    assert counts == {100.0: [1, 1, 1], 200.0: [0, 1, 1], 500.0: [0, 0, 1], 4000.0: [0, 0, 0]}


def test_late_sample_older_than_a_ring_is_left_out_of_that_window_only() -> None:
    lw = LatencyWindows(0.005)
    lw.record(0.001, 1000.0)
    lw.record(0.002, 960.0)  # 40 s late: still inside every window
    lw.record(0.003, 600.0)  # 400 s late: only inside the hour
    assert [lw.summary(w, 1000.0).count for w in (60.0, 300.0, 3600.0)] == [2, 2, 3]


def test_sample_whose_sub_bucket_was_reused_is_dropped() -> None:
    lw = LatencyWindows(0.005)
    lw.record(0.001, 120.0)  # 1m ring of 24 ids of 5 s: id 0 holds epoch 24
    lw.record(0.002, 0.0)  # id 0 again, epoch 0: older than the ring reaches
    assert lw.summary(60.0, 120.0).count == 1
    assert lw.summary(60.0, 0.0).count == 0
    assert lw.summary(3600.0, 120.0).count == 2


def test_a_stale_sub_bucket_is_swept_at_the_latest_when_its_id_comes_round() -> None:
    lw = LatencyWindows(0.005, windows=(60.0,))
    for i in range(200):  # 200 distinct keys in the sub-bucket of epoch 0
        lw.record(0.001 * 1.05**i, 0.0)
    for t in range(5, 120, 5):  # one sample in each of epochs 1..23: too few to pay a sweep
        lw.record(0.001, float(t))
    assert len(lw._entries) == 200 + 23  # epochs 0..11 are out of sight but still held
    assert lw.summary(60.0, 115.0).count == 12  # epochs 12..23
    lw.record(0.5, 120.0)  # epoch 24 reuses epoch 0's id: it must go now
    assert len(lw._entries) == 11 + 1  # one sweep left epochs 13..23, and 0.5 joined
    assert lw.summary(60.0, 120.0).count == 12


def test_sweeps_keep_the_store_near_the_live_set() -> None:
    lw = LatencyWindows(0.005, windows=(60.0,))
    most = 0
    for i in range(240):  # 20 min, one new value every 5 s: every sample is its own entry
        lw.record(0.001 * 1.05 ** (i % 100), 5.0 * i)
        most = max(most, len(lw._entries))
    assert most <= 2 * 12
    assert lw.summary(60.0, 5.0 * 239).count == 12


def test_over_target_is_exact_and_strict() -> None:
    lw = LatencyWindows(0.005)
    for value in (0.004999, 0.005, 0.005001, 0.0050001, 0.1):
        lw.record(value, 10.0)
    s = lw.summary(300.0, 10.0)
    assert (s.count, s.over_target) == (5, 3)
    assert s.over_target_ratio == pytest.approx(0.6)


def test_over_target_counts_exactly_where_the_sketch_cannot() -> None:
    """Values 0.5 % either side of the target share sketch buckets; the count still splits them."""
    lw = LatencyWindows(0.050)
    rng = random.Random(3)
    values = [0.050 * rng.uniform(0.995, 1.005) for _ in range(1001)]
    for value in values:
        lw.record(value, 0.0)
    assert lw.summary(3600.0, 0.0).over_target == sum(v > 0.050 for v in values)


def test_empty_window() -> None:
    s = LatencyWindows(0.005).summary(300.0, 123.0)
    assert s == WindowSummary(300.0, 0, None, None, None, 0, None)


def test_zero_and_huge_values() -> None:
    lw = LatencyWindows(0.005)
    lw.record(0.0, 0.0)
    assert lw.summary(60.0, 0.0).p50_s == 0.0
    lw2 = LatencyWindows(0.005)
    lw2.record(1e9, 0.0)
    assert_within(lw2.summary(60.0, 0.0).p99_s, MAX_VALUE_S, 0.01)


@pytest.mark.parametrize("value", [-0.001, math.nan, math.inf, -math.inf])
def test_record_rejects_impossible_latency(value: float) -> None:
    lw = LatencyWindows(0.005)
    with pytest.raises(ValueError, match="latency"):
        lw.record(value, 0.0)
    assert lw.summary(60.0, 0.0).count == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target_s": 0.0}, "target_s"),
        ({"target_s": math.nan}, "target_s"),
        ({"target_s": 0.005, "relative_accuracy": 0.0}, "relative_accuracy"),
        ({"target_s": 0.005, "relative_accuracy": 1.0}, "relative_accuracy"),
        ({"target_s": 0.005, "relative_accuracy": 1e-7}, "too fine"),
        ({"target_s": 0.005, "windows": ()}, "windows"),
        ({"target_s": 0.005, "windows": (60.0, -1.0)}, "windows"),
        ({"target_s": 0.005, "windows": (60.0, 60.0)}, "distinct"),
        ({"target_s": 0.005, "slots": 0}, "slots"),
        ({"target_s": 0.005, "slots": 100}, "slots"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LatencyWindows(**kwargs)  # type: ignore[arg-type]


def test_summary_of_an_unknown_window_is_refused() -> None:
    with pytest.raises(ValueError, match="no 120"):
        LatencyWindows(0.005).summary(120.0, 0.0)


def test_memory_stays_bounded_as_sub_buckets_are_reused() -> None:
    rng = random.Random(11)
    draw = DISTRIBUTIONS["lognormal_p95_3ms"]
    lw = LatencyWindows(0.005)
    sizes = []
    for hour in range(4):
        for i in range(3600):
            lw.record(draw(rng), hour * 3600 + i)
        sizes.append(lw.__sizeof__())
    assert sizes[3] < 1.3 * sizes[1]
    assert sizes[3] < 48_000


@given(
    st.lists(
        st.floats(min_value=1e-6, max_value=100.0, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=300,
    )
)
@settings(max_examples=60, deadline=None)
def test_any_data_within_relative_accuracy(values: list[float]) -> None:
    lw = LatencyWindows(0.005)
    for value in values:
        lw.record(value, 5.0)
    s = lw.summary(60.0, 5.0)
    assert s.count == len(values)
    assert s.over_target == sum(v > 0.005 for v in values)
    for q, estimate in ((0.5, s.p50_s), (0.95, s.p95_s), (0.99, s.p99_s)):
        assert_within(estimate, exact(values, q), 0.01)


@pytest.mark.parametrize(
    ("window", "label"), [(60.0, "1m"), (300.0, "5m"), (3600.0, "1h"), (90.0, "90s")]
)
def test_to_latency_summary(window: float, label: str) -> None:
    lw = LatencyWindows(0.005, windows=(window,))
    for value in (0.002, 0.003, 0.004):
        lw.record(value, 0.0)
    model = to_latency_summary(lw.summary(window, 0.0))
    assert isinstance(model, LatencySummary)
    assert model.window == label
    assert model.count == 3
    assert model.p50 == pytest.approx(3.0, rel=0.01)
    assert model.p99 == pytest.approx(4.0, rel=0.01)  # nearest rank: the slowest of three


@pytest.mark.parametrize(
    ("values", "p50", "p95", "p99"),
    [
        ([0.001], 0.001, 0.001, 0.001),
        ([0.001, 0.002], 0.001, 0.002, 0.002),
        ([0.001 * i for i in range(1, 21)], 0.010, 0.019, 0.020),
        ([0.001 * i for i in range(1, 101)], 0.050, 0.095, 0.099),
    ],
)
def test_nearest_rank_on_small_samples(
    values: list[float], p50: float, p95: float, p99: float
) -> None:
    lw = LatencyWindows(0.005)
    for value in values:
        lw.record(value, 0.0)
    s = lw.summary(60.0, 0.0)
    for estimate, truth in ((s.p50_s, p50), (s.p95_s, p95), (s.p99_s, p99)):
        assert_within(estimate, truth, 0.01)


def test_to_latency_summary_of_empty_window() -> None:
    model = to_latency_summary(LatencyWindows(0.05).summary(3600.0, 0.0))
    assert model == LatencySummary(p50=None, p95=None, p99=None, window="1h", count=0)


def test_counts_match_the_summaries() -> None:
    rng = random.Random(3)
    lw = LatencyWindows(0.005)
    t = 0.0
    for _ in range(2000):
        t += rng.uniform(0.0, 5.0)
        lw.record(rng.uniform(0.0, 0.01), t)
        if rng.random() < 0.05:
            assert lw.counts(t) == tuple(lw.summary(w, t).count for w in lw.windows)
