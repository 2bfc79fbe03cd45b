"""Explore checkerboard artefacts: how unevenly the stamps of a transposed convolution overlap.

Sliders pick the kernel size and the stride. The panel shows how many stamps land on each
output pixel (:func:`segedu.analysis.upsampling.checkerboard_pattern`), what that transposed convolution
makes of a flat image, and what the fix "resize, then convolve" makes of the same image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.analysis.upsampling import checkerboard_pattern, nearest_upsample, transposed_conv_stamp
from segedu.widgets._toolkit import WidgetPanel, array_to_png

__all__ = ["checkerboard_explorer", "flat_image_outputs"]

KERNELS = ("uniform", "random")


def _kernel(kind: str, kernel_size: int, seed: int) -> Tensor:
    """``uniform``: all ones; ``random``: positive weights drawn from ``seed``. Shape ``(k, k)``."""
    if kind == "uniform":
        return torch.ones(kernel_size, kernel_size)
    generator = torch.Generator().manual_seed(seed)
    return 0.5 + torch.rand(kernel_size, kernel_size, generator=generator)  # in [0.5, 1.5)


def _spread(values: Tensor) -> float:
    """``(max - min) / mean``: 0 for a perfectly flat image."""
    mean = float(values.mean())
    return float(values.max() - values.min()) / mean if mean > 0 else float("inf")


def flat_image_outputs(
    kernel_size: int, stride: int, *, size: int = 16, kernel: str = "uniform", seed: int = 0
) -> dict[str, Tensor | float]:
    """Upsample an all-ones image two ways and measure how flat each result stays.

    Both ways use the same ``kernel_size x kernel_size`` kernel (all ones, or random positive
    weights), scaled so that a flat image keeps an average brightness of 1:

    - ``transposed``: a transposed convolution with stride ``stride``;
    - ``resize_conv``: nearest upsampling by ``stride``, then an ordinary convolution with
      replicate padding (so the border sees the same flat image).

    Args:
        kernel_size: Side of the square kernel, at least 1.
        stride: Upsampling factor, at least 1.
        size: Side of the square all-ones input.
        kernel: ``"uniform"`` or ``"random"``.
        seed: Seed of the random kernel.

    Returns:
        ``transposed`` and ``resize_conv`` (2-D tensors), and ``transposed_spread`` and
        ``resize_conv_spread``: ``(max - min) / mean`` over the interior, the pixels that a full
        set of stamps can reach (a kernel-wide border is left out).

    Shape:
        ``transposed``: ``((size - 1) * stride + kernel_size,) * 2``; ``resize_conv``:
        ``(size * stride,) * 2``.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}; got {kernel!r}")
    if size * stride <= 2 * kernel_size:
        raise ValueError(
            f"size * stride must exceed 2 * kernel_size to leave an interior; got size={size}, "
            f"stride={stride}, kernel_size={kernel_size}"
        )
    weights = _kernel(kernel, kernel_size, seed)  # (k, k)
    flat = torch.ones(1, 1, size, size)  # (1, 1, n, n)
    # Stride^2 output pixels share one input pixel, so weights summing to stride^2 keep mean 1.
    stamped = transposed_conv_stamp(flat, (weights * stride**2 / weights.sum())[None, None], stride)
    upsampled = nearest_upsample(flat, stride)  # (1, 1, n*s, n*s)
    before, after = (kernel_size - 1) // 2, kernel_size // 2
    padded = F.pad(upsampled, (before, after, before, after), mode="replicate")
    resized = F.conv2d(padded, (weights / weights.sum())[None, None])  # (1, 1, n*s, n*s)
    transposed, resize_conv = stamped[0, 0], resized[0, 0]
    return {
        "transposed": transposed,
        "resize_conv": resize_conv,
        "transposed_spread": _spread(_interior(transposed, kernel_size, stride)),
        "resize_conv_spread": _spread(_interior(resize_conv, kernel_size, stride)),
    }


