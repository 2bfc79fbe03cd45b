"""Choose the atrous rates of a stack of 3x3 convolutions and see which input pixels one output reads.

One slider sets the number of layers, one slider per layer its rate. The picture shows the
footprint of the centre output (:func:`segedu.analysis.atrous.dilated_stack_footprint`) on a fixed
canvas: pixels it never reads are light grey, read pixels are coloured by how many paths through
the stack reach them. The text gives the receptive field, the share of it that is read and the
cost, which stays 9 multiply-adds per layer (per channel pair) whatever the rates.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from segedu.analysis.atrous import dilated_stack_footprint, footprint_coverage
from segedu.widgets._toolkit import WidgetPanel, array_to_png

__all__ = ["atrous_explorer"]

_UNREAD = np.array([225, 225, 225], dtype=np.uint8)


@functools.lru_cache(maxsize=None)
def _viridis() -> np.ndarray:
    """The viridis colour map as a (256, 3) uint8 lookup table."""
    from matplotlib import colormaps

    return (colormaps["viridis"](np.linspace(0.0, 1.0, 256))[:, :3] * 255).round().astype(np.uint8)


def _footprint_picture(rates: Sequence[int], canvas: int) -> np.ndarray:
    """(canvas, canvas, 3) uint8: the footprint centred, unread pixels grey, read ones viridis by path count."""
    counts = dilated_stack_footprint(rates).numpy()  # (S, S)
    side = counts.shape[0]
    full = np.zeros((canvas, canvas))
    start = (canvas - side) // 2
    full[start : start + side, start : start + side] = counts
    picture = np.broadcast_to(_UNREAD, (canvas, canvas, 3)).copy()
    read = full > 0
    scaled = np.log1p(full[read]) / np.log1p(full.max())  # log: counts range over orders of magnitude
    picture[read] = _viridis()[(scaled * 255).round().astype(np.int64)]
    return picture


def atrous_explorer(
    rates: Sequence[int] = (2, 2, 2), *, max_layers: int = 4, max_rate: int = 8, scale: int = 5
) -> WidgetPanel:
    """Sliders for the number of layers and each layer's rate; a picture of what the centre output reads.

    Args:
        rates: The rates shown first, one per layer (at most ``max_layers``).
        max_layers: Most layers the slider allows.
        max_rate: Largest rate a slider allows; the canvas has side ``1 + 2 * max_layers * max_rate``.
        scale: Display enlargement.

    Returns:
        A panel with controls ``"layers"`` and ``"rate1"`` ... ``"rate{max_layers}"``, image
        ``"footprint"`` and state ``rates``, ``receptive_field`` (side in pixels), ``coverage``
        (share of the receptive-field square that is read), ``read_pixels`` and
        ``macs_per_output`` (multiply-adds per output pixel and channel pair: 9 per layer).
    """
    import ipywidgets as widgets

    rates = tuple(rates)
    if not 1 <= max_layers <= 8 or not 1 <= max_rate <= 32:
        raise ValueError(f"max_layers must be in [1, 8] and max_rate in [1, 32]; got {max_layers}, {max_rate}")
    if not 1 <= len(rates) <= max_layers or any(not isinstance(r, int) or not 1 <= r <= max_rate for r in rates):
        raise ValueError(f"rates must hold 1 to {max_layers} ints in [1, {max_rate}]; got {rates!r}")
    canvas = 1 + 2 * max_layers * max_rate
    layers = widgets.IntSlider(value=len(rates), min=1, max=max_layers, description="layers")
    padded = list(rates) + [1] * (max_layers - len(rates))
    rate_sliders = [
        widgets.IntSlider(value=padded[index], min=1, max=max_rate, description=f"rate {index + 1}")
        for index in range(max_layers)
    ]
    image = widgets.Image(format="png")
    summary = widgets.HTML()
    panel = WidgetPanel(
        widgets.HBox([widgets.VBox([layers, *rate_sliders, summary]), image]),
        {"layers": layers, **{f"rate{index + 1}": slider for index, slider in enumerate(rate_sliders)}},
        {"footprint": image},
    )

    def show(change: Any = None) -> None:
        chosen = tuple(slider.value for slider in rate_sliders[: layers.value])
        for index, slider in enumerate(rate_sliders):
            slider.disabled = index >= layers.value
        footprint = dilated_stack_footprint(chosen)
        coverage = footprint_coverage(chosen)
        side = footprint.shape[0]
        panel.state.update(
            rates=chosen, receptive_field=side, coverage=coverage, read_pixels=int((footprint > 0).sum()),
            macs_per_output=9 * len(chosen),
        )
        image.value = array_to_png(_footprint_picture(chosen, canvas), scale=scale)
        summary.value = (
            f"<b>rates {chosen}</b><br>receptive field {side} x {side} pixels<br>"
            f"reads {panel.state['read_pixels']} of its {side * side} pixels ({coverage:.0%})<br>"
            f"cost: {9 * len(chosen)} multiply-adds per output pixel and channel pair<br>"
            f"<span style='color:#888'>grey: never read; colour: number of paths (log scale)</span>"
        )

    for control in (layers, *rate_sliders):
        control.observe(show, names="value")
    show()
    return panel
