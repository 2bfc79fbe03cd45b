"""A schematic of FCN's skip architecture: how FCN-32s, 16s and 8s turn pool scores into a prediction.

Each variant is drawn in its own panel. The top row is the shared encoder (image, pool1 ... pool5,
conv7 = fc6 + fc7), each box as tall as its resolution. The bottom row is the decoder, read from
right to left: class scores of conv7 (1/32) are upsampled 2x and added to the scores of pool4
(1/16), upsampled 2x again and added to the scores of pool3 (1/8), and a last upsampling brings
them to the input size, under the image column. FCN-32s and 16s stop early and upsample more.

Example:
    >>> figure = fcn_skip_diagram()
    >>> len(figure.axes)
    3
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from segedu.plots.primitives import (
    DECODER_COLOR,
    ENCODER_COLOR,
    NOTE_COLOR,
    PREDICTION_COLOR,
    arrow,
    box,
    diagram_figure,
    finish_axis,
    sum_node,
)

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FCN_SKIPS", "fcn_skip_diagram"]

# Which pooling layers each variant adds to the conv7 scores, coarse to fine.
FCN_SKIPS: dict[str, tuple[str, ...]] = {"32s": (), "16s": ("pool4",), "8s": ("pool4", "pool3")}

# Encoder layers and their strides (input / feature-map side), left to right.
_ENCODER = (("image", 1), ("pool1", 2), ("pool2", 4), ("pool3", 8), ("pool4", 16), ("pool5", 32), ("conv7", 32))
_COLUMN = {name: index * 1.9 for index, (name, _) in enumerate(_ENCODER)}  # x position of each layer
_ENCODER_Y, _DECODER_Y = 1.6, -1.4
_BOX_WIDTH = 0.6


def _box_height(stride: int) -> float:
    return 1.8 / stride**0.5  # square-root scale keeps the 1/32 maps visible


def _arrow(axis: Axes, start: tuple[float, float], end: tuple[float, float], label: str = "",
           side: str = "above") -> None:
    arrow(axis, start, end, width=1.2, label=label, label_side=side)


def _draw_variant(axis: Axes, variant: str) -> None:
    for index, (name, stride) in enumerate(_ENCODER):
        x = _COLUMN[name]
        note = "input" if stride == 1 else f"1/{stride}"
        box(axis, (x, _ENCODER_Y), _BOX_WIDTH, _box_height(stride), ENCODER_COLOR, above=name, below=note)
        if index:
            previous = _COLUMN[_ENCODER[index - 1][0]]
            _arrow(axis, (previous + 0.32, _ENCODER_Y), (x - 0.32, _ENCODER_Y))
    # conv7 -> class scores at 1/32 (score_fr, a 1x1 conv)
    x_score = _COLUMN["conv7"]
    box(axis, (x_score, _DECODER_Y), _BOX_WIDTH, _box_height(32), DECODER_COLOR, below="scores 1/32")
    _arrow(axis, (x_score, _ENCODER_Y - 0.4), (x_score, _DECODER_Y + 0.4), " 1x1 conv", side="right")
    current_x, current_stride = x_score, 32
    for pool in FCN_SKIPS[variant]:  # each skip: 2x upsampling, then add that pool's 1x1-conv scores
        x_sum, stride = _COLUMN[pool], current_stride // 2
        sum_node(axis, (x_sum, _DECODER_Y), 0.22)
        axis.text(x_sum, _DECODER_Y - 0.35, f"1/{stride}", ha="center", va="top", fontsize=7, color=NOTE_COLOR)
        _arrow(axis, (current_x - 0.32, _DECODER_Y), (x_sum + 0.25, _DECODER_Y), "2x up")
        pool_bottom = _ENCODER_Y - _box_height(stride) / 2
        _arrow(axis, (x_sum, pool_bottom - 0.35), (x_sum, _DECODER_Y + 0.25), " 1x1\n conv", side="right")
        current_x, current_stride = x_sum, stride
    x_out = _COLUMN["image"]
    box(axis, (x_out, _DECODER_Y), _BOX_WIDTH, _box_height(1), PREDICTION_COLOR, below="prediction\nH x W")
    start = current_x - (0.32 if current_stride == 32 else 0.25)
    _arrow(axis, (start, _DECODER_Y), (x_out + 0.32, _DECODER_Y), f"{current_stride}x up (bilinear init.)")
    used = " + ".join(("conv7",) + FCN_SKIPS[variant])
    axis.set_title(f"FCN-{variant}: prediction from {used}, final upsampling {current_stride}x", fontsize=10)
    finish_axis(axis, (-0.8, _COLUMN["conv7"] + 1.4), (_DECODER_Y - 1.4, _ENCODER_Y + 1.5))


def fcn_skip_diagram(variants: Sequence[str] = ("32s", "16s", "8s")) -> Figure:
    """Draw the encoder and the score fusion of each FCN variant, one panel per variant.

    Args:
        variants: Any of ``"32s"``, ``"16s"``, ``"8s"``, drawn top to bottom.

    Returns:
        The figure (close it with ``matplotlib.pyplot.close(figure)``).
    """
    variants = list(variants)
    unknown = [variant for variant in variants if variant not in FCN_SKIPS]
    if not variants or unknown:
        raise ValueError(f"variants must be a non-empty list of '32s', '16s', '8s'; got {variants}")
    figure, axes = diagram_figure(len(variants), 1, (9.0, 2.9 * len(variants)))
    for axis, variant in zip(axes, variants):
        _draw_variant(axis, variant)
    figure.tight_layout()
    return figure
