"""Repeated timings: medians and percentiles against NumPy and the standard library."""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

from benchmarks.timing import summarize, time_repeated


@pytest.mark.parametrize("values", [[3.0], [0.2, 0.1, 0.4], [5.0, 1.0, 2.0, 8.0], list(np.linspace(0, 1, 21))])
def test_summarize_matches_the_standard_definitions(values: list[float]) -> None:
    timing = summarize(values)
    assert timing.median == pytest.approx(statistics.median(values))
    ordered = sorted(values)
    # 95th percentile by linear interpolation between order statistics, written out.
    position = 0.95 * (len(ordered) - 1)
    low, high = int(np.floor(position)), int(np.ceil(position))
    expected = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    assert timing.p95 == pytest.approx(expected)
    assert timing.samples == tuple(values)


def test_summarize_refuses_nothing_and_negative_times() -> None:
    with pytest.raises(ValueError, match="at least one"):
        summarize([])
    with pytest.raises(ValueError, match="negative"):
        summarize([0.1, -0.2])


def test_time_repeated_warms_up_then_times_each_call() -> None:
    calls = []

    def sleepy() -> None:
        calls.append(time.perf_counter())
        time.sleep(0.01)

    timing = time_repeated(sleepy, repeats=4, warmup=2)
    assert len(calls) == 6
    assert len(timing.samples) == 4
    assert min(timing.samples) >= 0.01
    assert timing.median < 0.5


def test_fewer_than_three_repeats_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        time_repeated(lambda: None, repeats=2)
