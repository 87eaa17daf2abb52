"""LatencyWindows at the edges the distribution tests do not reach: the smallest value still
measured, zero samples counted by the store itself, the largest layout allowed (256 sub-bucket
ids), one store entry per (value, sub-bucket) however many samples, and the public model's
rounding to the microsecond. Expected values are written out."""

from __future__ import annotations

import pytest

from monitor.latency import MIN_VALUE_S, LatencyWindows, WindowSummary, to_latency_summary


def test_the_smallest_value_measured_is_one_nanosecond() -> None:
    lw = LatencyWindows(0.005)
    lw.record(MIN_VALUE_S, 0.0)
    p50 = lw.summary(60.0, 0.0).p50_s
    assert p50 == pytest.approx(1e-9, rel=0.01)  # not read as 0, as a shorter one is
    lw.record(0.9e-9, 0.0)
    lw.record(0.9e-9, 0.0)
    assert lw.summary(60.0, 0.0).p50_s == 0.0


def test_zero_samples_in_the_first_sub_bucket_are_all_counted() -> None:
    """Value 0 in sub-bucket 0 is the store entry whose key and slot bits are all zero."""
    lw = LatencyWindows(0.005)
    for _ in range(3):
        lw.record(0.0, 0.0)
    summary = lw.summary(60.0, 0.0)
    assert (summary.count, summary.p50_s, summary.p99_s) == (3, 0.0, 0.0)


def test_the_largest_layout_reads_its_last_sub_bucket() -> None:
    """4 windows x 32 slots x 2 = 256 ids, the most a packed store entry can address."""
    lw = LatencyWindows(0.005, windows=(60.0, 120.0, 180.0, 240.0), slots=32)
    now = 63 * 7.5  # 240 s / 32 slots = 7.5 s: epoch 63, the last id of the last window
    lw.record(0.004, now)
    summary = lw.summary(240.0, now)
    assert summary.count == 1
    assert summary.p95_s == pytest.approx(0.004, rel=0.01)


def test_repeated_values_share_one_store_entry() -> None:
    once, often = LatencyWindows(0.005), LatencyWindows(0.005)
    once.record(0.003, 1.0)
    for _ in range(500):
        often.record(0.003, 1.0)
    assert often.__sizeof__() == once.__sizeof__()
    assert often.summary(60.0, 1.0).count == 500


@pytest.mark.parametrize(
    ("seconds", "ms"),
    [(0.0012344, 1.234), (0.0012346, 1.235), (0.25, 250.0), (0.0000004, 0.0)],
)
def test_the_public_model_is_milliseconds_to_the_microsecond(seconds: float, ms: float) -> None:
    summary = WindowSummary(300.0, 1, seconds, seconds, seconds, 0, 0.0)
    model = to_latency_summary(summary)
    assert (model.p50, model.p95, model.p99, model.window) == (ms, ms, ms, "5m")


def test_windows_given_longest_first_keep_their_samples_through_sweeps() -> None:
    """A sweep judges each window's sub-buckets by that window's own width."""
    lw = LatencyWindows(0.005, windows=(3600.0, 60.0))
    lw.record(0.002, 0.0)
    for i in range(1, 200):
        lw.record(0.002, i * 5.0)  # every 1m sub-bucket comes round: sweeps run
    assert lw.summary(3600.0, 995.0).count == 200
    assert lw.summary(60.0, 995.0).count == 12


def test_the_finest_accuracy_24_bit_keys_allow_records_the_largest_value() -> None:
    """At 1.1e-6 the largest value's key field needs all 24 bits of a store entry's top."""
    lw = LatencyWindows(0.005, relative_accuracy=1.1e-6)
    lw.record(1e6, 0.0)
    assert lw.summary(60.0, 0.0).p50_s == pytest.approx(1e6, rel=1.1e-6)
