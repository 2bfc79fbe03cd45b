"""ResNet's pieces as DeepLab uses them: conv-BN with a stride and an atrous rate, the stem, residual units and blocks.

A ResNet block (``block1 .. block4`` in the DeepLabv3 paper's figures) is a chain of residual units;
its first unit may halve the resolution. DeepLab replaces that stride by an atrous rate in the
later blocks (:mod:`segedu.models.deeplab`). segedu uses ResNet-18's *basic* unit (two 3x3 convs),
not ResNet-101's bottleneck unit (1x1, 3x3, 1x1).
"""

from __future__ import annotations

from collections import OrderedDict

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ConvBN", "ResidualBlock", "ResidualUnit", "Stem"]


class ConvBN(nn.Sequential):
    """conv (stride, atrous rate, "same" padding ``rate * (kernel_size // 2)``, no bias) -> BN [-> ReLU].

    Shape:
        (B, in_channels, H, W) -> (B, out_channels, ceil(H / stride), ceil(W / stride))
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int = 3, stride: int = 1,
                 dilation: int = 1, relu: bool = True) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["conv"] = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                                   padding=dilation * (kernel_size // 2), dilation=dilation, bias=False)
        layers["bn"] = nn.BatchNorm2d(out_channels)
        if relu:
            layers["relu"] = nn.ReLU()
        super().__init__(layers)

    def __repr__(self) -> str:
        # One line instead of three nested ones, naming the stride and the atrous rate.
        conv = self.conv
        relu = " -> ReLU" if "relu" in self._modules else ""
        return (f"ConvBN({conv.in_channels} -> {conv.out_channels}, kernel_size={conv.kernel_size[0]}, "
                f"stride={conv.stride[0]}, atrous_rate={conv.dilation[0]}{relu})")


class Stem(nn.Sequential):
    """ResNet's conv1 and pool1: conv7x7 stride 2 -> BN -> ReLU -> maxpool 3x3 stride 2.

    Shape:
        (B, in_channels, H, W) -> (B, out_channels, ceil(H / 4), ceil(W / 4))
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(OrderedDict(
            conv1=ConvBN(in_channels, out_channels, kernel_size=7, stride=2),
            pool1=nn.MaxPool2d(3, stride=2, padding=1),
        ))


class ResidualUnit(nn.Module):
    """ResNet's basic unit: conv3x3 -> BN -> ReLU -> conv3x3 -> BN, plus the shortcut, then ReLU.

    The first conv strides by ``stride``; both use ``dilation`` (the atrous rate). The shortcut is a
    1x1 conv + BN where the shape changes, the identity otherwise.

    Shape:
        (B, in_channels, H, W) -> (B, out_channels, ceil(H / stride), ceil(W / stride))
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv1 = ConvBN(in_channels, out_channels, stride=stride, dilation=dilation)
        self.conv2 = ConvBN(out_channels, out_channels, dilation=dilation, relu=False)
        changes_shape = stride != 1 or in_channels != out_channels
        self.shortcut = ConvBN(in_channels, out_channels, kernel_size=1, stride=stride, relu=False) \
            if changes_shape else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        residual = self.conv2(self.conv1(x))  # (B, C_out, H/s, W/s)
        return F.relu(residual + self.shortcut(x))  # (B, C_out, H/s, W/s)


class ResidualBlock(nn.Sequential):
    """One of the paper's ``block1 .. block4``: ``num_units`` residual units; the first may stride.

    Shape:
        (B, in_channels, H, W) -> (B, out_channels, ceil(H / stride), ceil(W / stride))
    """

    def __init__(self, in_channels: int, out_channels: int, *, num_units: int = 2, stride: int = 1,
                 dilation: int = 1) -> None:
        super().__init__(OrderedDict(
            (f"unit{i + 1}", ResidualUnit(out_channels if i else in_channels, out_channels,
                                          stride=1 if i else stride, dilation=dilation))
            for i in range(num_units)
        ))
        self.stride, self.dilation = stride, dilation

    def extra_repr(self) -> str:
        return f"stride={self.stride}, atrous_rate={self.dilation}"
