"""Connected regions of a boolean map, to tell whether objects of one class touch.

A semantic mask gives all objects of a class one label, so two objects that touch form one
connected region of that label while the instance map still holds two ids. This module counts
such regions with plain torch (4-connectivity: up, down, left, right neighbours).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["count_connected_regions", "label_connected_regions"]


def label_connected_regions(region: Tensor) -> Tensor:
    """Give each 4-connected region of ``True`` pixels its own positive id.

    Every pixel starts with a unique id; ids spread to 4-neighbours inside the region (the
    largest one wins) until nothing changes, so each region ends with one id.

    Args:
        region: Boolean map of the pixels to group.

    Returns:
        int64 map of the same shape: 0 outside the region, one id per connected region
        (ids are not consecutive).

    Shape:
        - region: ``(H, W)``.
        - output: ``(H, W)``.
    """
    if region.dim() != 2:
        raise ValueError(f"region must have shape (H, W), got {tuple(region.shape)}")
    inside = region.bool()
    height, width = inside.shape
    ids = torch.arange(1, height * width + 1, dtype=torch.float64).reshape(height, width)
    labels = torch.where(inside, ids, torch.zeros_like(ids))  # (H, W)
    cross = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]], dtype=torch.bool)
    while True:
        padded = F.pad(labels[None, None], (1, 1, 1, 1))  # (1, 1, H + 2, W + 2)
        patches = F.unfold(padded, kernel_size=3)[0].reshape(9, height, width)  # (9, H, W)
        spread = patches[cross.flatten()].amax(dim=0)  # (H, W) largest id among self + 4 neighbours
        updated = torch.where(inside, spread, torch.zeros_like(spread))
        if torch.equal(updated, labels):
            return labels.long()
        labels = updated


def count_connected_regions(region: Tensor) -> int:
    """Number of 4-connected regions of ``True`` pixels.

    Args:
        region: Boolean map, shape ``(H, W)``.

    Returns:
        How many separate regions the ``True`` pixels form (0 for an empty map).
    """
    labels = label_connected_regions(region)
    return int(torch.unique(labels[labels > 0]).numel())
