"""DeepLabv3 (Chen, Papandreou, Schroff & Adam, 2017): atrous convolution and atrous spatial pyramid pooling.

A ResNet backbone (``stem``, ``block1 .. block4``, :mod:`segedu.models.resnet_blocks`) would shrink
the image 32 times; DeepLabv3 stops striding at the output stride (8 or 16) and gives the later
blocks atrous 3x3 convs instead. The ASPP reads the last map with a 1x1 conv, three atrous 3x3
convs and an image-level branch, side by side; logits are upsampled bilinearly to the input size.

Departures from the paper (a small model trained from scratch on 64x64 scenes):

- backbone: ResNet-18-style *basic* units (two per block) at ``base_channels x (1, 2, 4, 8)``
  instead of ResNet-101's bottleneck units (3, 4, 23, 3) at 256 ... 2048; no ImageNet pretraining;
  no multi-grid in block4; every conv uses its block's rate (torchvision keeps the old rate where a stride was);
- output stride: the paper trains mostly at 16 and evaluates at 8; the shipped models train and run at 8;
- atrous rates: the paper's (6, 12, 18) at output stride 16 on 513-pixel crops (a 33x33 map) keep 0.25, 0.11, 0.11
  of the 9 taps on a 64-pixel scene's 8x8 map, and (12, 24, 36) only the centre tap (the paper's Fig. 4). The
  default (2, 3, 4) at output stride 8 keeps about the paper's share of taps inside the map (0.69, 0.56, 0.44 of the
  9, against 0.77, 0.57, 0.40 for (6, 12, 18) on 33x33); at 16 and 32 (4x4, 2x2 maps) the smallest rates (1, 2, 3);
- ASPP width ``aspp_channels`` (64 shipped, 256 in the paper); BatchNorm after every conv but in :class:`ImagePooling`;
  as in the paper, no decoder: the logits at 1/output_stride are upsampled in one bilinear step (DeepLabv3+ adds one);
- training (the course's recipe): Adam with a cosine decay, 4000 steps of 16 freshly drawn scenes, where the
  paper uses a "poly" decay from 0.007 for 30K iterations of 16 randomly scaled and flipped 513-pixel crops.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segedu.models.contract import check_input, check_model_arguments, parameter_dtype
from segedu.models.resnet_blocks import ConvBN, ResidualBlock, Stem

__all__ = ["ASPP", "DEFAULT_ATROUS_RATES", "DeepLabV3", "ImagePooling"]

# Output stride -> ASPP rates that fit a 64-pixel scene's feature map (8x8, 4x4, 2x2); see the module docstring.
DEFAULT_ATROUS_RATES: dict[int, tuple[int, int, int]] = {8: (2, 3, 4), 16: (1, 2, 3), 32: (1, 2, 3)}


class ImagePooling(nn.Module):
    """ASPP's image-level branch: global average pool -> 1x1 conv -> ReLU -> bilinear back to h x w.

    Every position gets the same summary of the whole image. The paper puts BatchNorm after the conv;
    on a 1x1 map that fails for one training image, so the conv keeps its bias instead.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        pooled = F.relu(self.conv(self.pool(x)))  # (B, A, 1, 1)
        return F.interpolate(pooled, size=x.shape[-2:], mode="bilinear", align_corners=False)  # (B, A, h, w)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: 1x1 | 3x3 rate r1 | rate r2 | rate r3 | image pooling -> concat -> 1x1.

    Shape: (B, in_channels, h, w) -> (B, out_channels, h, w).
    """

    def __init__(self, in_channels: int, out_channels: int, atrous_rates: tuple[int, ...]) -> None:
        super().__init__()
        self.atrous_rates = tuple(atrous_rates)
        branches: OrderedDict[str, nn.Module] = OrderedDict(conv1x1=ConvBN(in_channels, out_channels, kernel_size=1))
        for rate in self.atrous_rates:
            branches[f"atrous{rate}"] = ConvBN(in_channels, out_channels, dilation=rate)
        branches["image_pooling"] = ImagePooling(in_channels, out_channels)
        self.branches = nn.ModuleDict(branches)
        self.project = ConvBN(len(branches) * out_channels, out_channels, kernel_size=1)

    def extra_repr(self) -> str:
        return f"atrous_rates={self.atrous_rates}"

    def forward(self, x: Tensor) -> Tensor:
        features = [branch(x) for branch in self.branches.values()]  # 5 x (B, A, h, w)
        x = torch.cat(features, dim=1)  # (B, 5A, h, w)
        return self.project(x)  # (B, A, h, w)


class DeepLabV3(nn.Module):
    """DeepLabv3: ``stem -> block1 .. block4`` (atrous after the output stride) -> ``aspp`` -> ``classifier``.

    Blocks have widths ``base_channels x (1, 2, 4, 8)`` and see 1/4, 1/8, 1/16, 1/32 of the input
    in a plain ResNet. With ``output_stride=16`` block4 keeps 1/16 and uses rate 2; with 8,
    block3 and block4 keep 1/8 and use rates 2 and 4 (each skipped stride doubles the rate: about the
    strided network's receptive field, a little wider). 32 is the plain ResNet, for comparison.

    Args:
        in_channels: 1 or 3 input channels.
        num_classes: number of classes K.
        base_channels: width of block1 (256 in ResNet-101, whose block4 has 2048).
        output_stride: 8, 16 or 32: input size / size of the map the ASPP sees.
        atrous_rates: the three ASPP rates; default :data:`DEFAULT_ATROUS_RATES` for the output stride
            (branches are named by rate: weights from another output stride need their rates).
        aspp_channels: width of every ASPP branch and the projection (256 in the paper; default 4 * base).

    Shape:
        (B, in_channels, H, W) -> (B, num_classes, H, W), H, W >= output_stride.
    """

    def __init__(self, in_channels: int, num_classes: int, *, base_channels: int = 16, output_stride: int = 8,
                 atrous_rates: tuple[int, ...] | None = None, aspp_channels: int | None = None) -> None:
        super().__init__()
        if output_stride not in DEFAULT_ATROUS_RATES:
            raise ValueError(f"output_stride must be 8, 16 or 32; got {output_stride!r}")
        rates = DEFAULT_ATROUS_RATES[output_stride] if atrous_rates is None else tuple(atrous_rates)
        aspp_channels = 4 * base_channels if aspp_channels is None else aspp_channels
        check_model_arguments("DeepLabV3", in_channels=in_channels, num_classes=num_classes,
                              base_channels=base_channels, aspp_channels=aspp_channels,
                              **{f"atrous_rates[{i}]": rate for i, rate in enumerate(rates)})
        if not rates or len(set(rates)) != len(rates):
            raise ValueError(f"DeepLabV3: atrous_rates must be distinct rates, e.g. (2, 3, 4); got {rates}")
        self.in_channels, self.num_classes, self.output_stride, self.atrous_rates = (
            in_channels, num_classes, output_stride, rates)
        c = base_channels
        # (stride, atrous rate) of block3 and block4: every stride not taken becomes a doubled rate.
        (stride3, rate3), (stride4, rate4) = {8: ((1, 2), (1, 4)), 16: ((2, 1), (1, 2)), 32: ((2, 1), (2, 1))}[
            output_stride]
        self.stem = Stem(in_channels, c)
        self.block1 = ResidualBlock(c, c)
        self.block2 = ResidualBlock(c, 2 * c, stride=2)
        self.block3 = ResidualBlock(2 * c, 4 * c, stride=stride3, dilation=rate3)
        self.block4 = ResidualBlock(4 * c, 8 * c, stride=stride4, dilation=rate4)
        self.aspp = ASPP(8 * c, aspp_channels, rates)
        self.classifier = nn.Conv2d(aspp_channels, num_classes, kernel_size=1)

    @property
    def min_size(self) -> int:
        """Smallest accepted H and W: one feature-map pixel per ``output_stride`` input pixels."""
        return self.output_stride

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, num_classes={self.num_classes}, "
                f"output_stride={self.output_stride}, atrous_rates={self.atrous_rates}")

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, in_channels=self.in_channels, min_size=self.min_size, model_name="DeepLabV3",
                    size_rule=f"its output stride is {self.output_stride}", weight_dtype=parameter_dtype(self))
        size = x.shape[-2:]  # (H, W); s = output_stride below
        x = self.stem(x)  # (B, c, H/4, W/4)
        x = self.block1(x)  # (B, c, H/4, W/4)
        x = self.block2(x)  # (B, 2c, H/8, W/8)
        x = self.block3(x)  # (B, 4c, H/8, W/8) at s = 8 (rate 2); H/16 otherwise
        x = self.block4(x)  # (B, 8c, H/s, W/s): rate 4 at s = 8, rate 2 at s = 16
        x = self.aspp(x)  # (B, A, H/s, W/s)
        x = self.classifier(x)  # (B, K, H/s, W/s)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)  # (B, K, H, W)
