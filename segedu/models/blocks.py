"""Building blocks shared by the models: VGG16's stages as data, conv-BN-ReLU, and padding to a multiple.

:func:`pad_to_multiple` pads the bottom and right edges up to a multiple of ``2**depth`` (so every
2x2 pooling sees an even size and the decoder's sizes line up with the encoder's), and
:func:`crop_to` cuts the logits back to the original ``H x W``. The input checks every model runs
first live in :mod:`segedu.models.contract`.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "VGG16_STAGES",
    "ConvBNReLU",
    "VGGStage",
    "crop_to",
    "pad_to_multiple",
    "vgg16_stages",
]

# VGG16's convolutional part as data: (output channels, number of 3x3 convs) for each stage.
# Every stage ends in a 2x2 max-pool, so stage i sees 1/2**(i-1) of the input resolution.
VGG16_STAGES: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def vgg16_stages(base_channels: int, depth: int = 5) -> list[tuple[int, int]]:
    """The first ``depth`` VGG16 stages with widths scaled so that stage 1 has ``base_channels``.

    Example:
        >>> vgg16_stages(16)
        [(16, 2), (32, 2), (64, 3), (128, 3), (128, 3)]
    """
    if base_channels < 1:
        raise ValueError(f"base_channels must be >= 1; got {base_channels}")
    if not 1 <= depth <= len(VGG16_STAGES):
        raise ValueError(f"depth must be in [1, {len(VGG16_STAGES)}] (VGG16 has 5 stages); got {depth}")
    return [(width * base_channels // 64, convs) for width, convs in VGG16_STAGES[:depth]]


class ConvBNReLU(nn.Sequential):
    """conv (3x3 by default) -> BatchNorm -> ReLU.

    With ``batch_norm=False`` this is conv -> ReLU and the conv keeps its bias (as in the original
    VGG, FCN and U-Net); with BatchNorm the bias is dropped because BN's shift replaces it.
    With ``dilation=d`` the kernel's taps are ``d`` pixels apart (a dilated or atrous convolution)
    and the default padding ``d * (kernel_size // 2)`` still keeps the size.

    Shape:
        (B, in_channels, H, W) -> (B, out_channels, H', W'), H' = H with "same" padding
        (the default, ``padding=kernel_size // 2``) and H - 2 for a 3x3 conv with ``padding=0``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kernel_size: int = 3,
        padding: int | None = None,
        batch_norm: bool = True,
        dilation: int = 1,
    ) -> None:
        padding = dilation * (kernel_size // 2) if padding is None else padding
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["conv"] = nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=padding, dilation=dilation, bias=not batch_norm
        )
        if batch_norm:
            layers["bn"] = nn.BatchNorm2d(out_channels)
        layers["relu"] = nn.ReLU()
        super().__init__(layers)

    def __repr__(self) -> str:
        # One line instead of three nested ones: print(model) then shows the architecture's shape.
        conv = self.conv
        batch_norm = "" if "bn" in self._modules else ", batch_norm=False"
        dilation = "" if conv.dilation[0] == 1 else f", dilation={conv.dilation[0]}"
        return (
            f"ConvBNReLU({conv.in_channels} -> {conv.out_channels}, kernel_size={conv.kernel_size[0]}, "
            f"padding={conv.padding[0]}{dilation}{batch_norm})"
        )


class VGGStage(nn.Sequential):
    """One VGG stage: ``num_convs`` x (conv3x3 -> [BN] -> ReLU), then maxpool 2x2.

    Shape:
        (B, in_channels, H, W) -> (B, out_channels, H // 2, W // 2)
    """

    def __init__(self, in_channels: int, out_channels: int, num_convs: int, *, batch_norm: bool = True) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for index in range(num_convs):
            channels = in_channels if index == 0 else out_channels
            layers[f"conv{index + 1}"] = ConvBNReLU(channels, out_channels, batch_norm=batch_norm)
        layers["pool"] = nn.MaxPool2d(2)
        super().__init__(layers)


def pad_to_multiple(x: Tensor, multiple: int, *, mode: str = "reflect") -> tuple[Tensor, tuple[int, int]]:
    """Pad the bottom and right edges of ``x`` so that H and W become multiples of ``multiple``.

    Args:
        x: batch of images or feature maps.
        multiple: e.g. ``2**depth`` for a network with ``depth`` 2x2 poolings.
        mode: "reflect" mirrors the image across its edge (no artificial black border; needs the
            padding to be smaller than the image) or "zeros".

    Returns:
        The padded tensor and the original ``(H, W)``, to hand to :func:`crop_to` afterwards.

    Shape:
        (B, C, H, W) -> (B, C, ceil(H / m) * m, ceil(W / m) * m)
    """
    if mode not in ("reflect", "zeros"):
        raise ValueError(f"mode must be 'reflect' or 'zeros'; got {mode!r}")
    height, width = x.shape[-2:]
    pad_bottom = -height % multiple
    pad_right = -width % multiple
    if pad_bottom == 0 and pad_right == 0:
        return x, (height, width)
    if mode == "reflect" and (pad_bottom >= height or pad_right >= width):
        raise ValueError(
            f"reflect padding needs the image to be larger than the padding; a {height}x{width} image needs "
            f"{pad_bottom}x{pad_right} to reach a multiple of {multiple}. Use mode='zeros' or a larger image"
        )
    torch_mode = "constant" if mode == "zeros" else "reflect"
    return F.pad(x, (0, pad_right, 0, pad_bottom), mode=torch_mode), (height, width)


def crop_to(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Undo :func:`pad_to_multiple`: keep the top-left ``size = (H, W)`` pixels.

    Shape:
        (B, C, H', W') -> (B, C, H, W)
    """
    height, width = size
    return x[..., :height, :width]
