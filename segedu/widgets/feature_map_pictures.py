"""Pictures for the feature-map explorer, as uint8 arrays ready for PNG encoding.

A feature map channel in viridis colours with a labelled colour bar, a grid of channels on one
colour scale, one softmax bar per class, and the input with an output pixel's receptive field.
Everything is drawn with NumPy and Pillow (no matplotlib figure per update), so a redraw takes
a few milliseconds.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import Tensor

from segedu.analysis.receptive_field import PixelReceptiveField

__all__ = [
    "GRID_CHANNELS",
    "TINT_DECADES",
    "enlarge",
    "grid_channels",
    "input_with_receptive_field",
    "mark_pixel",
    "min_max",
    "render_channel_grid",
    "render_class_scores",
    "render_feature_map",
]

GRID_CHANNELS = 16
"""Channels shown at once in grid mode (a 4 x 4 page holding the selected channel)."""

_COLOUR_BAR_WIDTH = 64  # pixels added to the right of a feature map for its colour bar
_BOX_COLOUR = (255, 225, 25)  # the receptive field's bounding box
_PROBE_COLOUR = (255, 0, 255)  # the probed pixel
_OUTSIDE_BRIGHTNESS = 0.35  # input pixels outside the receptive field are dimmed to this
TINT_DECADES = 2.0
"""The yellow tint spans this many decades of the gradient below its maximum (log scale)."""


@functools.cache
def _viridis() -> np.ndarray:
    """The viridis colour map as a (256, 3) uint8 lookup table."""
    from matplotlib import colormaps

    table = colormaps["viridis"](np.linspace(0.0, 1.0, 256))[:, :3]  # (256, 3) in [0, 1]
    return (table * 255).round().astype(np.uint8)


@functools.cache
def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed-size bitmap font
        return ImageFont.load_default()


def _resize_nearest(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of the first two axes (enlarges by repetition, shrinks by picking)."""
    rows = np.arange(height) * values.shape[0] // height
    columns = np.arange(width) * values.shape[1] // width
    return values[rows][:, columns]


