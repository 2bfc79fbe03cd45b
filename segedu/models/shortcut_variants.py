"""One encoder-decoder, four shortcuts: the controlled comparison of FCN-, SegNet- and U-Net-style connections.

FCN, SegNet and U-Net differ in much more than what crosses from encoder to decoder (backbone, width, depth,
upsampler). :class:`ShortcutNet` keeps everything else fixed and changes only that:

* ``"none"``: nothing crosses; the decoder sees only the bottleneck.
* ``"add"``: FCN-style addition. A 1x1 conv projects the encoder map to the decoder's channels and
  the result is added to the upsampled decoder map. (FCN adds class-score maps, not features.)
* ``"indices"``: SegNet-style. Only the max-pooling indices cross; max-unpooling puts each value back
  where the encoder's maximum was (and the learned 2x2 up-convolution is not used).
* ``"concat"``: U-Net-style. The whole encoder map is concatenated to the upsampled decoder map.

The control ``"fixed_unpool"`` (:data:`CONTROLS`) unpools like ``"indices"`` but to each window's top-left
pixel: nothing crosses, as with ``"none"``; only the upsampler is ``"indices"``'s.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from segedu.models.blocks import ConvBNReLU, crop_to, pad_to_multiple
from segedu.models.contract import check_input, check_model_arguments, parameter_dtype

__all__ = ["CONTROLS", "SHORTCUTS", "DecoderLevel", "EncoderLevel", "ShortcutNet"]

SHORTCUTS = ("none", "add", "indices", "concat")
CONTROLS = ("fixed_unpool",)  # "indices"'s upsampler without the indices: see the module docstring


def _two_convs(in_channels: int, middle_channels: int, out_channels: int) -> nn.Sequential:
    """(conv3x3 -> BN -> ReLU) x 2: (B, C_in, H, W) -> (B, C_out, H, W)."""
    return nn.Sequential(OrderedDict(conv1=ConvBNReLU(in_channels, middle_channels),
                                     conv2=ConvBNReLU(middle_channels, out_channels)))


class EncoderLevel(nn.Module):
    """(conv3x3 -> BN -> ReLU) x 2, then maxpool 2x2 that also returns where each maximum was.

    Shape:
        (B, C_in, H, W) -> skip (B, C_out, H, W), pooled (B, C_out, H/2, W/2), indices like pooled.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.convs = _two_convs(in_channels, out_channels, out_channels)
        self.pool = nn.MaxPool2d(2, return_indices=True)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        skip = self.convs(x)  # (B, C_out, H, W): the map a shortcut may carry across
        pooled, indices = self.pool(skip)  # (B, C_out, H/2, W/2) twice: maxima and their positions
        return skip, pooled, indices


class DecoderLevel(nn.Module):
    """Upsample x2, then the shortcut, then (conv3x3 -> BN -> ReLU) x 2.

    The upsampler is a learned 2x2 transposed conv, except for ``"indices"`` (max-unpooling with the encoder's
    indices) and ``"fixed_unpool"`` (to each window's top-left). ``"add"`` adds ``project(skip)`` (a 1x1 conv);
    ``"concat"`` concatenates ``skip``.

    Shape:
        (B, C, h, w) + skip (B, C, 2h, 2w) + indices (B, C, h, w) -> (B, C_out, 2h, 2w)
    """

    def __init__(self, channels: int, out_channels: int, shortcut: str) -> None:
        super().__init__()
        self.shortcut = shortcut
        unpooling = shortcut in ("indices", "fixed_unpool")
        self.up = nn.MaxUnpool2d(2) if unpooling else nn.ConvTranspose2d(channels, channels, 2, stride=2)
        self.project = nn.Conv2d(channels, channels, kernel_size=1) if shortcut == "add" else None
        self.convs = _two_convs(2 * channels if shortcut == "concat" else channels, channels, out_channels)

    def extra_repr(self) -> str:
        return f"shortcut={self.shortcut!r}"

    def forward(self, x: Tensor, skip: Tensor, indices: Tensor) -> Tensor:
        if self.shortcut == "indices":
            x = self.up(x, indices)  # (B, C, 2h, 2w), sparse: each value back at its encoder maximum
        elif self.shortcut == "fixed_unpool":  # unpooling to the top-left pixel (row 2i, column 2j) of each window
            x = self.up(x, (4 * x.shape[-1] * torch.arange(x.shape[-2])[:, None] + 2 * torch.arange(x.shape[-1])).to(
                x.device).expand_as(x).contiguous())  # (B, C, 2h, 2w), sparse
        else:
            x = self.up(x)  # (B, C, 2h, 2w), learned 2x2 up-convolution
        if self.shortcut == "add":
            x = x + self.project(skip)  # (B, C, 2h, 2w): FCN-style sum
        elif self.shortcut == "concat":
            x = torch.cat([skip, x], dim=1)  # (B, 2C, 2h, 2w): U-Net-style copy
        return self.convs(x)  # (B, C_out, 2h, 2w)


