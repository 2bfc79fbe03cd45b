"""U-Net (Ronneberger, Fischer & Brox, MICCAI 2015): the U of DoubleConv, Down, Up and OutConv.

The contracting path halves the resolution and doubles the channels four times; the expanding path
undoes it with 2x2 up-convolutions and concatenates the encoder's map of the same level ("copy and
crop"). Valid-padding sizes (the paper's 572 -> 388) are planned in :mod:`segedu.analysis.unet_sizes`.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from segedu.models.blocks import ConvBNReLU, crop_to, pad_to_multiple
from segedu.models.contract import check_input, check_model_arguments, parameter_dtype

__all__ = ["DoubleConv", "Down", "OutConv", "UNet", "Up"]


class DoubleConv(nn.Sequential):
    """The U-Net box: (conv3x3 -> [BN] -> ReLU) x 2: (B, C_in, H, W) -> (B, C_out, H, W), 4 less if padding=0."""

    def __init__(self, in_channels: int, out_channels: int, *, padding: int = 1, batch_norm: bool = True) -> None:
        super().__init__(OrderedDict(
            conv1=ConvBNReLU(in_channels, out_channels, padding=padding, batch_norm=batch_norm),
            conv2=ConvBNReLU(out_channels, out_channels, padding=padding, batch_norm=batch_norm),
        ))


class Down(nn.Module):
    """Halve the resolution, then refine: maxpool 2x2 -> DoubleConv."""

    def __init__(self, in_channels: int, out_channels: int, *, padding: int, batch_norm: bool) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.convs = DoubleConv(in_channels, out_channels, padding=padding, batch_norm=batch_norm)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(x)  # (B, C_in, H/2, W/2)
        return self.convs(x)  # (B, C_out, H/2, W/2), 4 pixels less with valid padding


class Up(nn.Module):
    """up-conv 2x2 (halves the channels) -> concat the centre-cropped skip (unless ablated) -> DoubleConv."""

    def __init__(self, in_channels: int, out_channels: int, *, padding: int, batch_norm: bool,
                 skip_connection: bool = True) -> None:
        super().__init__()
        self.skip_connection = skip_connection
        self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
        conv_in = 2 * out_channels if skip_connection else out_channels
        self.convs = DoubleConv(conv_in, out_channels, padding=padding, batch_norm=batch_norm)

    def extra_repr(self) -> str:
        return f"skip_connection={self.skip_connection}"

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = self.up(x)  # (B, C_out, 2h, 2w)
        if self.skip_connection:
            skip = _center_crop(skip, x.shape[-2:])  # (B, C_out, 2h, 2w): "copy and crop"
            x = torch.cat([skip, x], dim=1)  # (B, 2 C_out, 2h, 2w)
        return self.convs(x)  # (B, C_out, 2h, 2w), 4 pixels less with valid padding


class OutConv(nn.Conv2d):
    """1x1 conv from features to class scores."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__(in_channels, num_classes, kernel_size=1)


def _center_crop(x: Tensor, size: tuple[int, int]) -> Tensor:  # "crop" of "copy and crop"
    top, left = (x.shape[-2] - size[0]) // 2, (x.shape[-1] - size[1]) // 2
    return x[..., top : top + size[0], left : left + size[1]]


