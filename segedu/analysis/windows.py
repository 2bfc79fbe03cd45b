"""Small windows cut from segmentation scenes, labelled with the classes present at their centre.

A classifier that should later slide over whole scenes (see
:func:`segedu.models.convolutionalize`) is best trained on the windows it will see: a
``window x window`` crop, labelled *multi-label* with the foreground classes found in its central
``centre x centre`` square. :func:`centred_windows` cuts one window around every visible object
(so every class is seen often) plus a few at random places (mostly background, all-zero target).

Example:
    >>> from segedu.datasets import ShapesScenes
    >>> images, targets = centred_windows(ShapesScenes("train", length=4), window=24, centre=8)
    >>> images.shape[1:], targets.shape[1]
    (torch.Size([3, 24, 24]), 3)
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.analysis.probes import presence_targets

__all__ = ["centred_windows"]


def centred_windows(
    dataset: Any,
    *,
    window: int,
    centre: int,
    random_per_scene: int = 1,
    min_pixels: int = 20,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    """Cut windows centred on the objects of every scene, plus a few at random places.

    Scenes are reflect-padded by ``window // 2`` so that windows near the edge keep their size.
    Each target is :func:`segedu.analysis.probes.presence_targets` of the window's central ``centre x centre`` square.

    Args:
        dataset: A scene dataset with ``num_classes`` and ``sample(i)`` returning ``image``, ``mask``
            and ``instances`` (e.g. :class:`segedu.datasets.ShapesScenes`).
        window: Side of the windows (the classifier's ``image_size``).
        centre: Side of the central square that decides the labels, at most ``window``.
        random_per_scene: Extra windows per scene at uniformly random centres.
        min_pixels: Objects with fewer visible pixels get no window of their own.
        seed: Seed of the random window positions.

    Returns:
        ``(images, targets)``: the windows, one object window per visible object of each scene in
        order followed by that scene's random windows, and their multi-hot targets.

    Shape:
        images ``(N, C, window, window)``, targets ``(N, K - 1)``.
    """
    if not 1 <= centre <= window:
        raise ValueError(f"need 1 <= centre <= window; got centre={centre}, window={window}")
    generator = torch.Generator().manual_seed(seed)
    half, inner = window // 2, centre // 2
    images, masks = [], []
    for index in range(len(dataset)):
        scene = dataset.sample(index)
        image = F.pad(scene["image"][None], (half, half, half, half), mode="reflect")[0]  # (C, H+w, W+w)
        mask = F.pad(scene["mask"], (half, half, half, half), value=0)  # (H+w, W+w), padding = background
        instances = scene["instances"]  # (H, W)
        height, width = instances.shape
        centres = []
        for instance in range(1, int(instances.max()) + 1):
            rows, columns = torch.nonzero(instances == instance, as_tuple=True)
            if len(rows) >= min_pixels:
                centres.append((int(rows.float().mean().round()), int(columns.float().mean().round())))
        for _ in range(random_per_scene):
            centres.append((int(torch.randint(height, (1,), generator=generator)),
                            int(torch.randint(width, (1,), generator=generator))))
        for row, column in centres:  # (row, column) in scene coordinates = top-left corner in padded ones
            images.append(image[:, row:row + window, column:column + window])  # (C, window, window)
            top, left = row + half - inner, column + half - inner
            masks.append(mask[top:top + centre, left:left + centre])  # (centre, centre)
    return torch.stack(images), presence_targets(torch.stack(masks), dataset.num_classes)