class ShortcutNet(nn.Module):
    """Encoder-decoder whose only choice is what crosses from encoder to decoder.

    Level i (1 ... ``depth``) has ``base_channels * 2**(i-1)`` channels; a bottleneck of two convs
    keeps the deepest width; decoder level i mirrors encoder level i and ends at level i-1's width
    (level 1 keeps its own); a 1x1 ``classifier`` gives the class scores. Inputs are reflect-padded
    to a multiple of ``2**depth`` and the logits cropped back. Encoder, bottleneck and classifier are
    built first, so for one seed (``torch.manual_seed``) every shortcut starts from the same weights there.

    Args:
        in_channels: 1 or 3 input channels.
        num_classes: number of classes K.
        base_channels: width of level 1.
        depth: number of 2x2 poolings.
        shortcut: "none", "add" (FCN-style), "indices" (SegNet-style), "concat" (U-Net-style) or "fixed_unpool".

    Shape:
        (B, in_channels, H, W) -> (B, num_classes, H, W), H, W >= 2**depth.
    """

    def __init__(self, in_channels: int, num_classes: int, *, base_channels: int = 8, depth: int = 3,
                 shortcut: str = "none") -> None:
        super().__init__()
        check_model_arguments("ShortcutNet", in_channels=in_channels, num_classes=num_classes,
                              base_channels=base_channels, depth=depth)
        if shortcut not in SHORTCUTS + CONTROLS:
            raise ValueError(f"shortcut must be one of {SHORTCUTS} or the control {CONTROLS[0]!r}; got {shortcut!r}")
        self.in_channels, self.num_classes, self.depth, self.shortcut = in_channels, num_classes, depth, shortcut
        widths = [in_channels] + [base_channels * 2**level for level in range(depth)]
        self.encoder = nn.ModuleDict((f"level{i}", EncoderLevel(widths[i - 1], widths[i])) for i in range(1, depth + 1))
        self.bottleneck = _two_convs(widths[depth], widths[depth], widths[depth])
        classifier = nn.Conv2d(widths[1], num_classes, kernel_size=1)  # drawn before the decoder, which varies
        self.decoder = nn.ModuleDict((f"level{i}", DecoderLevel(widths[i], widths[max(i - 1, 1)], shortcut))
                                     for i in range(depth, 0, -1))
        self.classifier = classifier  # registered last: the last layer, as printed and as found by module order

    @property
    def min_size(self) -> int:
        """Smallest accepted H and W: ``depth`` poolings must leave at least one pixel."""
        return 2**self.depth

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, num_classes={self.num_classes}, shortcut={self.shortcut!r}"

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, in_channels=self.in_channels, min_size=self.min_size, model_name="ShortcutNet",
                    size_rule=f"it halves the resolution {self.depth} times", weight_dtype=parameter_dtype(self))
        x, size = pad_to_multiple(x, 2**self.depth)  # (B, C_in, H, W), H and W multiples of 2**depth
        skips: dict[str, tuple[Tensor, Tensor]] = {}  # "level{i}" -> (encoder map, pooling indices)
        for name, level in self.encoder.items():  # level1 ... level{depth}
            skip, x, indices = level(x)  # skip (B, c_i, H/2**(i-1), W/2**(i-1)); x, indices (B, c_i, H/2**i, W/2**i)
            skips[name] = (skip, indices)
        x = self.bottleneck(x)  # (B, c_depth, H/2**depth, W/2**depth)
        for name, level in self.decoder.items():  # level{depth} ... level1, the mirror
            x = level(x, *skips[name])  # (B, c_(i-1), H/2**(i-1), W/2**(i-1)); the shortcut decides what is used
        x = self.classifier(x)  # (B, K, H, W)
        return crop_to(x, size)  # (B, K, H, W) of the input before padding
