"""Pictures of SegNet's unpooling: where the switches point, and what other unpooling rules predict.

- :func:`switches_figure` draws, for a few decoder stages of one traced scene, the scene at the
  stage's size, the switches of one channel (one colour per corner of its 2x2 window), that
  channel unpooled, and one of the stage's output channels on the same colour scale.
- :func:`unpooling_rules_figure` draws one scene, its true mask and the masks that several
  variants of a model predict (e.g. the same weights with different unpooling rules).

Example:
    >>> import torch
    >>> figure = unpooling_rules_figure(torch.zeros(3, 8, 8), torch.zeros(8, 8, dtype=torch.long),
    ...                                 {"all background": torch.zeros(8, 8, dtype=torch.long)},
    ...                                 ["background", "circle"], title="demo")
    >>> [axis.get_title().split("\\n")[0] for axis in figure.axes]
    ['scene', 'truth', 'all background']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch.nn.functional as F
from torch import Tensor

from segedu.analysis.pooling_indices import SegNetTrace, window_position, zero_fraction
from segedu.plots.class_legend import class_legend
from segedu.plots.masks import colorize

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.figure import Figure

__all__ = ["CORNER_COLORS", "CORNER_NAMES", "switches_figure", "unpooling_rules_figure"]

CORNER_COLORS = np.array([[0.90, 0.25, 0.20], [0.20, 0.65, 0.25], [0.20, 0.45, 0.90], [0.95, 0.75, 0.15]])
"""RGB colour of each switch code 0-3 (the same as :mod:`segedu.widgets.unpooling_explorer`'s)."""

CORNER_NAMES = ("top-left", "top-right", "bottom-left", "bottom-right")
"""Name of each switch code of :func:`segedu.analysis.pooling_indices.window_position`."""


def _switch_picture(indices: Tensor, height: int, width: int) -> np.ndarray:
    """``(H/2, W/2)`` flat indices -> ``(H, W, 3)`` RGB: the corner's colour where a maximum was, black elsewhere."""
    picture = np.zeros((height * width, 3))
    flat = indices.flatten()
    picture[flat.numpy()] = CORNER_COLORS[window_position(flat, width).numpy()]
    return picture.reshape(height, width, 3)


def switches_figure(trace: SegNetTrace, image: Tensor, stages: Sequence[str], *, scene: int,
                    zoom: Mapping[str, tuple[int, int, int]] | None = None) -> Figure:
    """One row per decoder stage: scene, switches of one channel, that channel unpooled, one output channel.

    In each of the last two panels the channel drawn is the one with the largest sum, and the two share
    one colour scale (0 is black), so their zeros can be compared by eye. The switches come from the
    encoder's channel of the unpooled channel's number (the indices), the values from the decoder.

    Args:
        trace: :func:`~segedu.analysis.pooling_indices.trace_segnet` of one image (batch of 1).
        image: That image, ``(3, H, W)``, values in [0, 1].
        stages: Decoder stages to draw, one row each, e.g. ``("stage3", "stage1")``.
        scene: The scene's number, for the titles.
        zoom: Stage -> ``(top row, left column, side)`` of a square that the stage's switches and unpooled
            panels zoom into, framed cyan in its other two panels (e.g. ``{"stage1": (4, 32, 16)}``).

    Returns:
        The figure, ``len(stages)`` rows of 4 panels and a legend of the switch colours.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    zoom = dict(zoom or {})
    unknown = sorted(set(zoom) - set(stages))
    if unknown:
        raise ValueError(f"zoom names stages {unknown} that are not drawn; the figure draws {list(stages)}")

    figure, axes = plt.subplots(len(stages), 4, figsize=(15, 3.6 * len(stages) + 1.2), squeeze=False)
    for row, name in enumerate(stages):
        sparse, dense = trace.unpooled[name][0], trace.decoded[name][0]  # (C, H, W), (C', H, W)
        channel = int(sparse.flatten(1).sum(dim=1).argmax())
        out_channel = int(dense.flatten(1).sum(dim=1).argmax())
        top_value = float(max(sparse[channel].max(), dense[out_channel].max()))  # one colour scale for both
        height, width = sparse.shape[-2:]
        shrunk = F.interpolate(image[None], size=(height, width), mode="area")[0]  # (3, h, w)
        axes[row, 0].imshow(shrunk.permute(1, 2, 0), interpolation="nearest")
        size = f"shrunk to {height}x{width}" if height < image.shape[-2] else f"full size {height}x{width}"
        axes[row, 0].set_title(f"input: scene {scene}, {size}\n(the size of decoder {name})", fontsize=12)
        axes[row, 0].set_ylabel("row (pixel)", fontsize=11)
        axes[row, 1].imshow(_switch_picture(trace.indices[name][0, channel], height, width), interpolation="nearest")
        axes[row, 1].set_title(f"switches of encoder channel {channel}", fontsize=12)
        shown = axes[row, 2].imshow(sparse[channel], cmap="magma", vmin=0, vmax=top_value, interpolation="nearest")
        axes[row, 2].set_title(f"channel {channel} unpooled: {zero_fraction(sparse[channel]):.0%} zeros in this "
                               "channel", fontsize=12)
        figure.colorbar(shown, ax=axes[row, 2], fraction=0.046, label="activation (after ReLU)")
        shown = axes[row, 3].imshow(dense[out_channel], cmap="magma", vmin=0, vmax=top_value, interpolation="nearest")
        axes[row, 3].set_title(f"output channel {out_channel}: {zero_fraction(dense[out_channel]):.0%} zeros\n"
                               f"(all {dense.shape[0]} output channels: {zero_fraction(dense):.0%})", fontsize=12)
        figure.colorbar(shown, ax=axes[row, 3], fraction=0.046, label="activation (after ReLU)")
        for axis in axes[row]:
            axis.set_xticks([0, width - 1])
            axis.set_yticks([0, height - 1])
            axis.tick_params(labelsize=10)
            axis.set_xlabel("column (pixel)", fontsize=11)
        if name in zoom:
            top, left, side = zoom[name]
            if min(top, left) < 0 or side < 1 or top + side > height or left + side > width:
                raise ValueError(f"zoom {zoom[name]} (top, left, side) of {name} leaves its {height}x{width} map")
            for axis in axes[row, 1:3]:  # switches and unpooled channel: one window per 2x2 block
                axis.set_xlim(left - 0.5, left + side - 0.5)
                axis.set_ylim(top + side - 0.5, top - 0.5)
                axis.set_xticks([left, left + side - 1])
                axis.set_yticks([top, top + side - 1])
                rows, columns = f"{top}-{top + side - 1}", f"{left}-{left + side - 1}"
                axis.set_title(f"{axis.get_title()}\n(zoom: rows {rows}, columns {columns})", fontsize=11)
            for axis in axes[row, ::3]:  # the scene and the output channel: the zoomed square framed cyan
                axis.add_patch(Rectangle((left - 0.5, top - 0.5), side, side, fill=False, edgecolor="cyan",
                                         linewidth=2))  # not red: red is the top-left switch's colour
    patches = [Patch(facecolor=color, label=f"switch: {corner}") for color, corner in zip(CORNER_COLORS, CORNER_NAMES)]
    patches.append(Patch(facecolor="black", label="no maximum (3 of 4 positions)"))
    figure.legend(handles=patches, loc="lower center", ncol=5, frameon=False, fontsize=12,
                  title="switches (column 2): where each window's maximum was", title_fontsize=12)
    figure.suptitle(f"trained SegNet on test scene {scene}, decoder {' and '.join(stages)}: switches, unpooled "
                    "channel, output channel", fontsize=14)
    figure.tight_layout(rect=(0, 0.9 / figure.get_figheight(), 1, 1))  # the bottom 0.9 inch: the legend
    return figure


def unpooling_rules_figure(image: Tensor, mask: Tensor, predictions: Mapping[str, Tensor],
                           class_names: Sequence[str], *, title: str) -> Figure:
    """One scene, its true mask and each variant's predicted mask, titled with its pixel accuracy.

    Args:
        image: The scene, ``(3, H, W)``, values in [0, 1].
        mask: Its true class numbers, ``(H, W)``.
        predictions: Variant name -> predicted class numbers, ``(H, W)`` each.
        class_names: Name of class 0, 1, ... for the legend.
        title: The figure's title.

    Returns:
        The figure: ``2 + len(predictions)`` panels in a row and a class legend. Each prediction's
        title gives the share of pixels right and the share predicted background (class 0).
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2 + len(predictions), figsize=(17, 4.4))
    axes[0].imshow(image.permute(1, 2, 0))
    axes[0].set_title("scene", fontsize=11)
    axes[1].imshow(colorize(mask), interpolation="nearest")
    axes[1].set_title("truth", fontsize=11)
    for axis, (label, prediction) in zip(axes[2:], predictions.items()):
        right = float((prediction == mask).float().mean())
        background = float((prediction == 0).float().mean())
        axis.imshow(colorize(prediction), interpolation="nearest")
        axis.set_title(f"{label}\n{right:.1%} right, {background:.0%} background", fontsize=11)
    height, width = mask.shape[-2:]
    for axis in axes:
        axis.set_xticks([0, width - 1])
        axis.set_yticks([0, height - 1])
        axis.tick_params(labelsize=8)
        axis.set_xlabel("column (pixel)", fontsize=9)
        axis.set_ylabel("row (pixel)", fontsize=9)
    class_legend(figure, class_names)
    figure.suptitle(title, fontsize=12)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    return figure

