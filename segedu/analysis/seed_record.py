"""Read a stored multi-seed study (``experiments/recipe_seeds.py``) into per-seed scores, arrays and a table.

The record is ``{dataset: {model: {seed: run}}}``; each run holds ``test[where]`` scores (``where`` is
``"all"`` or ``"band"``) with ``mean_iou`` and ``iou_per_class``, and ``val_curve``, a list of
``(step, validation mean IoU)`` pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SeedRecord", "mean_iou_by_seed", "read_seed_record", "seed_table"]

WHERE = ("all", "band")


def mean_iou_by_seed(runs: Mapping[str, Mapping[str, Any]], seeds: Sequence[str],
                     regions: Sequence[str] = ("all", "band")) -> dict[tuple[str, str], list[float]]:
    """Read each model's test mean IoU, seed by seed, in each region.

    Args:
        runs: Model name to seed (a string, as in a record) to a run holding
            ``run["test"][region]["mean_iou"]``.
        seeds: The seeds to read, in the order the lists should follow.
        regions: The region keys to read, e.g. ``("all", "band")``.

    Returns:
        ``{(model, region): [mean IoU of each seed]}``, each list of length ``len(seeds)``.

    Raises:
        ValueError: If a model has no run for one of ``seeds``.
    """
    scores = {}
    for model, by_seed in runs.items():
        missing = [seed for seed in seeds if seed not in by_seed]
        if missing:
            raise ValueError(f"{model} has no run for seed(s) {', '.join(missing)}; it has {', '.join(by_seed)}")
        for region in regions:
            scores[model, region] = [float(by_seed[seed]["test"][region]["mean_iou"]) for seed in seeds]
    return scores


@dataclass(frozen=True)
class SeedRecord:
    """Per-seed summaries of a stored study, keyed by dataset and model.

    Attributes:
        seeds: the seeds every (dataset, model) pair has, as stored (strings), in numeric order.
        mean_iou: ``(dataset, model, where) -> (S,)`` test mean IoU per seed, ``where`` in ``("all", "band")``.
        dead_classes: ``(dataset, model) -> [S ints]`` classes with test IoU exactly 0 (over all pixels), per seed.
        late_change: ``(dataset, model) -> [S floats]`` validation mean IoU at ``late_step`` minus at ``early_step``.
    """

    seeds: list[str]
    mean_iou: dict[tuple[str, str, str], np.ndarray]
    dead_classes: dict[tuple[str, str], list[int]]
    late_change: dict[tuple[str, str], list[float]]


def read_seed_record(runs: Mapping[str, Mapping[str, Mapping[str, Any]]], datasets: Sequence[str],
                     models: Sequence[str], *, early_step: int = 3250, late_step: int = 4000) -> SeedRecord:
    """Summarize the seeds that every (dataset, model) pair of ``runs`` has.

    Args:
        runs: ``{dataset: {model: {seed: run}}}`` as stored by the study.
        datasets: the datasets to read.
        models: the models to read.
        early_step: the earlier validation step of ``late_change``.
        late_step: the later validation step of ``late_change``.

    Returns:
        A :class:`SeedRecord`; its arrays have one entry per common seed, in numeric order.

    Raises:
        ValueError: if the pairs share no seed, or a run's validation curve lacks either step.
    """
    seeds = sorted(set.intersection(*(set(runs[d][m]) for d in datasets for m in models)), key=int)
    if not seeds:
        raise ValueError(f"the runs of {list(datasets)} x {list(models)} share no seed")
    mean_iou, dead, late = {}, {}, {}
    for dataset in datasets:
        for model in models:
            chosen = [runs[dataset][model][seed] for seed in seeds]
            scores = mean_iou_by_seed({model: runs[dataset][model]}, seeds, WHERE)
            for where in WHERE:
                mean_iou[dataset, model, where] = np.array(scores[model, where])  # (S,)
            dead[dataset, model] = [sum(iou == 0 for iou in run["test"]["all"]["iou_per_class"]) for run in chosen]
            curves = [dict(run["val_curve"]) for run in chosen]
            if any(early_step not in curve or late_step not in curve for curve in curves):
                raise ValueError(f"{dataset}/{model}: a validation curve lacks step {early_step} or {late_step}")
            late[dataset, model] = [curve[late_step] - curve[early_step] for curve in curves]
    return SeedRecord(seeds, mean_iou, dead, late)


def seed_table(record: SeedRecord, dataset: str, models: Sequence[str], *, num_classes: int,
               parameters: Mapping[str, int], macs: Mapping[str, float], memory_bytes: Mapping[str, float],
               differs: Mapping[str, str], early_step: int = 3250, late_step: int = 4000) -> str:
    """One dataset's table: size and costs, mean IoU and band mean IoU per seed, dead classes, late change.

    Args:
        record: the study, from :func:`read_seed_record`.
        dataset: the dataset to show.
        models: the rows, in order.
        num_classes: the dataset's classes, shown in the dead-classes header.
        parameters: ``model -> parameter count``.
        macs: ``model -> multiply-accumulates`` of one image (shown in millions).
        memory_bytes: ``model -> bytes saved for backward`` of one image (shown in MiB).
        differs: ``model -> how its recipe differs`` (``"-"`` for none).
        early_step: the earlier validation step, for the header.
        late_step: the later validation step, for the header.

    Returns:
        The table as text, a header line then one line per model.
    """
    seeds = " ".join(record.seeds)
    lines = [f"{dataset:10s}{'parameters':>11s}{'MMACs':>7s}{'saved MiB':>10s}   {'mean IoU, seeds ' + seeds:22s}"
             f"{'band, seeds ' + seeds:19s}{f'classes with IoU 0 (of {num_classes})':28s}"
             f"{f'val. {early_step} to {late_step}':21s}recipe differs in"]
    for model in models:
        scores = "".join(f"{' '.join(f'{v:.3f}' for v in record.mean_iou[dataset, model, where]):{width}s}"
                         for where, width in (("all", 22), ("band", 19)))
        costs = f"{parameters[model]:11,d}{macs[model] / 1e6:7.1f}{memory_bytes[model] / 2**20:10.2f}   "
        lines.append(f"{model:10s}" + costs + scores + f"{' '.join(map(str, record.dead_classes[dataset, model])):28s}"
                     + f"{' '.join(f'{v:+.3f}' for v in record.late_change[dataset, model]):21s}" + differs[model])
    return "\n".join(lines)