def _to_colours(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map values in [low, high] to viridis colours; a constant map is drawn in the darkest colour."""
    span = high - low
    scaled = (values - low) / span if span > 0 else np.zeros_like(values)
    indices = np.clip(np.rint(scaled * 255), 0, 255).astype(np.intp)
    return _viridis()[indices]  # (..., 3) uint8


def _as_map(values: Tensor | np.ndarray) -> np.ndarray:
    array = values.detach().cpu().numpy() if isinstance(values, Tensor) else np.asarray(values)
    return array.astype(np.float32, copy=False)


def min_max(values: np.ndarray) -> tuple[float, float]:
    """``(min, max)`` of an array, as floats."""
    return float(values.min()), float(values.max())


def _with_colour_bar(picture: np.ndarray, low: float, high: float) -> np.ndarray:
    """Append a vertical colour bar labelled with ``high`` (top), the middle and ``low`` (bottom)."""
    from PIL import Image, ImageDraw

    height = picture.shape[0]
    strip = np.full((height, _COLOUR_BAR_WIDTH, 3), 255, dtype=np.uint8)
    margin = min(6, height // 4)  # room for the labels at both ends
    steps = np.linspace(1.0, 0.0, height - 2 * margin)  # top = high
    strip[margin : height - margin, 4:16] = _viridis()[np.rint(steps * 255).astype(np.intp)][:, None, :]
    image = Image.fromarray(np.concatenate([picture, strip], axis=1))
    draw = ImageDraw.Draw(image)
    font = _font(12)
    left = picture.shape[1] + 19
    for fraction, value in ((0.0, high), (0.5, (low + high) / 2), (1.0, low)):
        top = margin + fraction * (height - 2 * margin) - 5
        draw.text((left, min(max(top, 0), height - 13)), f"{value:.3g}", fill=(0, 0, 0), font=font)
    return np.asarray(image)


def render_feature_map(
    values: Tensor | np.ndarray,
    *,
    height: int,
    width: int,
    value_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Draw one channel of a feature map in viridis colours, enlarged, with a labelled colour bar.

    Args:
        values: The channel.
        height: Height of the drawing (the map is resized with nearest neighbours).
        width: Width of the map part of the drawing.
        value_range: ``(low, high)`` mapped to the darkest and brightest colour; default: the
            map's own minimum and maximum.

    Returns:
        The picture, uint8.

    Shape:
        values ``(h, w)`` -> ``(height, width + 64, 3)``.
    """
    array = _as_map(values)
    if array.ndim != 2:
        raise ValueError(f"values must be one channel of shape (h, w); got shape {array.shape}")
    low, high = value_range if value_range is not None else min_max(array)
    picture = _to_colours(_resize_nearest(array, height, width), low, high)
    return _with_colour_bar(picture, low, high)


def grid_channels(num_channels: int, channel: int, *, page_size: int = GRID_CHANNELS) -> list[int]:
    """The page of ``page_size`` consecutive channels that holds ``channel`` (the last page may be short)."""
    if not 0 <= channel < num_channels:
        raise ValueError(f"channel must be in [0, {num_channels}); got {channel}")
    first = channel // page_size * page_size
    return list(range(first, min(first + page_size, num_channels)))


def render_channel_grid(
    activation: Tensor | np.ndarray, channels: Sequence[int], *, selected: int, height: int, width: int
) -> np.ndarray:
    """Draw several channels as tiles sharing one colour scale, the selected one framed in white.

    Args:
        activation: The whole feature map.
        channels: Channels to draw, row by row.
        selected: Channel to frame (if it is among ``channels``).
        height: Height of the drawing.
        width: Width of the tile area (a colour bar is added to its right).

    Returns:
        The picture, uint8.

    Shape:
        activation ``(C, h, w)`` -> ``(height, width + 64, 3)``.
    """
    from PIL import Image, ImageDraw

    array = _as_map(activation)
    if array.ndim != 3:
        raise ValueError(f"activation must have shape (C, h, w); got shape {array.shape}")
    if not channels:
        raise ValueError("channels must name at least one channel; got an empty list")
    shown = array[list(channels)]  # (n, h, w)
    low, high = min_max(shown)
    columns = int(np.ceil(np.sqrt(len(channels))))
    rows = int(np.ceil(len(channels) / columns))
    gap = 2
    tile_height = (height - gap * (rows - 1)) // rows
    tile_width = (width - gap * (columns - 1)) // columns
    canvas = np.full((height, width, 3), 255, dtype=np.uint8)
    origins = []
    for position, channel_map in enumerate(shown):
        top = position // columns * (tile_height + gap)
        left = position % columns * (tile_width + gap)
        canvas[top : top + tile_height, left : left + tile_width] = _to_colours(
            _resize_nearest(channel_map, tile_height, tile_width), low, high
        )
        origins.append((top, left))
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    font = _font(10)
    for (top, left), channel in zip(origins, channels):
        draw.text((left + 2, top + 1), str(channel), fill=(255, 255, 255), font=font)
        if channel == selected:
            draw.rectangle((left, top, left + tile_width - 1, top + tile_height - 1), outline=(255, 255, 255), width=2)
    return _with_colour_bar(np.asarray(image), low, high)


def render_class_scores(
    probabilities: Sequence[float], class_names: Sequence[str], *, true_class: int | None = None
) -> np.ndarray:
    """Draw one horizontal bar per class, as long as its probability, in the class's colour.

    The most probable class is tagged "predicted" and ``true_class`` (if given) "true".

    Args:
        probabilities: Softmax of the probed pixel's logits.
        class_names: One name per class.
        true_class: The pixel's label, or None.

    Returns:
        The picture, uint8.

    Shape:
        ``(K,)`` -> ``(18 K + 8, 420, 3)``.
    """
    from PIL import Image, ImageDraw

    from segedu.plots.masks import PALETTE

    if len(probabilities) != len(class_names):
        raise ValueError(f"need one name per class: {len(probabilities)} scores, {len(class_names)} names")
    row_height, name_width, bar_width = 18, 100, 130
    image = Image.new("RGB", (420, row_height * len(class_names) + 8), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = _font(13)
    best = int(np.argmax(probabilities))
    for index, (probability, name) in enumerate(zip(probabilities, class_names)):
        top = 4 + index * row_height
        draw.text((4, top + 1), name[:16], fill=(0, 0, 0), font=font)
        length = int(round(float(probability) * bar_width))
        colour = tuple(int(channel) for channel in PALETTE[index % 256])
        draw.rectangle((name_width, top + 2, name_width + bar_width, top + row_height - 3), outline=(200, 200, 200))
        if length > 0:
            draw.rectangle((name_width, top + 2, name_width + length, top + row_height - 3), fill=colour)
        tags = [tag for tag, applies in (("predicted", index == best), ("true", index == true_class)) if applies]
        text = f"{float(probability):.3f}  {', '.join(tags)}"
        draw.text((name_width + bar_width + 6, top + 1), text, fill=(0, 0, 0), font=font)
    return np.asarray(image)


def _outline(picture: np.ndarray, top: int, left: int, bottom: int, right: int, colour: Sequence[int]) -> None:
    """Draw a one-pixel rectangle on rows [top, bottom) and columns [left, right) in place."""
    bottom, right = min(bottom, picture.shape[0]), min(right, picture.shape[1])
    picture[top, left:right] = colour
    picture[bottom - 1, left:right] = colour
    picture[top:bottom, left] = colour
    picture[top:bottom, right - 1] = colour


def enlarge(picture: np.ndarray, scale: int) -> np.ndarray:
    """Repeat every pixel ``scale x scale`` times (a copy, also for ``scale=1``)."""
    return picture.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else picture.copy()


def mark_pixel(picture: np.ndarray, row: int, column: int, scale: int) -> np.ndarray:
    """Frame pixel (row, column) of a picture enlarged ``scale`` times, two frames wide, in place."""
    for margin in (1, 2):
        top, left = max(row * scale - margin, 0), max(column * scale - margin, 0)
        _outline(picture, top, left, (row + 1) * scale + margin, (column + 1) * scale + margin, _PROBE_COLOUR)
    return picture


def input_with_receptive_field(
    image_rgb: np.ndarray, field: PixelReceptiveField, row: int, column: int, scale: int
) -> np.ndarray:
    """Draw the receptive field of output pixel (row, column) on the enlarged input.

    Pixels outside the field are dimmed, pixels inside are tinted yellow on a log scale of the
    gradient (fully at its maximum, not at all :data:`TINT_DECADES` decades below it), the
    field's bounding box is drawn in yellow and the pixel itself framed in magenta. A linear tint
    would show only the few strongest pixels, since a trained network's gradient spreads thinly.

    Shape:
        image_rgb ``(H, W, 3)`` uint8 -> ``(scale H, scale W, 3)`` uint8.
    """
    picture = image_rgb.astype(np.float32)  # (H, W, 3) in [0, 255]
    region = field.region.numpy()
    picture[~region] *= _OUTSIDE_BRIGHTNESS
    gradient = field.gradient.numpy()
    if gradient.max() > 0:
        decades_below = np.log10(gradient.max()) - np.log10(np.maximum(gradient, gradient.max() * 1e-12))  # (H, W)
        strength = 0.7 * np.clip(1 - decades_below / TINT_DECADES, 0, 1)[:, :, None]  # (H, W, 1): strongest most
        picture = (1 - strength) * picture + strength * np.asarray(_BOX_COLOUR, dtype=np.float32)
    enlarged = enlarge(np.clip(np.rint(picture), 0, 255).astype(np.uint8), scale)
    if field.box is not None:
        top, left, bottom, right = (value * scale for value in field.box)
        _outline(enlarged, top, left, bottom, right, _BOX_COLOUR)
    return mark_pixel(enlarged, row, column, scale)
