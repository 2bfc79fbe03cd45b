"""Small schematic drawings for the lessons, made of the boxes and arrows of :mod:`segedu.plots.primitives`.

Example:
    >>> figure = encoder_decoder_diagram((64, 32, 16, 8))
    >>> len(figure.axes)
    1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from segedu.plots.primitives import (
    DECODER_COLOR,
    DECODER_TEXT_COLOR,
    ENCODER_COLOR,
    ENCODER_TEXT_COLOR,
    arrow,
    box,
    diagram_figure,
    finish_axis,
)

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.figure import Figure

__all__ = ["encoder_decoder_diagram"]


def encoder_decoder_diagram(
    sizes: Sequence[int] = (64, 32, 16, 8),
    *,
    down_label: str = "÷2",
    up_label: str = "×2",
) -> Figure:
    """Draw the encoder-decoder shape: feature maps shrink, then grow back to the input size.

    Every feature map is a box whose height is proportional to its side; encoder boxes are
    blue, decoder boxes orange, the bottleneck (the smallest map) is shared.

    Args:
        sizes: Sides of the feature maps from the input down to the bottleneck, e.g.
            ``(64, 32, 16, 8)``; the decoder mirrors them back up. At least two, decreasing.
        down_label: Text above the encoder's arrows.
        up_label: Text above the decoder's arrows.

    Returns:
        The figure (close it with ``matplotlib.pyplot.close(figure)``).
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(b >= a for a, b in zip(sizes, sizes[1:])) or sizes[-1] < 1:
        raise ValueError(f"sizes must be at least two decreasing positive sides; got {sizes}")
    sides = sizes + sizes[-2::-1]  # encoder down to the bottleneck, decoder back up
    box_width, gap, largest = 0.6, 1.0, sizes[0]
    figure, (axis,) = diagram_figure(1, 1, (1.0 + 0.95 * len(sides), 2.8))
    notes = {0: "\nimage", len(sizes) - 1: "\nbottleneck", len(sides) - 1: "\nscores"}
    for position, side in enumerate(sides):
        height = 2.0 * side / largest  # box height in axis units
        left = position * (box_width + gap)
        color = ENCODER_COLOR if position < len(sizes) else DECODER_COLOR
        box(axis, (left + box_width / 2, 0.0), box_width, height, color)
        note = notes.get(position, "")
        axis.text(left + box_width / 2, -1.1, f"{side}x{side}{note}", ha="center", va="top", fontsize=8)
        if position + 1 < len(sides):
            going_down = position + 1 < len(sizes)
            start, end = left + box_width + 0.08, left + box_width + gap - 0.08
            label = down_label if going_down else up_label
            arrow(axis, (start, 0.0), (end, 0.0), label=label, label_gap=0.1, font_size=9)
    encoder_middle = (len(sizes) - 1) * (box_width + gap) / 2 + box_width / 2
    decoder_middle = (len(sizes) - 1 + (len(sides) - 1)) * (box_width + gap) / 2 + box_width / 2
    axis.text(encoder_middle, 1.25, "encoder (downsampling)", ha="center", color=ENCODER_TEXT_COLOR)
    axis.text(decoder_middle, 1.25, "decoder (upsampling)", ha="center", color=DECODER_TEXT_COLOR)
    finish_axis(axis, (-0.3, len(sides) * (box_width + gap) - gap + 0.3), (-1.7, 1.5), equal_aspect=False)
    figure.tight_layout()
    return figure
