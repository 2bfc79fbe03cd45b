"""Explore aliasing: stripes of any period, downsampled 4x by five methods, at any shift.

Sliders pick the stripes' period and their shift, a menu the downsampling method. The panel shows
the stripes, what the method makes of them (each kept pixel drawn as a 4 x 4 block, so both
pictures cover the same part of the image) and the method's alias score for that period
(:func:`segedu.analysis.aliasing.alias_response`: 0 = the same flat output at every shift,
1 = the pattern kept at full strength).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.analysis.aliasing import alias_response, blur_downsample, max_blur_pool, stripes
from segedu.widgets._toolkit import WidgetPanel, array_to_png

__all__ = ["DOWNSAMPLERS", "aliasing_explorer"]

FACTOR = 4
SHIFTS = 8

DOWNSAMPLERS: dict[str, Callable[[Tensor], Tensor]] = {
    "strided (every 4th)": lambda x: x[:, :, ::FACTOR, ::FACTOR],
    "max pool 4x4": lambda x: F.max_pool2d(x, FACTOR),
    "average pool 4x4": lambda x: F.avg_pool2d(x, FACTOR),
    "blur, then every 4th": lambda x: blur_downsample(x, FACTOR),
    "max, blur, then every 4th": lambda x: max_blur_pool(x, FACTOR, taps=2 * FACTOR + 1),
}


def aliasing_explorer(
    *, period: float = 3.0, method: str = "strided (every 4th)", size: int = 96, display_size: int = 192
) -> WidgetPanel:
    """Sliders over the stripes' period and shift, a menu of downsampling methods.

    Args:
        period: Stripe period shown first, in pixels (2 to 16).
        method: One of :data:`DOWNSAMPLERS`.
        size: Side of the stripe image, a multiple of 4 and at least 48.
        display_size: Rough side of each picture on screen, in screen pixels.

    Returns:
        A panel with the controls ``"period"``, ``"shift"`` (in eighths of a period) and ``"method"``,
        the images ``"stripes"`` (top-left 48 x 48 pixels) and ``"downsampled"`` (the same area after
        downsampling), and the state ``period``, ``shift``, ``method``, ``output`` (the ``(h, w)``
        downsampled map), ``level`` (its mean brightness), ``contrast`` (std of its column profile)
        and ``alias_score``.
    """
    import ipywidgets as widgets

    if method not in DOWNSAMPLERS:
        raise ValueError(f"method must be one of {list(DOWNSAMPLERS)}; got {method!r}")
    if not 2 <= period <= 16:
        raise ValueError(f"period must be in [2, 16] pixels; got {period}")
    if size % FACTOR or size < 48:
        raise ValueError(f"size must be a multiple of {FACTOR} and at least 48; got {size}")
    controls = {
        "period": widgets.FloatSlider(value=period, min=2.0, max=16.0, step=0.25, description="period (px)"),
        "shift": widgets.IntSlider(value=0, min=0, max=SHIFTS - 1, description="shift (1/8)"),
        "method": widgets.Dropdown(options=list(DOWNSAMPLERS), value=method, description="method"),
    }
    titles = {"stripes": "stripes (48 x 48 px)", "downsampled": "downsampled 4x (same area)"}
    views = {name: widgets.Image(format="png") for name in titles}
    columns = [widgets.VBox([widgets.Label(titles[name]), views[name]]) for name in titles]
    caption = widgets.Label()
    panel = WidgetPanel(
        widgets.VBox([widgets.HBox(list(controls.values())), widgets.HBox(columns), caption]), controls, views
    )
    crop = 48

    def show(change: Any = None) -> None:
        frequency = 1 / controls["period"].value
        downsample = DOWNSAMPLERS[controls["method"].value]
        phase = 2 * math.pi * controls["shift"].value / SHIFTS
        picture = stripes(size, frequency, phase=phase)  # (1, 1, size, size)
        output = downsample(picture)[0, 0]  # (size / 4, size / 4)
        scale = max(1, display_size // crop)  # screen pixels per image pixel
        views["stripes"].value = array_to_png(picture[0, 0, :crop, :crop].numpy(), scale=scale)
        shown = output[: crop // FACTOR, : crop // FACTOR].repeat_interleave(FACTOR, 0).repeat_interleave(FACTOR, 1)
        views["downsampled"].value = array_to_png(shown.clamp(0, 1).numpy(), scale=scale)
        score = alias_response(downsample, frequency, size=size, phases=SHIFTS)
        contrast = output.mean(0).std(unbiased=False).item()  # spread of the column profile
        level = output.mean().item()
        too_fine = controls["period"].value < 2 * FACTOR
        caption.value = (
            f"period {controls['period'].value:g} px ("
            + ("finer than the new grid's limit of 8 px: any pattern left is alias" if too_fine else "representable")
            + f"); output level {level:.2f}, contrast {contrast:.3f}; alias score over 8 shifts {score:.2f}"
        )
        panel.state.update(
            period=controls["period"].value,
            shift=controls["shift"].value,
            method=controls["method"].value,
            output=output,
            level=level,
            contrast=contrast,
            alias_score=score,
        )

    for control in controls.values():
        control.observe(show, names="value")
    show()
    return panel
