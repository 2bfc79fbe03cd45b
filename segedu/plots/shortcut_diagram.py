"""The three shortcut styles of segedu's FCN-8s, SegNet and U-Net, drawn side by side.

Each panel is an encoder row (top) and a decoder row (bottom); the red arrows between them are
what the encoder hands to the decoder: class scores added into a ``+`` (FCN), max-pooling indices
(SegNet) or whole copied feature maps (U-Net). :func:`segedu.analysis.shortcuts.shortcut_tensors`
measures the same tensors on real models.

Example:
    >>> figure = shortcut_styles_diagram()
    >>> [axis.get_title().split(":")[0] for axis in figure.axes]
    ['FCN-8s', 'SegNet', 'U-Net']
    >>> figure.get_suptitle().split(" (")[0]
    "segedu's FCN-8s, SegNet and U-Net"
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from segedu.plots.primitives import (
    DECODER_COLOR,
    ENCODER_COLOR,
    PREDICTION_COLOR,
    SHORTCUT_COLOR,
    arrow,
    box,
    diagram_figure,
    finish_axis,
    sum_node,
)

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["shortcut_styles_diagram"]

_STEP, _ENCODER_Y, _DECODER_Y = 1.3, 2.2, -0.9  # column spacing, y of the encoder and decoder rows
_FONT = 11.5  # every label's font size


def _side(stride: int) -> float:
    return 1.4 / stride**0.5  # square-root scale keeps the 1/32 maps visible


def _box(axis: Axes, column: int, y: float, stride: int, color: str, label: str = "") -> None:
    side = _side(stride)
    box(axis, (column * _STEP, y), 0.5, side, color, above=label, font_size=_FONT, gap=0.08)


def _arrow(axis: Axes, start: tuple[float, float], end: tuple[float, float], *, color: str = "black",
           style: str = "-", width: float = 1.0, label: str = "", side: str = "above") -> None:
    arrow(axis, start, end, color=color, width=width, line_style=style, shrink=0.0, label=label, label_side=side,
          label_gap=0.05 if side == "above" else 0.06, font_size=_FONT)


def _prediction_note(axis: Axes, x: float = 0.0) -> None:
    axis.text(x, _DECODER_Y - _side(1) / 2 - 0.08, "prediction", ha="center", va="top", fontsize=_FONT)


def _encoder(axis: Axes, strides: Sequence[int], names: dict[int, str] | None = None) -> None:
    """The encoder row, left to right; arrows are the 2x2 max-poolings."""
    names = names or {}
    for column, stride in enumerate(strides):
        label = "input res." if stride == 1 else f"1/{stride}"
        label = f"{label}\n{names[column]}" if column in names else label
        _box(axis, column, _ENCODER_Y, stride, ENCODER_COLOR, label)
        if column:
            _arrow(axis, ((column - 1) * _STEP + 0.27, _ENCODER_Y), (column * _STEP - 0.27, _ENCODER_Y), label="pool")


def _decoder(axis: Axes, strides: Sequence[int], step_label: str, *, convs_at_full: bool = False) -> None:
    """Decoder row: the bottleneck comes down, then each step goes one column left, one level finer.

    With ``convs_at_full`` the full-resolution column is the decoder's last convolutions (where a shortcut
    lands), and the prediction is a separate box to its left, after a 1x1 convolution.
    """
    last = len(strides) - 1
    bottleneck = _side(strides[last])
    _arrow(axis, (last * _STEP, _ENCODER_Y - bottleneck / 2 - 0.05), (last * _STEP, _DECODER_Y + bottleneck / 2 + 0.02))
    _box(axis, last, _DECODER_Y, strides[last], DECODER_COLOR)
    for column in range(last - 1, -1, -1):
        final = column == 0 and not convs_at_full
        _box(axis, column, _DECODER_Y, strides[column], PREDICTION_COLOR if final else DECODER_COLOR)
        _arrow(axis, ((column + 1) * _STEP - 0.27, _DECODER_Y), (column * _STEP + 0.27, _DECODER_Y))
    # one note below the row, clear of the boxes, of the shortcut arrows and of the first column's labels
    axis.text(0.5 * _STEP, _DECODER_Y - _side(strides[1]) / 2 - 0.15, f"each decoder arrow: {step_label}",
              ha="left", va="top", fontsize=_FONT)
    if not convs_at_full:
        _prediction_note(axis)
        return
    axis.text(0.1, _DECODER_Y - _side(1) / 2 - 0.08, "convs", ha="center", va="top", fontsize=_FONT)
    box(axis, (-0.8, _DECODER_Y), 0.25, _side(1), PREDICTION_COLOR)
    _arrow(axis, (-0.27, _DECODER_Y), (-0.66, _DECODER_Y))
    _prediction_note(axis, -0.95)


def _draw_fcn(axis: Axes) -> None:
    strides = (1, 2, 4, 8, 16, 32)
    _encoder(axis, strides, {3: "pool3", 4: "pool4", 5: "pool5"})
    _box(axis, 5, _DECODER_Y, 32, DECODER_COLOR)  # conv7's class scores at 1/32
    _arrow(axis, (5 * _STEP, _ENCODER_Y - _side(32) / 2 - 0.05), (5 * _STEP, _DECODER_Y + _side(32) / 2 + 0.02),
           label="fc6, fc7,\nscores", side="right")
    for column in (4, 3):  # pool4 (1/16), then pool3 (1/8): a 1x1 conv to K scores, added
        x = column * _STEP
        sum_node(axis, (x, _DECODER_Y), 0.2, color=SHORTCUT_COLOR, line_width=1.3)
        _arrow(axis, ((column + 1) * _STEP - 0.25, _DECODER_Y), (x + 0.22, _DECODER_Y))
        axis.text((column + 0.5) * _STEP, _DECODER_Y - 0.12, "2x up", ha="center", va="top", fontsize=_FONT)
        _arrow(axis, (x, _ENCODER_Y - _side(strides[column]) / 2 - 0.05), (x, _DECODER_Y + 0.22),
               color=SHORTCUT_COLOR, width=1.2, label="1x1 conv:\nK scores", side="right")
    _box(axis, 0, _DECODER_Y, 1, PREDICTION_COLOR)
    _arrow(axis, (3 * _STEP - 0.22, _DECODER_Y), (0.27, _DECODER_Y), label="8x up (learned, bilinear init.)")
    _prediction_note(axis)
    axis.set_title("FCN-8s: ADD class scores made from pool4 and pool3\n(K numbers per pixel of a 1/16 and a 1/8 map)",
                   fontsize=_FONT + 1.5)


def _draw_segnet(axis: Axes) -> None:
    strides = (1, 2, 4, 8, 16)
    _encoder(axis, strides)
    _decoder(axis, strides, "2x max-unpooling, then convs")
    for column in range(len(strides) - 1):  # each pool's indices reach the unpooling that mirrors it
        x = (column + 0.5) * _STEP
        _arrow(axis, (x, _ENCODER_Y - 0.12), (x, _DECODER_Y + 0.05), color=SHORTCUT_COLOR, style="--",
               label="indices", side="right")
    axis.set_title("SegNet: pass max-pooling INDICES\n(one per pooled value, to the unpooling that mirrors it)",
                   fontsize=_FONT + 1.5)


def _draw_unet(axis: Axes) -> None:
    strides = (1, 2, 4, 8, 16)
    _encoder(axis, strides)
    _decoder(axis, strides, "2x up-convolution, concat, then convs", convs_at_full=True)
    for column in range(len(strides) - 1):  # every level above the bottleneck: copy the whole map
        x = column * _STEP
        _arrow(axis, (x, _ENCODER_Y - _side(strides[column]) / 2 - 0.05),
               (x, _DECODER_Y + _side(strides[column]) / 2 + 0.02), color=SHORTCUT_COLOR, width=3.0,
               label="copy,\nconcat", side="right")
    axis.set_title("U-Net: CONCATENATE whole encoder feature maps\n(every channel of every pixel)",
                   fontsize=_FONT + 1.5)


def shortcut_styles_diagram() -> Figure:
    """Draw FCN-8s, SegNet and U-Net as encoder rows (top) and decoder rows (bottom) with their shortcuts.

    Encoder maps are blue boxes whose height shrinks with the resolution, decoder maps orange,
    the prediction green (a key under the panels says so); shortcuts are red: thin arrows into a ``+`` for FCN's score sums,
    dashed arrows for SegNet's pooling indices, thick arrows for U-Net's copied feature maps
    (the thickness hints at how much each one carries). Depths are those of segedu's models:
    FCN goes down to 1/32, SegNet and U-Net to 1/16 (four poolings; the SegNet paper's VGG16 encoder has
    five). U-Net's full-resolution copy lands on the decoder's last convolutions, before the prediction. The
    figure's title says that these are segedu's versions, not the papers'.

    Returns:
        The figure with three panels (close it with ``matplotlib.pyplot.close(figure)``).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    figure, axes = diagram_figure(3, 1, (9.0, 15.5))  # stacked, so the labels stay legible
    for axis, draw in zip(axes, (_draw_fcn, _draw_segnet, _draw_unet)):
        draw(axis)
        finish_axis(axis, (-1.45, 5 * _STEP + 1.0), (_DECODER_Y - 1.25, _ENCODER_Y + 1.7))
    key = [Patch(facecolor=color, edgecolor="black", label=label) for color, label in (
        (ENCODER_COLOR, "encoder map"), (DECODER_COLOR, "decoder map / scores"), (PREDICTION_COLOR, "prediction"))]
    key.append(Line2D([], [], color=SHORTCUT_COLOR, linewidth=2, label="shortcut"))
    figure.legend(handles=key, loc="lower center", ncol=4, fontsize=_FONT, frameon=False)
    figure.suptitle("segedu's FCN-8s, SegNet and U-Net (not the papers' exact versions)", fontsize=_FONT + 2.5)
    figure.tight_layout(rect=(0, 0.03, 1, 0.985))  # room on top for the figure's title
    return figure
