"""Small helpers shared by the scene datasets: split names, argument and index checks."""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np
import torch

from segedu.core.encoding import IGNORE_INDEX

__all__ = [
    "IGNORE_INDEX",
    "SPLIT_IDS",
    "PairTransform",
    "check_index",
    "check_split",
    "contrasting_color",
    "luminance",
    "to_tensors",
]

# Fixed forever: changing them would change every generated sample.
SPLIT_IDS = {"train": 0, "val": 1, "test": 2}

# A paired transform takes (image, mask) and returns the transformed (image, mask).
PairTransform = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def check_split(split: str) -> int:
    """Return the fixed id of ``split`` ("train" 0, "val" 1, "test" 2)."""
    if split not in SPLIT_IDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_IDS)}; got {split!r}")
    return SPLIT_IDS[split]


def check_index(index: int, length: int) -> int:
    """Return ``index`` as a non-negative int, allowing Python's negative indexing."""
    index = operator.index(index)  # accepts numpy integers, rejects floats
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a dataset of length {length}")
    return index % length


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Grey level of an (..., 3) RGB array with the ITU-R BT.601 weights; keeps a channel axis."""
    weights = np.array([0.299, 0.587, 0.114], dtype=rgb.dtype)
    return (rgb @ weights)[..., None]  # (..., 1)


def contrasting_color(
    rng: np.random.Generator, behind: np.ndarray, *, tries: int = 8
) -> np.ndarray:
    """A uniformly random RGB colour that stands out from the colour ``behind`` it.

    A candidate is kept when it differs from ``behind`` both in RGB and in grey level, so
    objects stay visible in grayscale too. After ``tries`` misses the most different
    candidate is used. The distribution does not depend on any class label.
    """
    best_color, best_contrast = None, -1.0
    for _ in range(tries):
        color = rng.uniform(0.0, 1.0, size=3).astype(np.float32)
        rgb_distance = float(np.linalg.norm(color - behind)) / 0.6
        grey_distance = abs(float(luminance(color - behind)[0])) / 0.15
        contrast = min(rgb_distance, grey_distance)
        if contrast >= 1.0:
            return color
        if contrast > best_contrast:
            best_color, best_contrast = color, contrast
    return best_color


def to_tensors(image: np.ndarray, mask: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Convert an (H, W, C) float image and an (H, W) mask to the course's tensor contract.

    Shape:
        image (H, W, C) -> (C, H, W) float32; mask (H, W) -> (H, W) int64.
    """
    image_tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))
    mask_tensor = torch.from_numpy(mask.astype(np.int64, copy=False))
    return image_tensor, mask_tensor