class UNet(nn.Module):
    """U-Net: ``inc`` -> ``down1..down4`` -> ``up1..up4`` (``up1`` is the deepest) -> ``outc``.

    Args:
        in_channels: 1 or 3 input channels.
        num_classes: number of classes K.
        base_channels: channels of level 0; level i has ``base_channels * 2**i`` (64 ... 1024 in the paper).
        padding: "same" (output H x W) or "valid" (the paper: unpadded convs, a smaller output).
        skip_connections: False builds the ablation without "copy and crop".
        batch_norm: BatchNorm after each conv (the paper has none).

    Shape:
        (B, in_channels, H, W) -> (B, num_classes, H, W) with "same", H, W >= 16; with "valid"
        (B, num_classes, H - 184, W - 184) for H, W = 16 * (b + 8) - 4, b >= 4 (572 -> 388).
    """

    depth = 4  # Down blocks, as in the paper: the bottleneck sees 1/16 of the input's side
    def __init__(self, in_channels: int, num_classes: int, *, base_channels: int = 16, padding: str = "same",
                 skip_connections: bool = True, batch_norm: bool = True) -> None:
        super().__init__()
        check_model_arguments("UNet", in_channels=in_channels, num_classes=num_classes, base_channels=base_channels)
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid'; got {padding!r}")
        self.in_channels, self.num_classes, self.padding = in_channels, num_classes, padding
        c, options = base_channels, dict(padding=1 if padding == "same" else 0, batch_norm=batch_norm)
        self.inc = DoubleConv(in_channels, c, **options)
        self.down1 = Down(c, 2 * c, **options)
        self.down2 = Down(2 * c, 4 * c, **options)
        self.down3 = Down(4 * c, 8 * c, **options)
        self.down4 = Down(8 * c, 16 * c, **options)
        self.up1 = Up(16 * c, 8 * c, skip_connection=skip_connections, **options)
        self.up2 = Up(8 * c, 4 * c, skip_connection=skip_connections, **options)
        self.up3 = Up(4 * c, 2 * c, skip_connection=skip_connections, **options)
        self.up4 = Up(2 * c, c, skip_connection=skip_connections, **options)
        self.outc = OutConv(c, num_classes)

    @classmethod
    def paper(cls) -> UNet:
        """The paper's U-Net: 1 input channel, 64 ... 1024 channels, valid convs, 2 classes, no BN."""
        return cls(1, 2, base_channels=64, padding="valid", batch_norm=False)

    @property
    def min_size(self) -> int:
        """Smallest accepted H and W: 16 for "same"; 188 for "valid" (a 4x4 bottleneck, a 4x4 output)."""
        return 16 if self.padding == "same" else 16 * (4 + 8) - 4

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, num_classes={self.num_classes}, padding={self.padding!r}"

    def _check_valid_size(self, x: Tensor) -> None:
        for side in (side for side in x.shape[-2:] if (side + 4) % 16):
            lower = 16 * ((side + 4) // 16) - 4  # >= 188 because check_input ran first
            raise ValueError(f"a valid-padding U-Net needs H, W = 16 * (b + 8) - 4 (b >= 4) so every max-pool sees an "
                             f"even size; {side} does not fit, nearest: [{lower}, {lower + 16}]. See unet_sizes")

    def forward(self, x: Tensor) -> Tensor:
        rule = "it halves the resolution 4 times" if self.padding == "same" else "valid convs trim borders"
        check_input(x, in_channels=self.in_channels, min_size=self.min_size, model_name="UNet", size_rule=rule,
                    weight_dtype=parameter_dtype(self))
        if self.padding == "valid":
            self._check_valid_size(x)  # every map below is then some pixels smaller than written
        x, size = pad_to_multiple(x, 16) if self.padding == "same" else (x, None)  # same: H, W multiples of 16
        skip1 = self.inc(x)  # (B, c, H, W)
        skip2 = self.down1(skip1)  # (B, 2c, H/2, W/2)
        skip3 = self.down2(skip2)  # (B, 4c, H/4, W/4)
        skip4 = self.down3(skip3)  # (B, 8c, H/8, W/8)
        x = self.down4(skip4)  # (B, 16c, H/16, W/16): the bottleneck, no skip
        x = self.up1(x, skip4)  # (B, 8c, H/8, W/8)
        x = self.up2(x, skip3)  # (B, 4c, H/4, W/4)
        x = self.up3(x, skip2)  # (B, 2c, H/2, W/2)
        x = self.up4(x, skip1)  # (B, c, H, W)
        logits = self.outc(x)  # (B, K, H, W); valid: (B, K, H - 184, W - 184)
        return crop_to(logits, size) if self.padding == "same" else logits  # (B, K, H, W) before padding
