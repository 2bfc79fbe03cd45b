"""Bilinear upsampling as a transposed convolution: the layer FCN initialises its upsamplers with.

A transposed convolution with stride ``f`` stamps one copy of its kernel per input pixel. If the
kernel is a 2-D "tent" of side ``2f - f % 2`` (rising linearly to 1 at its centre and falling back),
the overlapping stamps add up to bilinear interpolation. Lesson 06 builds the same tent from
scratch in :mod:`segedu.analysis.upsampling`; a test checks that the two agree.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["BilinearUpsample", "bilinear_upsample_weight"]


def bilinear_upsample_weight(channels: int, scale: int) -> Tensor:
    """Weight that makes ``nn.ConvTranspose2d`` upsample each channel bilinearly by ``scale``.

    Args:
        channels: Number of channels in and out, at least 1.
        scale: Integer upsampling factor, at least 1.

    Returns:
        The tent kernel on the channel diagonal and zeros elsewhere, so channels never mix.

    Shape:
        Returns ``(channels, channels, k, k)`` (conv_transpose2d layout) with ``k = 2 * scale - scale % 2``.
    """
    for name, value in (("channels", channels), ("scale", scale)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    kernel_size = 2 * scale - scale % 2
    centre = scale - 1 if kernel_size % 2 else scale - 0.5
    tent = 1 - (torch.arange(kernel_size, dtype=torch.float32) - centre).abs() / scale  # (k,)
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)  # (C, C, k, k)
    diagonal = torch.arange(channels)
    weight[diagonal, diagonal] = tent[:, None] * tent[None, :]  # (k, k) on each channel c -> c
    return weight


class BilinearUpsample(nn.ConvTranspose2d):
    """Transposed conv (no bias) upsampling by ``scale``, initialised to bilinear interpolation.

    Kernel ``2 * scale - scale % 2``, stride ``scale``, padding chosen so the output is exactly
    ``scale`` times larger and, away from the border, equals
    ``F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)``.
    With ``learnable=False`` the weight has ``requires_grad=False`` (a fixed interpolation).

    Shape:
        (B, channels, h, w) -> (B, channels, scale * h, scale * w)
    """

    def __init__(self, channels: int, scale: int, *, learnable: bool = True) -> None:
        kernel_size = 2 * scale - scale % 2
        padding = (kernel_size - scale) // 2
        super().__init__(channels, channels, kernel_size, stride=scale, padding=padding, bias=False)
        self.scale = scale
        with torch.no_grad():
            self.weight.copy_(bilinear_upsample_weight(channels, scale))
        self.weight.requires_grad_(learnable)

    def extra_repr(self) -> str:
        return (
            f"channels={self.in_channels}, scale={self.scale}, kernel_size={self.kernel_size[0]}, "
            f"stride={self.stride[0]}, padding={self.padding[0]}, init=bilinear, learnable={self.weight.requires_grad}"
        )
