"""Draw a traced U-Net as the paper's U: one box per map, labelled with its channels and size.

The picture is made from plain data, a :class:`~segedu.analysis.unet_anatomy.UNetTrace`, so it
shows any U-Net that :func:`~segedu.analysis.unet_anatomy.trace_unet` can trace, even the paper's
572x572 network traced for free on the ``meta`` device.

Example:
    >>> import torch
    >>> from segedu.analysis.unet_anatomy import trace_unet
    >>> from segedu.models import UNet
    >>> figure = unet_diagram(trace_unet(UNet(3, 4, base_channels=4), torch.rand(3, 32, 32)))
    >>> len(figure.axes)
    1
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from segedu.plots.primitives import (
    BOTTLENECK_COLOR,
    COPY_COLOR,
    DECODER_COLOR,
    ENCODER_COLOR,
    NOTE_COLOR,
    POOL_COLOR,
    UPSAMPLE_COLOR,
    Box,
    arrow,
    box,
    diagram_figure,
    finish_axis,
)

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from torch import Tensor

    from segedu.analysis.unet_anatomy import UNetTrace

__all__ = ["unet_diagram"]

_LEVEL_STEP = 1.15  # vertical distance between two levels of the U
_LEFT, _RIGHT = 1.0, 7.4  # x of the top encoder box and of the top decoder box
_BOX_FONT, _ARROW_FONT, _NOTE_FONT = 10, 9.5, 11  # points; readable when a notebook shows the figure at 80 dpi


def _side(tensor: Tensor) -> str:
    height, width = tensor.shape[-2:]
    return f"{height}x{width}" if height != width else f"{height}²"


def _map_box(axis: Axes, tensor: Tensor, center_x: float, level: int, color: str, label: str, *,
             base_channels: int, largest_side: int) -> Box:
    """A map's box: wider with more channels (log scale), taller with a larger side."""
    width = 0.9 + 0.1 * math.log2(tensor.shape[1] / base_channels)
    height = 0.5 + 0.45 * tensor.shape[-2] / largest_side
    return box(axis, (center_x, -_LEVEL_STEP * level), width, height, color, inside=label, font_size=_BOX_FONT)


def _arrow(axis: Axes, start: tuple[float, float], end: tuple[float, float], color: str, label: str = "") -> None:
    arrow(axis, start, end, color=color, width=1.5, head="-|>", head_size=14, label=label, label_gap=0.07,
          font_size=_ARROW_FONT, label_color=NOTE_COLOR)


def unet_diagram(trace: UNetTrace, *, title: str = "") -> Figure:
    """Draw the traced U: one box per map, labelled with its channels and size.

    Encoder boxes (blue) go down the left, decoder boxes (orange) come up the right; a box's
    width grows with its channels and its height with its side. Grey arrows are the skips
    ("copy", or "copy and crop" when the decoder's map is smaller), red arrows max-pooling,
    green arrows up-convolutions.

    Args:
        trace: From :func:`~segedu.analysis.unet_anatomy.trace_unet` (on any device, ``meta``
            included).
        title: Figure title.

    Returns:
        The figure (close it with ``matplotlib.pyplot.close(figure)``).
    """
    encoder = list(trace.encoder.values())  # level 0 .. depth
    decoder = list(trace.decoded.values())[::-1]  # level 0 .. depth-1 (the last up block is level 0)
    upsampled = list(trace.upsampled.values())[::-1]
    if not encoder or len(decoder) != len(encoder) - 1 or len(upsampled) != len(decoder) or trace.logits is None:
        raise ValueError(
            f"trace must hold one encoder map per level and one decoder map per level above the bottleneck; "
            f"got {len(encoder)} encoder, {len(decoder)} decoder and {len(upsampled)} up-conv maps "
            f"(make it with segedu.analysis.unet_anatomy.trace_unet)"
        )
    depth = len(encoder) - 1
    sizes = {"base_channels": encoder[0].shape[1], "largest_side": encoder[0].shape[-2]}
    figure, (axis,) = diagram_figure(1, 1, (13, 1.8 + 1.5 * depth))

    encoder_boxes, decoder_boxes = [], []
    for level, tensor in enumerate(encoder):
        bottleneck = level == depth
        x = (_LEFT + _RIGHT) / 2 if bottleneck else _LEFT + 0.5 * level
        name = "inc" if level == 0 else f"down{level}"
        label = f"{name}\n{tensor.shape[1]} ch\n{_side(tensor)}"
        color = BOTTLENECK_COLOR if bottleneck else ENCODER_COLOR
        encoder_boxes.append(_map_box(axis, tensor, x, level, color, label, **sizes))
    for level, tensor in enumerate(decoder):
        channels_in = 2 * tensor.shape[1] if trace.skip_connections else tensor.shape[1]
        label = f"up{depth - level}\n{channels_in}→{tensor.shape[1]} ch\n{_side(tensor)}"
        decoder_boxes.append(_map_box(axis, tensor, _RIGHT - 0.5 * level, level, DECODER_COLOR, label, **sizes))
    decoder_boxes.append(encoder_boxes[depth])  # the decoder starts from the bottleneck
    for level in range(depth):
        # The short diagonal arrows are labelled beside their midpoint, outside the U, clear of the boxes.
        start, end = encoder_boxes[level].bottom, encoder_boxes[level + 1].top
        _arrow(axis, start, end, POOL_COLOR)
        axis.text((start[0] + end[0]) / 2 - 0.02, (start[1] + end[1]) / 2, "pool", ha="right", va="center",
                  fontsize=_ARROW_FONT, color=NOTE_COLOR)
        start, end = decoder_boxes[level + 1].top, decoder_boxes[level].bottom
        _arrow(axis, start, end, UPSAMPLE_COLOR)
        axis.text((start[0] + end[0]) / 2 + 0.02, (start[1] + end[1]) / 2, f"up-conv → {_side(upsampled[level])}",
                  ha="left", va="center", fontsize=_ARROW_FONT, color=NOTE_COLOR)
        if trace.skip_connections:
            skip, target = encoder[level], upsampled[level]
            crop = skip.shape[-2:] != target.shape[-2:]
            text = f"copy and crop {_side(skip)} → {_side(target)}" if crop else f"copy ({skip.shape[1]} ch)"
            _arrow(axis, encoder_boxes[level].right, decoder_boxes[level].left, COPY_COLOR, text)
    channels, height, width = trace.input_shape[1:]
    axis.text(_LEFT, 0.75, f"input {channels} x {height}x{width}", ha="center", fontsize=_NOTE_FONT)
    logits = trace.logits
    axis.text(_RIGHT, 0.75, f"1x1 conv → {logits.shape[1]} class scores, {_side(logits)}", ha="center", fontsize=_NOTE_FONT)
    finish_axis(axis, (0.3, 8.1), (-_LEVEL_STEP * depth - 0.8, 1.0))
    axis.set_title(title or f"U-Net, depth {depth}", fontsize=13)
    figure.tight_layout()
    return figure
