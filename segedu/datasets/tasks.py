"""Four vision tasks answered from one labelled scene: classification, detection, semantic and
instance segmentation.

A scene with an instance map (one id per object, 0 for background) and a semantic mask (one
class per pixel) holds the answers of all four tasks. This module derives the coarser answers
from the finer ones, so a lesson can show them side by side:

* classification: which classes appear at all (:func:`image_labels`);
* detection: one box and class per object (:func:`bounding_boxes`);
* semantic segmentation: the mask itself, which :func:`semantic_from_instances` rebuilds from
  the instance map and a table of classes;
* instance segmentation: the instance map (pictured by
  :func:`segedu.plots.masks.colorize_instances`).

Example:
    >>> from segedu.datasets import ShapesScenes
    >>> scene = ShapesScenes("train", length=4).sample(2)
    >>> image_labels(scene["mask"])  # doctest: +SKIP
    [1, 3]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from segedu.core.encoding import IGNORE_INDEX

__all__ = [
    "Box",
    "bounding_boxes",
    "image_labels",
    "instance_classes",
    "instances_per_class",
    "semantic_from_instances",
]


@dataclass(frozen=True)
class Box:
    """An axis-aligned box around one object, in pixel rows and columns.

    The box is half-open like a Python slice: ``instances[top:bottom, left:right]`` holds every
    pixel of the object.

    Attributes:
        instance_id: The object's id in the instance map.
        class_index: The object's class in the semantic mask.
        top, left: First row and column of the object.
        bottom, right: One past its last row and column.
    """

    instance_id: int
    class_index: int
    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        """Rows covered by the box."""
        return self.bottom - self.top

    @property
    def width(self) -> int:
        """Columns covered by the box."""
        return self.right - self.left


def _as_label_map(array: Any, name: str) -> Tensor:
    """Return a 2-D integer tensor on the CPU, or raise a ValueError that says what is wrong."""
    if isinstance(array, np.ndarray):
        array = torch.from_numpy(array)
    if not isinstance(array, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor or numpy.ndarray; got {type(array).__name__}")
    if array.dtype == torch.bool or array.is_floating_point() or array.is_complex():
        raise ValueError(f"{name} must hold integers; got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (H, W); got shape {tuple(array.shape)}")
    return array.detach().cpu().long()


def _check_same_shape(instances: Tensor, mask: Tensor) -> None:
    if instances.shape != mask.shape:
        raise ValueError(
            f"instances and mask must have the same shape; got {tuple(instances.shape)} "
            f"and {tuple(mask.shape)}"
        )


def image_labels(
    mask: Tensor | np.ndarray,
    *,
    include_background: bool = False,
    ignore_index: int | None = IGNORE_INDEX,
) -> list[int]:
    """The classification answer: which classes appear in a mask, in increasing order.

    Args:
        mask: Class index per pixel.
        include_background: Also list class 0 when it appears.
        ignore_index: Mask value that is not a class and is never listed (``None``: none).

    Returns:
        The sorted class indices present.

    Shape:
        mask (H, W).
    """
    labels = _as_label_map(mask, "mask")
    present = [int(value) for value in torch.unique(labels)]
    return [
        value
        for value in present
        if value != ignore_index and (include_background or value != 0)
    ]


def instance_classes(
    instances: Tensor | np.ndarray,
    mask: Tensor | np.ndarray,
    *,
    ignore_index: int | None = IGNORE_INDEX,
) -> dict[int, int]:
    """The class of every object: ``{instance id: class index}``, read from the mask.

    Every pixel of an object must carry the same object class in the mask (pixels equal to
    ``ignore_index`` are skipped); background pixels have id 0 and are not listed.

    Args:
        instances: Object id per pixel, 0 = background.
        mask: Class index per pixel.
        ignore_index: Mask value to skip, or ``None``.

    Returns:
        Instance id -> class index, ordered by id.

    Raises:
        ValueError: If an object's pixels carry several classes, or background.

    Shape:
        instances, mask (H, W).
    """
    ids, labels = _as_label_map(instances, "instances"), _as_label_map(mask, "mask")
    _check_same_shape(ids, labels)
    table = {}
    for instance_id in (int(value) for value in torch.unique(ids)):
        if instance_id == 0:
            continue
        classes = torch.unique(labels[ids == instance_id])
        if ignore_index is not None:
            classes = classes[classes != ignore_index]
        if len(classes) != 1 or int(classes[0]) == 0:
            raise ValueError(
                f"instance {instance_id} must cover exactly one object class in the mask; "
                f"its pixels carry classes {classes.tolist()}"
            )
        table[instance_id] = int(classes[0])
    return table


def instances_per_class(
    instances: Tensor | np.ndarray, mask: Tensor | np.ndarray
) -> dict[int, int]:
    """How many objects of each class a scene holds: ``{class index: count}``, by class.

    Shape:
        instances, mask (H, W).
    """
    counts: dict[int, int] = {}
    for class_index in instance_classes(instances, mask).values():
        counts[class_index] = counts.get(class_index, 0) + 1
    return dict(sorted(counts.items()))


def bounding_boxes(instances: Tensor | np.ndarray, mask: Tensor | np.ndarray) -> list[Box]:
    """The detection answer: one box and class per object, ordered by instance id.

    Args:
        instances: Object id per pixel, 0 = background.
        mask: Class index per pixel (gives each box its class, see :func:`instance_classes`).

    Returns:
        One :class:`Box` per object (half-open pixel ranges).

    Shape:
        instances, mask (H, W).
    """
    ids = _as_label_map(instances, "instances")
    boxes = []
    for instance_id, class_index in instance_classes(ids, mask).items():
        rows, columns = torch.nonzero(ids == instance_id, as_tuple=True)
        boxes.append(
            Box(
                instance_id=instance_id,
                class_index=class_index,
                top=int(rows.min()),
                left=int(columns.min()),
                bottom=int(rows.max()) + 1,
                right=int(columns.max()) + 1,
            )
        )
    return boxes


def semantic_from_instances(
    instances: Tensor | np.ndarray, classes: Mapping[int, int]
) -> Tensor:
    """The semantic mask of an instance map: every object's pixels get its class.

    This is where instance identity is lost: two circles become the same class value.

    Args:
        instances: Object id per pixel, 0 = background.
        classes: Class index of every object id that appears (as from :func:`instance_classes`).

    Returns:
        Class index per pixel, int64 (background 0).

    Raises:
        ValueError: If an object id in ``instances`` has no class in ``classes``.

    Shape:
        instances (H, W) -> (H, W).
    """
    ids = _as_label_map(instances, "instances")
    missing = sorted(set(int(value) for value in torch.unique(ids)) - set(classes) - {0})
    if missing:
        raise ValueError(f"classes lacks the class of instance ids {missing}; add one entry per object")
    mask = torch.zeros_like(ids)  # (H, W), background 0
    for instance_id, class_index in classes.items():
        mask[ids == instance_id] = class_index
    return mask
