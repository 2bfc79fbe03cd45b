"""One scene as the answers of the vision tasks: multi-label classification, detection, semantic
and instance segmentation, side by side.

:func:`show_instances` draws an instance map in grey shades with each object's id written on it
(grey, so that no object is mistaken for a class colour); :func:`show_tasks` draws one panel per
task, reading the answers from :mod:`segedu.datasets.tasks`.

Example:
    >>> from segedu.datasets import ShapesScenes
    >>> dataset = ShapesScenes("train", length=4)
    >>> figure = show_tasks(dataset.sample(0), dataset.class_names)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from torch import Tensor

from segedu.datasets.tasks import bounding_boxes, image_labels
from segedu.plots.masks import PALETTE, colorize

__all__ = ["TASK_TITLES", "show_instances", "show_tasks"]

TASK_TITLES = {
    "image": "image",
    "classification": "multi-label classification",
    "detection": "detection",
    "semantic": "semantic segmentation",
    "instance": "instance segmentation\n(grey shades + ids: objects, not classes)",
}
"""The panels :func:`show_tasks` can draw, with their default titles."""


def show_instances(axis: Axes, instances: Tensor) -> None:
    """Draw an instance map: each object in its own shade of grey, labelled with its id.

    Args:
        axis: The axes to draw on.
        instances: ``(H, W)`` integer map, one id per object, 0 for background (drawn near-black).
    """
    ids = [value for value in torch.unique(instances).tolist() if value]  # object ids; 0 is background
    shades = torch.linspace(0.5, 0.95, len(ids)) if len(ids) > 1 else torch.tensor([0.7])
    picture = torch.full(tuple(instances.shape), 0.08)  # (H, W) background near-black, as in the masks
    for instance_id, shade in zip(ids, shades):
        picture[instances == instance_id] = shade
    axis.imshow(picture.numpy(), cmap="gray", vmin=0, vmax=1)
    for instance_id in ids:
        rows, columns = torch.nonzero(instances == instance_id, as_tuple=True)
        distance = (rows - rows.float().mean()) ** 2 + (columns - columns.float().mean()) ** 2
        nearest = int(distance.argmin())  # the object's pixel nearest to its centre
        axis.text(
            int(columns[nearest]), int(rows[nearest]), str(instance_id), ha="center", va="center", fontsize=9,
            fontweight="bold", bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )


def _picture(image: Tensor) -> Tensor:
    """``(C, H, W)`` image -> ``(H, W, 3)`` or ``(H, W)`` for matplotlib."""
    return (image.permute(1, 2, 0) if image.shape[0] == 3 else image[0]).numpy()


def show_tasks(
    scene: Mapping[str, Any],
    class_names: Sequence[str],
    tasks: Sequence[str] = ("classification", "detection", "semantic", "instance"),
    *,
    titles: Mapping[str, str] | None = None,
    panel_size: float = 3.0,
) -> Figure:
    """Draw one scene as the answers of several vision tasks, one panel per task.

    Args:
        scene: A scene with ``"image"`` ``(C, H, W)``, ``"mask"`` ``(H, W)`` and ``"instances"``
            ``(H, W)``, as returned by ``dataset.sample(i)``.
        class_names: The dataset's class names, index = class number.
        tasks: Panels, in order, from :data:`TASK_TITLES`: ``"image"`` (the input),
            ``"classification"`` (the image with the set of classes present written under it),
            ``"detection"`` (one box per object in its class colour), ``"semantic"`` (the mask
            in class colours, with a class legend) and ``"instance"`` (:func:`show_instances`).
        titles: Titles that replace the defaults of some panels.
        panel_size: Width of one panel in inches.

    Returns:
        The figure (the caller shows or saves it).

    Raises:
        ValueError: If a task is not one of :data:`TASK_TITLES`.
    """
    unknown = [task for task in tasks if task not in TASK_TITLES]
    if unknown or not tasks:
        raise ValueError(f"tasks must be some of {list(TASK_TITLES)}; got {list(tasks)}")
    titles = {**TASK_TITLES, **(titles or {})}
    gray = scene["image"].shape[0] == 1
    figure, axes = plt.subplots(1, len(tasks), figsize=(panel_size * len(tasks), 1.15 * panel_size), squeeze=False)
    for axis, task in zip(axes[0], tasks):
        if task in ("image", "classification", "detection"):
            axis.imshow(_picture(scene["image"]), cmap="gray" if gray else None, vmin=0, vmax=1)
        if task == "classification":
            present = image_labels(scene["mask"])
            height = scene["mask"].shape[0]
            axis.text(scene["mask"].shape[1] / 2, 1.1 * height, "{" + ", ".join(class_names[c] for c in present) + "}",
                      ha="center", va="top", fontsize=10)
        elif task == "detection":
            for box in bounding_boxes(scene["instances"], scene["mask"]):
                axis.add_patch(Rectangle((box.left - 0.5, box.top - 0.5), box.width, box.height, fill=False,
                                         color=PALETTE[box.class_index] / 255, lw=2))
        elif task == "semantic":
            axis.imshow(colorize(scene["mask"]))  # (H, W, 3) uint8
            legend = [Patch(color=PALETTE[c] / 255, label=name) for c, name in enumerate(class_names)]
            axis.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.03), ncol=2, fontsize=8,
                        title="class colours" + (" (also the boxes)" if "detection" in tasks else ""), title_fontsize=8)
        elif task == "instance":
            show_instances(axis, scene["instances"])
        axis.set_title(titles[task])
        axis.set_xticks([])
        axis.set_yticks([])
    figure.tight_layout()
    return figure
