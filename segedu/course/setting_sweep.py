"""Read a stored study that trains one model at several values of one setting, over paired seeds.

A sweep record (written by a script in ``experiments/``, read with
:func:`segedu.course.experiments.load_experiment`) keeps, for every setting and seed, a run with the
test confusion matrix over all pixels (``"confusion"``), the one inside the boundary band
(``"band_confusion"``) and the training-loss curve (``"loss_curve"``: ``[step, loss]`` pairs). This module
turns those runs into the few numbers a lesson quotes: each seed's mean IoU, the drop from each setting
to the next in every seed, the spread between seeds, and how much the training loss still fell near
the end, plus a text table of them.

Example:
    >>> record = load_experiment("output_stride_study")                  # doctest: +SKIP
    >>> sweep = summarize_sweep(record, ["8", "16", "32"])               # doctest: +SKIP
    >>> print(sweep.table("OS"))                                         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from segedu.training.metrics import mean_iou

__all__ = ["SweepSummary", "loss_fall", "summarize_sweep"]

_WHERE = {"all": "confusion", "band": "band_confusion"}


def loss_fall(curve: Sequence[Sequence[float]], *, window: int = 500, average_over: int = 100) -> float:
    """How much a training loss fell over the last ``window`` steps, each end averaged to calm the noise.

    Args:
        curve: ``[step, loss]`` pairs, steps increasing (as a record stores them).
        window: Steps between the two ends compared.
        average_over: Each end is the mean loss of the points in a span of this many steps: the span
            ending at the last step, and the one ending ``window`` steps earlier.

    Returns:
        Mean loss of the earlier span minus that of the last one: positive while the loss still falls.

    Example:
        >>> loss_fall([[step, 1.0 - step / 1000] for step in range(25, 1501, 25)])  # falls 0.001 a step
        0.5
    """
    steps = np.array([point[0] for point in curve], dtype=float)  # (P,)
    losses = np.array([point[1] for point in curve], dtype=float)  # (P,)
    last = steps.max()
    late = losses[steps > last - average_over]  # the points of the last span
    early = losses[(steps > last - window - average_over) & (steps <= last - window)]
    if late.size == 0 or early.size == 0:
        raise ValueError(f"the curve (steps {steps.min():g} to {last:g}) has no point in one of the two spans of "
                         f"{average_over} steps, {window} steps apart; record it more often or shorten the spans")
    return round(float(early.mean() - late.mean()), 12)


@dataclass(frozen=True)
class SweepSummary:
    """The numbers of a sweep, per setting and seed.

    Attributes:
        settings: The settings, in the order the sweep is read (e.g. ``("8", "16", "32")``).
        seeds: The seeds, as strings, in the order of every array below.
        mean_iou: ``(setting, where)`` to each seed's mean IoU, shape ``(len(seeds),)``; ``where`` is
            ``"all"`` (every test pixel) or ``"band"`` (the boundary band).
        loss_fall: ``(setting, seed)`` to :func:`loss_fall` of that run's training-loss curve.
        window: The ``window`` of :func:`loss_fall` used.
    """

    settings: tuple[str, ...]
    seeds: tuple[str, ...]
    mean_iou: dict[tuple[str, str], np.ndarray]
    loss_fall: dict[tuple[str, str], float]
    window: int

    def drops(self) -> dict[tuple[str, str, str], np.ndarray]:
        """``(setting, next setting, where)`` to each seed's mean IoU at the first minus at the next."""
        return {(first, after, where): self.mean_iou[first, where] - self.mean_iou[after, where]
                for first, after in zip(self.settings, self.settings[1:]) for where in _WHERE}

    def largest_spread(self) -> float:
        """The largest difference between two seeds' mean IoU at one setting, over all pixels or in the band."""
        return float(max(values.max() - values.min() for values in self.mean_iou.values()))

    def table(self, label: str, extra: dict[str, dict[str, str]] | None = None) -> str:
        """A text table: one row per setting, each seed's mean IoU (all pixels, then band) and loss fall.

        Args:
            label: The heading of the first column (the setting's name, e.g. ``"OS"``).
            extra: Column heading to setting to the text of that cell, shown after the first column.

        Returns:
            The table as lines of text, without a trailing newline.
        """
        extra = extra or {}
        widths = {heading: max(len(heading), *(len(cells[s]) for s in self.settings))
                  for heading, cells in extra.items()}
        seeds = ", ".join(self.seeds)
        groups = [f"mean IoU, seeds {seeds}", f"band, seeds {seeds}", f"loss fall, last {self.window} steps"]
        group_width = max(7 * len(self.seeds), *(len(group) for group in groups))
        first = max(len(label), *(len(setting) for setting in self.settings))
        lines = [f"{label:>{first}}" + "".join(f"  {heading:>{widths[heading]}}" for heading in extra)
                 + "".join(f"  {group:>{group_width}}" for group in groups)]
        for setting in self.settings:
            cells = [f"{setting:>{first}}"] + [f"{extra[heading][setting]:>{widths[heading]}}" for heading in extra]
            for values in (self.mean_iou[setting, "all"], self.mean_iou[setting, "band"],
                           np.array([self.loss_fall[setting, seed] for seed in self.seeds])):
                cells.append(f"{''.join(f'{value:7.3f}' for value in values):>{group_width}}")
            lines.append("  ".join(cells))
        return "\n".join(lines)


def summarize_sweep(record: dict[str, Any], settings: Sequence[str], *, window: int = 500,
                    average_over: int = 100) -> SweepSummary:
    """Each seed's mean IoU and late loss fall at each setting of a stored sweep.

    Args:
        record: A stored record: ``record["seeds"]`` lists the seeds and ``record["results"]["runs"]``
            maps setting to seed (both strings) to a run with ``"confusion"`` and ``"band_confusion"``
            (``(K, K)`` pixel counts, rows the true class) and ``"loss_curve"``.
        settings: The settings to read, in order.
        window: Passed to :func:`loss_fall`.
        average_over: Passed to :func:`loss_fall`.

    Returns:
        A :class:`SweepSummary`; mean IoU comes from :func:`segedu.training.metrics.mean_iou` (classes
        absent from a matrix's rows and columns are left out).
    """
    runs = record["results"]["runs"]
    seeds = tuple(str(seed) for seed in record["seeds"])
    missing = [f"{setting}/{seed}" for setting in settings for seed in seeds
               if str(setting) not in runs or seed not in runs[str(setting)]]
    if missing:
        raise ValueError(f"the record has no run for setting/seed {', '.join(missing)}; "
                         f"it has settings {sorted(runs)}")
    scores = {(str(setting), where): np.array([mean_iou(torch.tensor(runs[str(setting)][seed][key],
                                                                     dtype=torch.float64)) for seed in seeds])
              for setting in settings for where, key in _WHERE.items()}  # (seeds,) each
    falls = {(str(setting), seed): loss_fall(runs[str(setting)][seed]["loss_curve"], window=window,
                                             average_over=average_over)
             for setting in settings for seed in seeds}
    return SweepSummary(tuple(str(s) for s in settings), seeds, scores, falls, window)
