"""Repeated wall-clock timings summarised by their median and 95th percentile."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Timing", "summarize", "time_repeated"]


@dataclass(frozen=True)
class Timing:
    """Summary of several measurements of the same thing, in seconds.

    Attributes:
        median: The middle measurement (robust to a noisy machine).
        p95: The 95th percentile (linear interpolation between measurements).
        samples: Every measurement, in the order taken.
    """

    median: float
    p95: float
    samples: tuple[float, ...]


def summarize(seconds: Sequence[float]) -> Timing:
    """Median and 95th percentile of ``seconds`` (at least one value, none negative)."""
    values = [float(value) for value in seconds]
    if not values:
        raise ValueError("summarize needs at least one measurement; got none")
    if min(values) < 0:
        raise ValueError(f"measurements must not be negative; got {min(values)}")
    return Timing(float(np.median(values)), float(np.percentile(values, 95)), tuple(values))


def time_repeated(function: Callable[[], object], *, repeats: int = 3, warmup: int = 1) -> Timing:
    """Call ``function`` ``warmup`` times untimed, then ``repeats`` times timed.

    Args:
        function: What to time (called with no arguments).
        repeats: Timed calls; the median needs at least 3 to mean anything, so fewer is refused.
        warmup: Untimed calls first (caches, lazy initialisation).
    """
    if repeats < 3:
        raise ValueError(f"repeats must be at least 3 so that the median is meaningful; got {repeats}")
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return summarize(seconds)
