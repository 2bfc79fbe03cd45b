"""Step through a transposed convolution one stamp at a time.

A slider picks how many input pixels have stamped so far. The panel shows the input with the
current pixel highlighted, the kernel, and the output accumulated up to that step with the
area of the current stamp highlighted. Steps are numbered from 0, like rows and columns; the
caption under the pictures uses the slider's number. Built on
:func:`segedu.analysis.upsampling.stamp_steps`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

from segedu.analysis.upsampling import StampStep, stamp_steps
from segedu.widgets._toolkit import WidgetPanel, array_to_png

__all__ = ["transposed_conv_stepper"]

_HIGHLIGHT = np.array([1.0, 0.15, 0.15])  # red tint for the pixel (and stamp) of this step


def _grey_picture(
    values: np.ndarray, low: float, high: float, box: tuple[slice, slice] | None = None
) -> np.ndarray:
    """(H, W) values -> (H, W, 3) grey picture in [0, 1], the ``box`` region tinted red."""
    span = high - low if high > low else 1.0
    grey = np.clip((values - low) / span, 0.0, 1.0)  # (H, W): low -> black, high -> white
    picture = np.repeat(grey[:, :, None], 3, axis=2)  # (H, W, 3)
    if box is not None:
        picture[box] = 0.55 * picture[box] + 0.45 * _HIGHLIGHT
    return picture


def _check_2d(tensor: Any, name: str) -> Tensor:
    if not isinstance(tensor, Tensor) or tensor.dim() != 2 or not tensor.is_floating_point():
        found = tuple(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
        raise ValueError(f"{name} must be a 2-D floating-point tensor (H, W); got {found}")
    return tensor.detach().cpu()


def transposed_conv_stepper(
    x: Tensor,
    kernel: Tensor,
    *,
    stride: int = 2,
    max_stride: int = 3,
    scale: int = 28,
) -> WidgetPanel:
    """A stepper through ``conv_transpose2d(x, kernel, stride)`` (one channel, no padding).

    Args:
        x: Input map.
        kernel: Kernel each input pixel stamps onto the output.
        stride: Stride shown first: how far apart neighbouring stamps land.
        max_stride: Largest stride the stride slider offers.
        scale: Display size of one pixel, in screen pixels.

    Returns:
        A panel with the controls ``"step"`` (0 = first input pixel) and ``"stride"``, the
        images ``"input"``, ``"kernel"`` and ``"output"``, and the state ``step``, ``stride``,
        ``row``, ``column`` (the input pixel of this step), ``top``, ``left`` (where its stamp's
        top-left corner lands), ``steps`` (how many there are), ``output`` (the
        ``(H_out, W_out)`` tensor accumulated so far), ``done`` (whether every pixel stamped) and
        ``caption`` (the text under the pictures, numbering the step as the slider does).

    Shape:
        x: ``(H, W)``; kernel: ``(kH, kW)``; state output:
        ``((H - 1) * stride + kH, (W - 1) * stride + kW)``.
    """
    import ipywidgets as widgets

    x = _check_2d(x, "x")
    kernel = _check_2d(kernel, "kernel")
    if not 1 <= stride <= max_stride:
        raise ValueError(f"stride must be in [1, max_stride={max_stride}]; got {stride}")
    steps_count = x.numel()
    step_slider = widgets.IntSlider(value=0, min=0, max=steps_count - 1, description="step")
    stride_slider = widgets.IntSlider(value=stride, min=1, max=max_stride, description="stride")
    views = {name: widgets.Image(format="png") for name in ("input", "kernel", "output")}
    captions = {name: widgets.Label(name) for name in views}
    columns = [widgets.VBox([captions[name], views[name]]) for name in views]
    caption = widgets.Label()
    panel = WidgetPanel(
        widgets.VBox([widgets.HBox([step_slider, stride_slider]), widgets.HBox(columns), caption]),
        {"step": step_slider, "stride": stride_slider},
        views,
    )
    cache: dict[int, list[StampStep]] = {}

    def steps_for(current_stride: int) -> list[StampStep]:
        if current_stride not in cache:
            batch = x[None, None]  # (1, 1, H, W): stamp_steps works on batches
            cache[current_stride] = list(stamp_steps(batch, kernel[None, None], current_stride))
        return cache[current_stride]

    kernel_height, kernel_width = kernel.shape
    kernel_low, kernel_high = min(0.0, float(kernel.min())), float(kernel.max())
    kernel_picture = _grey_picture(kernel.numpy(), kernel_low, kernel_high)
    views["kernel"].value = array_to_png(kernel_picture, scale=scale)
    input_low, input_high = min(0.0, float(x.min())), float(x.max())

    def show(change: Any = None) -> None:
        steps = steps_for(stride_slider.value)
        step = steps[step_slider.value]
        final = steps[-1].output[0, 0]  # (H_out, W_out): fixes the grey scale for every step
        low, high = min(0.0, float(final.min())), float(final.max())
        output = step.output[0, 0]  # (H_out, W_out) accumulated so far
        pixel = (slice(step.row, step.row + 1), slice(step.column, step.column + 1))
        stamp = (
            slice(max(step.top, 0), step.top + kernel_height),
            slice(max(step.left, 0), step.left + kernel_width),
        )
        input_picture = _grey_picture(x.numpy(), input_low, input_high, pixel)
        views["input"].value = array_to_png(input_picture, scale=scale)
        views["output"].value = array_to_png(_grey_picture(output.numpy(), low, high, stamp), scale=scale)
        value = float(x[step.row, step.column])
        caption.value = (
            f"step {step_slider.value} (of steps 0 to {len(steps) - 1}): input pixel ({step.row}, {step.column}) = "
            f"{value:.2f} adds {value:.2f} x kernel at output rows "
            f"{step.top}-{step.top + kernel_height - 1}, columns {step.left}-{step.left + kernel_width - 1}"
        )
        panel.state.update(
            step=step_slider.value,
            stride=stride_slider.value,
            row=step.row,
            column=step.column,
            top=step.top,
            left=step.left,
            steps=len(steps),
            output=output.clone(),
            done=step_slider.value == len(steps) - 1,
            caption=caption.value,
        )

    step_slider.observe(show, names="value")
    stride_slider.observe(show, names="value")
    show()
    return panel

