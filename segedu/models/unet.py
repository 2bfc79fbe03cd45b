"""U-Net (Ronneberger, Fischer & Brox, MICCAI 2015): the U of DoubleConv, Down, Up and OutConv.

The contracting path (left of the U) halves the resolution and doubles the channels ``depth``
times; the expanding path (right) undoes it with 2x2 up-convolutions, and at every level
concatenates the encoder's feature map ("copy and crop") so fine detail can reach the output.

Two paddings:

* ``"same"`` (default, the package contract): 3x3 convs pad by 1, the input is reflect-padded to a
  multiple of ``2**depth`` and the logits cropped back, so the output is ``H x W``.
* ``"valid"`` (the paper): convs do not pad, each DoubleConv trims 4 pixels, and the output is
  smaller than the input: ``572 -> 388`` for depth 4, ``input - (12 * 2**depth - 8)`` in general.
  Every max-pool must see an even size, so only some inputs fit: use :meth:`UNet.output_size`
  and :meth:`UNet.input_size_for` to plan the paper's overlap-tile strategy (predict a tile's
  centre from a larger, mirror-padded input window).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from segedu.models.blocks import DoubleConv, check_input, crop_to, pad_to_multiple

__all__ = ["Down", "OutConv", "UNet", "Up"]


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
    """up-conv 2x2 (halves the channels) -> concat with the centre-cropped skip -> DoubleConv.

    With ``skip_connection=False`` (the ablation) the skip is ignored and DoubleConv sees only the
    upsampled path: ``out_channels`` in, ``out_channels`` out.
    """

    def __init__(
        self, in_channels: int, out_channels: int, *, padding: int, batch_norm: bool, skip_connection: bool = True
    ) -> None:
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


def _center_crop(x: Tensor, size: tuple[int, int]) -> Tensor:
    top = (x.shape[-2] - size[0]) // 2
    left = (x.shape[-1] - size[1]) // 2
    return x[..., top : top + size[0], left : left + size[1]]


class UNet(nn.Module):
    """U-Net: ``inc`` -> ``depth`` x Down -> ``depth`` x Up (with skips) -> OutConv.

    Level i has ``base_channels * 2**i`` channels (64 ... 1024 in the paper).

    Args:
        in_channels: 1 or 3 input channels.
        num_classes: number of classes K.
        base_channels: channels of the first level.
        depth: number of Down (and Up) blocks.
        padding: "same" (output H x W, any H, W >= 2**depth) or "valid" (the paper; see module doc).
        skip_connections: False builds the ablation without "copy and crop".
        batch_norm: BatchNorm after each conv (the paper has none).

    Shape:
        (B, in_channels, H, W) -> (B, num_classes, H, W) with "same";
        (B, num_classes, output_size(H), output_size(W)) with "valid"; H, W >= ``min_size``.

    Example:
        >>> UNet.paper().output_size(572), UNet.paper().input_size_for(388)
        (388, 572)
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        *,
        base_channels: int = 16,
        depth: int = 4,
        padding: str = "same",
        skip_connections: bool = True,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid'; got {padding!r}")
        if depth < 1:
            raise ValueError(f"depth must be >= 1 (number of Down blocks); got {depth}")
        self.in_channels, self.num_classes, self.depth, self.padding = in_channels, num_classes, depth, padding
        widths = [base_channels * 2**level for level in range(depth + 1)]
        pad = 1 if padding == "same" else 0
        self.inc = DoubleConv(in_channels, widths[0], padding=pad, batch_norm=batch_norm)
        self.encoder = nn.ModuleDict(
            (f"down{i + 1}", Down(widths[i], widths[i + 1], padding=pad, batch_norm=batch_norm)) for i in range(depth)
        )
        self.decoder = nn.ModuleDict(
            (f"up{i + 1}", Up(widths[depth - i], widths[depth - i - 1], padding=pad, batch_norm=batch_norm,
                              skip_connection=skip_connections))
            for i in range(depth)
        )
        self.outc = OutConv(widths[0], num_classes)

    @classmethod
    def paper(cls) -> UNet:
        """The paper's U-Net: 1 input channel, 64 ... 1024 channels, depth 4, valid convs, 2 classes, no BN."""
        return cls(1, 2, base_channels=64, depth=4, padding="valid", batch_norm=False)

    @property
    def min_size(self) -> int:
        """Smallest accepted H and W (for "valid": the smallest size whose output is positive)."""
        return 2**self.depth if self.padding == "same" else self.input_size_for(1)

    def output_size(self, input_size: int) -> int:
        """Output side for an input side; raises ValueError for sizes a valid U-Net cannot take.

        Example:
            >>> UNet.paper().output_size(572)
            388
        """
        if self.padding == "same":
            return input_size
        size = input_size - 4  # inc: two 3x3 valid convs
        for _ in range(self.depth):
            if size <= 0 or size % 2:
                break
            size = size // 2 - 4  # Down: pool, then two 3x3 valid convs
        else:
            for _ in range(self.depth):
                size = 2 * size - 4  # Up: up-conv doubles, two 3x3 valid convs trim 4
            if size > 0:
                return size
        scale = 2**self.depth
        nearest = {self._valid_input(b) for b in ((input_size + 4) // scale - 8, (input_size + 4) // scale - 7)}
        raise ValueError(
            f"a valid-padding U-Net of depth {self.depth} needs every max-pool to see an even size and a positive "
            f"output; input {input_size} does not fit. Valid inputs are {scale} * (b + 8) - 4 for b >= 4; "
            f"nearest: {sorted(nearest)}. See input_size_for(output_size)"
        )

    def input_size_for(self, output_size: int) -> int:
        """Smallest input side whose output side is at least ``output_size`` (572 for 388 in the paper)."""
        if self.padding == "same":
            return max(output_size, 2**self.depth)
        bottleneck = 4 + max(0, -(-(output_size - 4) // 2**self.depth))  # output = 2**depth * (b - 4) + 4
        return self._valid_input(bottleneck)

    def _valid_input(self, bottleneck: int) -> int:
        """Input side giving a ``bottleneck x bottleneck`` map after the last Down (b >= 4)."""
        return 2**self.depth * (max(bottleneck, 4) + 8) - 4

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_classes={self.num_classes}, depth={self.depth}, "
            f"padding={self.padding!r}"
        )

    def forward(self, x: Tensor) -> Tensor:
        rule = f"it halves the resolution {self.depth} times" if self.padding == "same" else "valid convs trim borders"
        check_input(x, in_channels=self.in_channels, min_size=self.min_size, model_name="UNet", size_rule=rule)
        if self.padding == "same":
            x, size = pad_to_multiple(x, 2**self.depth)  # (B, C_in, H', W'), multiples of 2**depth
        else:
            size = (self.output_size(x.shape[-2]), self.output_size(x.shape[-1]))  # raises for sizes that do not fit
        x = self.inc(x)  # (B, c, H, W)
        skips = [x]
        for down in self.encoder.values():
            x = down(x)  # (B, c * 2**i, H/2**i, W/2**i), i = 1 .. depth
            skips.append(x)
        skips.pop()  # the bottleneck output is not a skip
        for up, skip in zip(self.decoder.values(), reversed(skips)):
            x = up(x, skip)  # (B, c * 2**(i-1), H/2**(i-1), W/2**(i-1)), i = depth .. 1
        x = self.outc(x)  # (B, K, H, W) ("valid": smaller than the input)
        return crop_to(x, size)  # (B, K, H, W) ("valid": output_size(H) x output_size(W))
