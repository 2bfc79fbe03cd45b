"""Small helpers shared by the scene datasets: split names, argument and index checks."""

from __future__ import annotations

import difflib
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
    "check_int",
    "check_split",
    "check_transform",
    "contrasting_color",
    "luminance",
    "to_tensors",
]

# Fixed forever: changing them would change every generated sample.
SPLIT_IDS = {"train": 0, "val": 1, "test": 2}

# A paired transform takes (image, mask) and returns the transformed (image, mask).
PairTransform = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def check_split(split: str) -> int:
    """Return the fixed id of ``split`` ("train" 0, "val" 1, "test" 2).

    Raises:
        ValueError: Any other value; the message suggests the nearest name, and says that the
            first argument is the split when a number was passed there.
    """
    if isinstance(split, str) and split in SPLIT_IDS:
        return SPLIT_IDS[split]
    hint = ""
    if isinstance(split, str):
        nearest = difflib.get_close_matches(split.lower(), SPLIT_IDS, n=1, cutoff=0.5)
        if split.lower() in ("validation", "valid", "dev"):
            nearest = ["val"]
        if nearest:
            hint = f"; did you mean {nearest[0]!r}?"
    elif isinstance(split, int) and not isinstance(split, bool):
        hint = f"; the first argument is the split, so pass the length by name: ('train', length={split})"
    raise ValueError(f"split must be one of {sorted(SPLIT_IDS)}; got {split!r}{hint}")


def check_int(value: object, name: str, *, minimum: int, rule: str = "") -> int:
    """Return ``value`` as an int if it is a whole number (not a bool) of at least ``minimum``.

    Args:
        value: The argument to check; Python and numpy integers are accepted.
        name: The argument's name, used in the message.
        minimum: Smallest allowed value.
        rule: Why, e.g. "so digits stay legible"; appended to the message.

    Raises:
        ValueError: ``value`` is not an integer (e.g. 2.5 or "64") or is below ``minimum``.
    """
    because = f" {rule}" if rule else ""
    try:
        number = operator.index(value)  # accepts numpy integers, rejects floats and strings
    except TypeError:
        number = None
    if number is None or isinstance(value, bool):
        example = f"; e.g. {name}={int(value)}" if isinstance(value, float) and value.is_integer() else ""
        raise ValueError(
            f"{name} must be an int >= {minimum}{because}; got {value!r} of type {type(value).__name__}{example}"
        )
    if number < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}{because}; got {number}")
    return number


def check_index(index: int, length: int) -> int:
    """Return ``index`` as a non-negative int, allowing Python's negative indexing.

    Raises:
        TypeError: ``index`` is not an integer (a float, a slice, a list).
        IndexError: ``index`` is outside ``[-length, length)``.
    """
    try:
        index = operator.index(index)  # accepts numpy integers and 0-d integer tensors, rejects floats
    except TypeError:
        hint = ""
        if isinstance(index, slice) or isinstance(index, (list, tuple, range)):
            hint = (
                "; to take several scenes use [dataset[i] for i in range(...)] or "
                "torch.utils.data.Subset(dataset, indices)"
            )
        elif isinstance(index, float) and index.is_integer():
            hint = f"; use dataset[{int(index)}]"
        raise TypeError(f"a dataset index must be an int; got {index!r} of type {type(index).__name__}{hint}") from None
    if not -length <= index < length:
        raise IndexError(
            f"index {index} is out of range for a dataset of length {length}; valid indices are 0 to {length - 1} "
            f"(or -{length} to -1 from the end)"
        )
    return index % length


def check_transform(transform: object) -> None:
    """Raise ``TypeError`` unless ``transform`` is ``None`` or a callable ``(image, mask) -> (image, mask)``."""
    if transform is not None and not callable(transform):
        raise TypeError(
            f"transform must be a callable (image, mask) -> (image, mask), such as "
            f"segedu.datasets.training_transforms(64), or None; got {type(transform).__name__}"
        )


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