def _interior(picture: Tensor, kernel_size: int, stride: int) -> Tensor:
    """``picture`` without a kernel-wide border, cut to a multiple of ``stride`` rows and columns.

    A multiple of the stride holds every stride phase equally often, so the mean of a flat image's
    output is its true brightness.
    """
    remaining = picture.shape[-1] - 2 * kernel_size  # at least 1 (flat_image_outputs checks the size)
    length = remaining // stride * stride or remaining
    inner = slice(kernel_size, kernel_size + length)
    return picture[inner, inner]


def checkerboard_explorer(
    *, kernel_size: int = 3, stride: int = 2, size: int = 16, display_size: int = 200
) -> WidgetPanel:
    """Sliders over kernel size and stride showing stamp overlaps and the artefact they cause.

    Args:
        kernel_size: Kernel size shown first (1 to 7).
        stride: Stride shown first (1 to 4).
        size: Side of the flat input image, at least 15 (so every setting leaves an interior).
        display_size: Rough side of each picture on screen, in screen pixels.

    Returns:
        A panel with the controls ``"kernel_size"``, ``"stride"`` and ``"kernel"`` (uniform or
        random weights), the images ``"overlap"`` (stamps per output pixel, white = most),
        ``"transposed"`` and ``"resize_conv"`` (the flat image upsampled each way; grey = 1,
        the scale runs from 0 to 2), and the state ``kernel_size``, ``stride``, ``kernel``,
        ``counts`` (the overlap tensor), ``interior_counts`` (sorted distinct counts away from
        the border), ``even`` (whether that interior is uniform), ``transposed_spread`` and
        ``resize_conv_spread`` (see :func:`flat_image_outputs`).
    """
    import ipywidgets as widgets

    if not 1 <= kernel_size <= 7 or not 1 <= stride <= 4:
        raise ValueError(
            f"kernel_size must be in [1, 7] and stride in [1, 4]; got {kernel_size} and {stride}"
        )
    if size < 15:
        raise ValueError(f"size must be at least 15 so every setting leaves an interior; got {size}")
    controls = {
        "kernel_size": widgets.IntSlider(value=kernel_size, min=1, max=7, description="kernel size"),
        "stride": widgets.IntSlider(value=stride, min=1, max=4, description="stride"),
        "kernel": widgets.Dropdown(options=list(KERNELS), value="uniform", description="weights"),
    }
    titles = {
        "overlap": "stamps per pixel",
        "transposed": "transposed conv of a flat image",
        "resize_conv": "resize, then convolve",
    }
    views = {name: widgets.Image(format="png") for name in titles}
    columns = [widgets.VBox([widgets.Label(titles[name]), views[name]]) for name in titles]
    caption = widgets.Label()
    panel = WidgetPanel(
        widgets.VBox([widgets.HBox(list(controls.values())), widgets.HBox(columns), caption]),
        controls,
        views,
    )

    def show(change: Any = None) -> None:
        k, s = controls["kernel_size"].value, controls["stride"].value
        counts = checkerboard_pattern(k, s, size)  # (H_out, W_out) stamps per pixel
        inner = counts[k:-k, k:-k]
        distinct = sorted(int(value) for value in torch.unique(inner))
        outputs = flat_image_outputs(k, s, size=size, kernel=controls["kernel"].value)
        scale = max(1, display_size // counts.shape[0])  # screen pixels per output pixel
        views["overlap"].value = array_to_png(counts.numpy() / max(int(counts.max()), 1), scale=scale)
        for name in ("transposed", "resize_conv"):  # brightness 1 shows as mid-grey
            views[name].value = array_to_png(np.asarray(outputs[name]) / 2, scale=scale)
        even = len(distinct) == 1
        caption.value = (
            f"kernel {k}, stride {s}: interior pixels receive {distinct} stamps -> "
            + ("even overlap" if even else "uneven overlap: checkerboard")
            + f"; spread transposed {outputs['transposed_spread']:.2f}, "
            f"resize-conv {outputs['resize_conv_spread']:.2f}"
        )
        panel.state.update(
            kernel_size=k,
            stride=s,
            kernel=controls["kernel"].value,
            counts=counts,
            interior_counts=distinct,
            even=even,
            transposed_spread=outputs["transposed_spread"],
            resize_conv_spread=outputs["resize_conv_spread"],
        )

    for control in controls.values():
        control.observe(show, names="value")
    show()
    return panel
