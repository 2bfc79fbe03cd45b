"""Turn label masks into pictures: a fixed colour palette, colour masks, instance maps and overlays.

Every class index gets the same colour everywhere in the course, so a "square" is always the
same orange in every lesson. Index 0 (background) is near-black and index 255 (the ignore
index) is white. Instance maps (one id per object) get their own colours,
:data:`INSTANCE_COLORS`, so they are never mistaken for class masks.

Example:
    >>> from segedu.datasets import ShapesScenes
    >>> image, mask = ShapesScenes("train")[0]
    >>> colorize(mask).shape
    (64, 64, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from segedu.plots.pictures import as_numpy, to_picture

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.figure import Figure

__all__ = [
    "IGNORE_COLOR",
    "INSTANCE_COLORS",
    "PALETTE",
    "colorize",
    "colorize_instances",
    "overlay",
    "show_samples",
]

IGNORE_COLOR = (255, 255, 255)

# Hand-picked, clearly different colours for the classes used by the offline datasets:
# background, then classes 1..10 (shapes use 1..3, digit scenes use 1..10).
_NAMED_COLORS = [
    (20, 20, 20),  # 0 background: near-black
    (230, 25, 75),  # 1 red
    (60, 180, 75),  # 2 green
    (0, 130, 200),  # 3 blue
    (255, 225, 25),  # 4 yellow
    (245, 130, 48),  # 5 orange
    (145, 30, 180),  # 6 purple
    (70, 240, 240),  # 7 cyan
    (240, 50, 230),  # 8 magenta
    (170, 110, 40),  # 9 brown
    (128, 128, 0),  # 10 olive
]


def _build_palette() -> np.ndarray:
    """Named colours first, fixed pseudo-random colours for 11..254, white for 255."""
    palette = np.random.default_rng(2024).integers(40, 230, size=(256, 3)).astype(np.uint8)
    palette[: len(_NAMED_COLORS)] = _NAMED_COLORS
    palette[255] = IGNORE_COLOR
    return palette


PALETTE: np.ndarray = _build_palette()
PALETTE.flags.writeable = False  # a shared constant: refuse accidental edits


def colorize(mask: torch.Tensor | np.ndarray) -> np.ndarray:
    """Paint each pixel of a label mask with its class colour from :data:`PALETTE`.

    Args:
        mask: Integer class indices in [0, 255]; 255 is the ignore index (white).

    Returns:
        The colour image.

    Shape:
        mask (H, W) -> (H, W, 3) uint8.
    """
    labels = as_numpy(mask, "mask")
    if labels.ndim != 2:
        raise ValueError(f"mask must have shape (H, W); got shape {tuple(labels.shape)}")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == np.bool_):
        raise ValueError(f"mask must hold integer class indices; got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError(
            f"mask values must be in [0, 255]; found range [{labels.min()}, {labels.max()}]"
        )
    return PALETTE[labels]


# Colours for instance ids 1, 2, ... (cycled), chosen to differ from each other and to avoid red, green
# and blue, the shapes' class colours in PALETTE, so an instance picture is not read as a class mask.
INSTANCE_COLORS: np.ndarray = np.array(
    [
        (255, 127, 14),  # orange
        (148, 103, 189),  # purple
        (110, 110, 110),  # grey
        (227, 119, 194),  # pink
        (188, 189, 34),  # olive
        (140, 86, 75),  # brown
        (199, 199, 199),  # light grey
        (255, 215, 0),  # gold
        (255, 187, 120),  # peach
        (0, 100, 100),  # dark teal
    ],
    dtype=np.uint8,
)
INSTANCE_COLORS.flags.writeable = False
_INSTANCE_BACKGROUND = np.array((20, 20, 20), dtype=np.uint8)


def colorize_instances(instances: torch.Tensor | np.ndarray) -> np.ndarray:
    """Paint each object in its own colour (ids cycle through :data:`INSTANCE_COLORS`).

    Args:
        instances: Object id per pixel, 0 = background (near-black).

    Returns:
        The colour picture, uint8.

    Shape:
        instances (H, W) -> (H, W, 3).
    """
    ids = as_numpy(instances, "instances")
    if ids.ndim != 2:
        raise ValueError(f"instances must have shape (H, W); got shape {tuple(ids.shape)}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"instances must hold integer object ids; got dtype {ids.dtype}")
    ids = ids.astype(np.int64)
    if ids.size and ids.min() < 0:
        raise ValueError(f"instance ids must be >= 0; found {ids.min()}")
    colors = INSTANCE_COLORS[(ids - 1) % len(INSTANCE_COLORS)]  # (H, W, 3)
    colors[ids == 0] = _INSTANCE_BACKGROUND
    return colors


def overlay(
    image: torch.Tensor | np.ndarray,
    mask: torch.Tensor | np.ndarray,
    alpha: float = 0.5,
    *,
    skip_background: bool = True,
) -> np.ndarray:
    """Blend class colours over an image: ``(1 - alpha) * image + alpha * colour``.

    Args:
        image: A (C, H, W) tensor with C = 1 or 3, or an (H, W) / (H, W, C) array; float
            values in [0, 1] or uint8.
        mask: (H, W) integer class indices (see :func:`colorize`).
        alpha: Opacity of the colours, in [0, 1].
        skip_background: Leave class-0 pixels untouched so the scene stays visible.

    Returns:
        The blended picture, float64 in [0, 1].

    Shape:
        image (C, H, W) or (H, W, C), mask (H, W) -> (H, W, 3).
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1]; got {alpha}")
    pixels = to_picture(image).astype(np.float64, copy=False)  # (H, W, 3)
    colors = colorize(mask) / 255.0  # (H, W, 3)
    if pixels.shape != colors.shape:
        raise ValueError(
            f"image and mask sizes differ: image is {pixels.shape[:2]}, mask is {colors.shape[:2]}"
        )
    blended = (1.0 - alpha) * pixels + alpha * colors
    if skip_background:
        background = as_numpy(mask, "mask") == 0  # (H, W)
        blended[background] = pixels[background]
    return blended


def show_samples(
    dataset: Any,
    indices: Sequence[int] = (0, 1, 2, 3),
    *,
    alpha: float = 0.5,
) -> Figure:
    """Plot image, coloured mask and overlay for a few dataset items (one row each).

    Args:
        dataset: Anything with ``dataset[i] -> (image, mask)``; ``class_names`` (optional)
            adds a legend.
        indices: The items to show.
        alpha: Opacity of the overlay colours.

    Returns:
        The matplotlib figure (close it with ``matplotlib.pyplot.close(figure)``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if len(indices) == 0:
        raise ValueError("indices must name at least one item; got an empty sequence")
    figure, axes = plt.subplots(len(indices), 3, figsize=(7.5, 2.5 * len(indices)), squeeze=False)
    for row, index in enumerate(indices):
        image, mask = dataset[index]
        axes[row, 0].imshow(to_picture(image).astype(np.float64, copy=False))
        axes[row, 1].imshow(colorize(mask))
        axes[row, 2].imshow(overlay(image, mask, alpha))
        axes[row, 0].set_ylabel(f"item {index}")
    for column, title in enumerate(["image", "mask", "overlay"]):
        axes[0, column].set_title(title)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    class_names = getattr(dataset, "class_names", None)
    if class_names:
        handles = [
            Patch(color=PALETTE[index] / 255.0, label=name) for index, name in enumerate(class_names)
        ]
        figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8)
        figure.tight_layout(rect=(0, 0.06 + 0.02 * (len(handles) // 7), 1, 1))
    else:
        figure.tight_layout()
    return figure
