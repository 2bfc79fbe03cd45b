"""Text tables of stored training runs: test mean IoU seed by seed, and recipes side by side.

A stored record (:func:`segedu.course.experiments.load_experiment`) keeps one run per model and seed, each with its
test scores per region (``"all"``: every pixel, ``"band"``: the pixels near a class boundary). These helpers read
those scores into lists, one value per seed (:func:`segedu.analysis.seed_record.mean_iou_by_seed`), and lay them out
as plain text, so that a lesson prints the numbers its prose quotes without a cell of formatting code.

Example:
    >>> from segedu.analysis.seed_record import mean_iou_by_seed
    >>> runs = {"A": {"0": {"test": {"all": {"mean_iou": 0.5}}}, "1": {"test": {"all": {"mean_iou": 0.6}}}},
    ...         "B": {"0": {"test": {"all": {"mean_iou": 0.8}}}, "1": {"test": {"all": {"mean_iou": 0.7}}}}}
    >>> scores = mean_iou_by_seed(runs, ["0", "1"], regions=("all",))
    >>> print(per_seed_table(scores, ["0", "1"], title="test mean IoU", difference=("B", "A")))
    test mean IoU         seed 0   seed 1
    all pixels  A         0.5000   0.6000
                B         0.8000   0.7000
                B - A     +0.300   +0.100
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from segedu.course.aligned_tables import aligned_table

__all__ = ["REGION_LABELS", "per_seed_table", "recipe_table", "widest_seed_range"]

REGION_LABELS = {"all": "all pixels", "band": "2-px band"}  # a record's region key -> its label in a table


def widest_seed_range(scores: Mapping[tuple[str, str], Sequence[float]],
                      models: Sequence[str] | None = None) -> tuple[tuple[str, str], float]:
    """The (model, region) whose values spread most across seeds, and that spread (highest minus lowest).

    Args:
        scores: ``{(model, region): [value per seed]}``, as :func:`segedu.analysis.seed_record.mean_iou_by_seed`
            returns.
        models: Only these models count; ``None`` counts all.

    Returns:
        The key of the widest row and its range; the first such row on a tie.
    """
    chosen = [key for key in scores if models is None or key[0] in models]
    if not chosen:
        raise ValueError(f"no row of the table belongs to the models {list(models or [])}")
    widest = max(chosen, key=lambda key: max(scores[key]) - min(scores[key]))
    return widest, max(scores[widest]) - min(scores[widest])


def per_seed_table(scores: Mapping[tuple[str, str], Sequence[float]], seeds: Sequence[str], *, title: str,
                   difference: tuple[str, str] | None = None, differences: Sequence[tuple[str, str]] = (),
                   region_labels: Mapping[str, str] = REGION_LABELS) -> str:
    """Lay out per-seed scores: one block of rows per region, one row per model, one column per seed.

    Args:
        scores: ``{(model, region): [value per seed]}``, as :func:`segedu.analysis.seed_record.mean_iou_by_seed`
            returns; models and regions appear in the order of their first key.
        seeds: The seeds, in the order of the values; they head the columns.
        title: The heading of the first column.
        difference: ``(minuend, subtrahend)``: two models whose difference is added, seed by seed, under each
            region's rows; ``None`` for no difference row.
        differences: More such pairs, each a row after ``difference``'s.
        region_labels: A label per region key; an unlisted region is labelled by its key.

    Returns:
        The table as lines of text, without a trailing newline; values with 4 decimals, differences signed with 3.
    """
    models = list(dict.fromkeys(model for model, _ in scores))
    regions = list(dict.fromkeys(region for _, region in scores))
    pairs = ([difference] if difference else []) + list(differences)
    unknown = sorted({model for pair in pairs for model in pair} - set(models))
    if unknown:
        raise ValueError(f"the differences name {unknown}, which the scores do not hold; they hold {models}")
    rows = models + [f"{first} - {second}" for first, second in pairs]
    name_width = max(len(row) for row in rows) + 2
    label_width = max(len(region_labels.get(region, region)) for region in regions) + 2
    lines = [f"{title:{label_width + name_width}}" + "".join(f"{'seed ' + seed:>9}" for seed in seeds).rstrip()]
    for region in regions:
        label = region_labels.get(region, region)
        for number, model in enumerate(models):
            values = scores[model, region]
            lines.append(f"{label if number == 0 else '':{label_width}}{model:{name_width}}"
                         + "".join(f"{value:>9.4f}" for value in values))
        for pair, row in zip(pairs, rows[len(models):]):
            first, second = (scores[model, region] for model in pair)
            lines.append(f"{'':{label_width}}{row:{name_width}}"
                         + "".join(f"{high - low:>+9.3f}" for high, low in zip(first, second)))
    return "\n".join(line.rstrip() for line in lines)


def recipe_table(recipes: Mapping[str, Mapping[str, Any]], keys: Sequence[str], *, label: str = "recipe") -> str:
    """Lay recipes side by side: one row per run, one column per recipe setting.

    Args:
        recipes: Run name to its recipe (setting name to value), e.g. from ``pretrained_info(...)["recipe"]``.
        keys: The settings to show, in order; a setting a recipe lacks shows as ``-``.
        label: The heading of the first column.

    Returns:
        The table as lines of text, without a trailing newline.

    Example:
        >>> print(recipe_table({"a": {"steps": 10, "lr": 0.1}, "b": {"steps": 20}}, ["steps", "lr"]))
        recipe  steps   lr
        a          10  0.1
        b          20    -
    """
    rows = {name: {key: str(recipe[key]) if key in recipe else None for key in keys}
            for name, recipe in recipes.items()}  # every row names every key, so the columns keep the order of keys
    return aligned_table(rows, label=label)
