"""Score a stored seed study of segmentation variants by region, paired by seed.

A seed study (``experiments/shortcut_study.py``) keeps, for every variant and seed, one *run*: the
test confusion matrix over all pixels (``"confusion"``, ``(K, K)`` counts), the same matrix restricted
to the boundary band (``"band_confusion"``, :func:`segedu.training.metrics.boundary_band`), the training
loss every 25 steps (``"loss_curve"``, ``[[step, loss], ...]``) and the parameter count. Because
confusion counts add up, the **interior** matrix (every pixel outside the band) is the difference of the
two, and every measure of a region comes from its matrix.

- :func:`region_confusion`, :func:`region_iou` and :func:`wrong_pixels` read one run;
- :func:`score_runs` scores every run of a study into a :class:`SeedScores`: mean IoU and wrong pixels
  per region, the late training loss and the parameter count, one array entry per seed;
- :meth:`SeedScores.paired` and :meth:`SeedScores.verdict` compare two variants *paired by seed* (the
  same seed gives both the same batches and, where their modules match, the same starting weights):
  one is "ahead in every seed", or they are "not separated". That is a sign pattern, not a significance
  test: a true tie still puts one variant ahead in all ``n`` seeds with probability ``2 * 0.5**n``.

Example:
    >>> eye = [[5, 1], [0, 4]]
    >>> run = {"confusion": eye, "band_confusion": [[1, 1], [0, 1]], "loss_curve": [[25, 1.0]],
    ...        "parameters": 10}
    >>> scores = score_runs({"a": {"0": run}, "b": {"0": run}})
    >>> scores.wrong["band"]["a"].tolist(), scores.wrong["interior"]["a"].tolist()
    ([1], [0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from segedu.training.metrics import mean_iou

__all__ = ["REGIONS", "SeedScores", "region_confusion", "region_iou", "score_runs", "wrong_pixels"]

REGIONS = ("all pixels", "band", "interior")
"""The three regions a run is scored in: every test pixel, the boundary band, and the rest (interior)."""


def region_confusion(run: Mapping[str, Any], region: str) -> Tensor:
    """The confusion matrix of one run in one region of :data:`REGIONS`.

    Args:
        run: A stored run with ``"confusion"`` and ``"band_confusion"``, each ``(K, K)`` pixel counts.
        region: ``"all pixels"``, ``"band"`` or ``"interior"`` (all pixels minus the band).

    Returns:
        ``(K, K)`` int64 counts, rows true classes, columns predicted classes.
    """
    if region not in REGIONS:
        raise ValueError(f"region must be one of {REGIONS}; got {region!r}")
    everything = torch.as_tensor(run["confusion"], dtype=torch.int64)  # (K, K)
    band = torch.as_tensor(run["band_confusion"], dtype=torch.int64)  # (K, K)
    if everything.shape != band.shape or everything.ndim != 2:
        raise ValueError(f"confusion and band_confusion must be one (K, K) shape; got {tuple(everything.shape)} "
                         f"and {tuple(band.shape)}")
    return {"all pixels": everything, "band": band, "interior": everything - band}[region]


def region_iou(run: Mapping[str, Any], region: str) -> float:
    """Test mean IoU of one run in one region (:func:`segedu.training.metrics.mean_iou` of its matrix)."""
    return mean_iou(region_confusion(run, region))


def wrong_pixels(run: Mapping[str, Any], region: str) -> int:
    """Wrong test pixels of one run in one region: its confusion matrix's total minus its diagonal."""
    matrix = region_confusion(run, region)  # (K, K)
    return int(matrix.sum() - matrix.trace())


