"""The pieces every architecture diagram is drawn with: the course's colours, boxes, arrows, sums.

All diagrams paint encoder feature maps blue, decoder maps and class scores orange, the prediction
green and shortcuts red, so a learner who has read one diagram can read the next. Coordinates are
data units of the axis; a box is placed by its centre.

Example:
    >>> figure, (axis,) = diagram_figure(1, 1, (4.0, 2.0))
    >>> pool1 = box(axis, (0.0, 0.0), 0.6, 1.0, ENCODER_COLOR, above="pool1")
    >>> arrow(axis, pool1.right, (2.0, 0.0), label="2x up")
    >>> finish_axis(axis, (-0.5, 2.5), (-1.0, 1.0))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "BOTTLENECK_COLOR",
    "Box",
    "COPY_COLOR",
    "DECODER_COLOR",
    "DECODER_TEXT_COLOR",
    "ENCODER_COLOR",
    "ENCODER_TEXT_COLOR",
    "NOTE_COLOR",
    "POOL_COLOR",
    "PREDICTION_COLOR",
    "SHORTCUT_COLOR",
    "UPSAMPLE_COLOR",
    "arrow",
    "box",
    "diagram_figure",
    "finish_axis",
    "sum_node",
]

ENCODER_COLOR = "#9ecae1"  # blue: encoder feature maps (the downsampling path)
DECODER_COLOR = "#fdae6b"  # orange: decoder feature maps and class scores (the upsampling path)
PREDICTION_COLOR = "#a1d99b"  # green: the prediction at the input's size
BOTTLENECK_COLOR = "#c7e9c0"  # pale green: the smallest map, shared by encoder and decoder
SHORTCUT_COLOR = "#d62728"  # red: what crosses from the encoder to the decoder
POOL_COLOR = "#d62728"  # red: max-pooling steps (U-Net diagram)
UPSAMPLE_COLOR = "#2ca02c"  # green: up-convolutions (U-Net diagram)
COPY_COLOR = "gray"  # grey: copied skip tensors (U-Net diagram)
ENCODER_TEXT_COLOR = "#08519c"  # dark blue: words about the encoder
DECODER_TEXT_COLOR = "#a63603"  # dark orange: words about the decoder
NOTE_COLOR = "dimgray"  # small notes under boxes and beside arrows

_LABEL_SIDES = ("above", "right")


@dataclass(frozen=True)
class Box:
    """Where a box was drawn: its centre and size in data units.

    Attributes:
        x: Centre, horizontal.
        y: Centre, vertical.
        width: Horizontal size.
        height: Vertical size.
    """

    x: float
    y: float
    width: float
    height: float

    @property
    def top(self) -> tuple[float, float]:
        """Middle of the top side."""
        return self.x, self.y + self.height / 2

    @property
    def bottom(self) -> tuple[float, float]:
        """Middle of the bottom side."""
        return self.x, self.y - self.height / 2

    @property
    def left(self) -> tuple[float, float]:
        """Middle of the left side."""
        return self.x - self.width / 2, self.y

    @property
    def right(self) -> tuple[float, float]:
        """Middle of the right side."""
        return self.x + self.width / 2, self.y


def box(
    axis: Axes,
    center: tuple[float, float],
    width: float,
    height: float,
    color: str,
    *,
    inside: str = "",
    above: str = "",
    below: str = "",
    font_size: float = 8.0,
    gap: float = 0.12,
    edge_color: str = "black",
    edge_width: float = 1.0,
) -> Box:
    """Draw one feature map (or, white with a coloured edge, one layer) as a rectangle, with optional words in, above
    and below it.

    Args:
        axis: Where to draw.
        center: ``(x, y)`` of the box's centre.
        width: Horizontal size.
        height: Vertical size (diagrams make it grow with the map's side).
        color: Fill colour, usually one of this module's colours.
        inside: Text in the middle of the box.
        above: Text centred above the box, ``gap`` away.
        below: A note centred below the box, ``gap`` away, one point smaller and grey.
        font_size: Size of the texts, in points.
        gap: Distance between the box and the texts above and below it.
        edge_color: Colour of the rectangle's edge (black for a map).
        edge_width: Width of that edge, in points.

    Returns:
        The :class:`Box`, whose sides tell arrows where to start and end.
    """
    from matplotlib.patches import Rectangle

    if width <= 0 or height <= 0:
        raise ValueError(f"a box needs a positive width and height; got width={width}, height={height}")
    x, y = center
    axis.add_patch(Rectangle((x - width / 2, y - height / 2), width, height, facecolor=color, edgecolor=edge_color,
                             linewidth=edge_width))
    if inside:
        axis.text(x, y, inside, ha="center", va="center", fontsize=font_size)
    if above:
        axis.text(x, y + height / 2 + gap, above, ha="center", va="bottom", fontsize=font_size)
    if below:
        axis.text(x, y - height / 2 - gap, below, ha="center", va="top", fontsize=font_size - 1, color=NOTE_COLOR)
    return Box(x, y, width, height)


def arrow(
    axis: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    color: str = "black",
    width: float = 1.0,
    line_style: str = "-",
    head: str = "->",
    head_size: float = 10.0,
    shrink: float = 2.0,
    label: str = "",
    label_side: str = "above",
    label_gap: float = 0.0,
    font_size: float = 8.0,
    label_color: str | None = None,
) -> None:
    """Draw an arrow from ``start`` to ``end``, with an optional label at its middle.

    The arrow is a patch of the axis drawn above the boxes (``zorder`` 3, like texts), so it
    shows where it touches a box.

    Args:
        axis: Where to draw.
        start: ``(x, y)`` of the tail.
        end: ``(x, y)`` of the head.
        color: Line and head colour.
        width: Line width in points.
        line_style: ``"-"`` solid, ``"--"`` dashed, ...
        head: matplotlib arrow style: ``"->"`` open head, ``"-|>"`` filled head.
        head_size: Size of the head in points.
        shrink: Points left free at both ends.
        label: Text at the middle of the arrow.
        label_side: ``"above"`` (centred above the middle) or ``"right"`` (left-aligned, right of it).
        label_gap: Distance between the middle of the arrow and the label, in data units.
        font_size: Size of the label in points.
        label_color: Colour of the label; the arrow's colour by default.
    """
    from matplotlib.patches import FancyArrowPatch

    if label_side not in _LABEL_SIDES:
        raise ValueError(f"label_side must be one of {_LABEL_SIDES}; got {label_side!r}")
    axis.add_patch(FancyArrowPatch(start, end, arrowstyle=head, mutation_scale=head_size, color=color,
                                   linewidth=width, linestyle=line_style, shrinkA=shrink, shrinkB=shrink, zorder=3))
    if label:
        middle_x, middle_y = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        text_color = color if label_color is None else label_color
        if label_side == "above":
            axis.text(middle_x, middle_y + label_gap, label, ha="center", va="bottom", fontsize=font_size,
                      color=text_color)
        else:
            axis.text(middle_x + label_gap, middle_y, label, ha="left", va="center", fontsize=font_size,
                      color=text_color)


def sum_node(
    axis: Axes,
    center: tuple[float, float],
    radius: float,
    *,
    color: str = "black",
    line_width: float = 1.0,
    font_size: float = 11.0,
) -> None:
    """Draw an element-wise sum: a white circle with a ``+`` in it.

    Args:
        axis: Where to draw.
        center: ``(x, y)`` of the circle's centre.
        radius: Its radius in data units.
        color: Colour of the circle's edge and of the ``+``.
        line_width: Width of the edge in points.
        font_size: Size of the ``+`` in points.
    """
    from matplotlib.patches import Circle

    axis.add_patch(Circle(center, radius, facecolor="white", edgecolor=color, lw=line_width))
    axis.text(*center, "+", ha="center", va="center", fontsize=font_size, color=color)


def diagram_figure(rows: int, columns: int, size: tuple[float, float]) -> tuple[Figure, list[Axes]]:
    """A new figure with a grid of panels, one diagram per panel.

    Args:
        rows: Panels from top to bottom.
        columns: Panels from left to right.
        size: Figure size ``(width, height)`` in inches.

    Returns:
        The figure and its axes, row by row.
    """
    import matplotlib.pyplot as plt

    if rows < 1 or columns < 1:
        raise ValueError(f"a diagram needs at least one row and one column of panels; got {rows} x {columns}")
    figure, axes = plt.subplots(rows, columns, figsize=size, squeeze=False)
    return figure, list(axes.flat)


def finish_axis(
    axis: Axes, x_limits: tuple[float, float], y_limits: tuple[float, float], *, equal_aspect: bool = True
) -> None:
    """Frame a diagram: set its limits, keep squares square (``equal_aspect``) and hide the axes."""
    axis.set_xlim(*x_limits)
    axis.set_ylim(*y_limits)
    if equal_aspect:
        axis.set_aspect("equal")
    axis.axis("off")