@dataclass(frozen=True)
class SeedScores:
    """Every variant of a seed study, scored per seed (arrays follow the order of :attr:`seeds`).

    Attributes:
        seeds: The seeds, as the record names them (``"0"``, ``"1"`` ...), shared by every variant.
        iou: Region -> variant -> ``(seeds,)`` test mean IoU.
        wrong: Region -> variant -> ``(seeds,)`` wrong test pixels (int).
        late_loss: Variant -> ``(seeds,)`` mean training loss over the last ``late_points`` loss points.
        late_steps: ``(first, last)`` optimiser steps that the late loss covers.
        parameters: Variant -> parameter count (the same in every seed).
        band_share: Mean share of the test pixels that lie in the band, over every run.
    """

    seeds: tuple[str, ...]
    iou: dict[str, dict[str, np.ndarray]]
    wrong: dict[str, dict[str, np.ndarray]]
    late_loss: dict[str, np.ndarray]
    late_steps: tuple[int, int]
    parameters: dict[str, int]
    band_share: float

    @property
    def variants(self) -> tuple[str, ...]:
        """The variants, in the record's order."""
        return tuple(self.parameters)

    def paired(self, region: str, a: str, b: str) -> np.ndarray:
        """``(seeds,)`` mean IoU of ``a`` minus that of ``b`` in ``region``, seed by seed."""
        return self.iou[region][a] - self.iou[region][b]

    def ahead(self, region: str, a: str, b: str) -> list[str]:
        """The seeds in which ``a`` scores above ``b`` in ``region``."""
        return [seed for seed, value in zip(self.seeds, self.paired(region, a, b)) if value > 0]

    def verdict(self, region: str, a: str, b: str) -> str:
        """``"a > b in every seed"``, ``"b > a in every seed"`` or ``"not separated"`` (paired by seed)."""
        difference = self.paired(region, a, b)  # (seeds,)
        if (difference > 0).all():
            return f"{a} > {b} in every seed"
        if (difference < 0).all():
            return f"{b} > {a} in every seed"
        return "not separated"

    def score_table(self) -> str:
        """One row per variant and region: parameters, mean IoU by seed, mean and range."""
        header = (f"{'test mean IoU':13s}{'parameters':>19s}   seed " + "     ".join(self.seeds)
                  + "     mean (range)")
        rows = [header]
        for variant in self.variants:
            change = self.parameters[variant] / next(iter(self.parameters.values())) - 1
            size = f"{self.parameters[variant]:,} ({change:+.0%})"
            for region in REGIONS:
                values = self.iou[region][variant]
                rows.append(f"{variant:13s}{region:11s}{size:>14s}  " + " ".join(f"{v:.3f}" for v in values)
                            + f"   {values.mean():.3f} ({values.min():.3f} to {values.max():.3f})")
                size = ""
        return "\n".join(rows)

    def paired_table(self, pairs: Sequence[tuple[str, str]]) -> str:
        """For each region and pair ``(a, b)``: ``a`` minus ``b`` by seed, its mean and range, seeds ``a`` leads."""
        rows = [f"{'paired difference in test mean IoU':39s}"
                + " ".join(f"{('seed ' if i == 0 else '') + seed:>6s}" for i, seed in enumerate(self.seeds))
                + "   mean (range)              first ahead in"]
        for region in REGIONS:
            for a, b in pairs:
                difference = self.paired(region, a, b)
                rows.append(f"{region:11s}{a:>12s} - {b:13s}" + " ".join(f"{v:+.3f}" for v in difference)
                            + f"   {difference.mean():+.3f} ({difference.min():+.3f} to {difference.max():+.3f})"
                            + f"   {len(self.ahead(region, a, b))} of {len(self.seeds)}")
        return "\n".join(rows)


def _seed_order(runs: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """The seeds every variant has, in numeric order; an error names a variant whose seeds differ."""
    seed_sets = {variant: set(by_seed) for variant, by_seed in runs.items()}
    first = next(iter(seed_sets.values()))
    for variant, seeds in seed_sets.items():
        if seeds != first:
            raise ValueError(f"every variant needs the same seeds to pair them; {variant!r} has {sorted(seeds)}, "
                             f"the first variant {sorted(first)}")
    return tuple(sorted(first, key=int))


def score_runs(runs: Mapping[str, Mapping[str, Mapping[str, Any]]], *, late_points: int = 4) -> SeedScores:
    """Score every run of a seed study by region, seed by seed.

    Args:
        runs: Variant -> seed -> run, as a stored study keeps them (``record["results"]["runs"]``); several
            records of the same settings may be merged first (``{**runs_a, **runs_b}`` per variant).
        late_points: How many of the last loss points (each a mean over 25 steps) make the late loss.

    Returns:
        A :class:`SeedScores` with the variants in ``runs``'s order.

    Raises:
        ValueError: If no runs are given, the variants do not share their seeds, or a variant's parameter
            count differs between seeds.
    """
    if not runs:
        raise ValueError("runs is empty: pass variant -> seed -> run")
    seeds = _seed_order(runs)
    iou = {region: {variant: np.array([region_iou(by_seed[seed], region) for seed in seeds])
                    for variant, by_seed in runs.items()} for region in REGIONS}  # (seeds,) each
    wrong = {region: {variant: np.array([wrong_pixels(by_seed[seed], region) for seed in seeds])
                      for variant, by_seed in runs.items()} for region in REGIONS}  # (seeds,) each
    curves = {variant: [np.asarray(by_seed[seed]["loss_curve"], dtype=float) for seed in seeds]
              for variant, by_seed in runs.items()}  # each (points, 2): step, loss
    late_loss = {variant: np.array([curve[-late_points:, 1].mean() for curve in by_seed])
                 for variant, by_seed in curves.items()}  # (seeds,)
    first_curve = next(iter(curves.values()))[0]
    step = first_curve[1, 0] - first_curve[0, 0] if len(first_curve) > 1 else first_curve[0, 0]
    late_steps = (int(first_curve[-min(late_points, len(first_curve)), 0] - step + 1), int(first_curve[-1, 0]))
    parameters = {}
    for variant, by_seed in runs.items():
        counts = {int(by_seed[seed]["parameters"]) for seed in seeds}
        if len(counts) != 1:
            raise ValueError(f"{variant!r} has different parameter counts across seeds: {sorted(counts)}")
        parameters[variant] = counts.pop()
    band_share = float(np.mean([np.sum(run["band_confusion"]) / np.sum(run["confusion"])
                                for by_seed in runs.values() for run in by_seed.values()]))
    return SeedScores(seeds, iou, wrong, late_loss, late_steps, parameters, band_share)
