"""FullResolutionNet: the naive segmenter that never downsamples.

A stack of stride-1, same-padded 3x3 convolutions keeps every feature map at the full H x W, so
the output lines up with the input pixel for pixel, but each output pixel sees only a small
window: ``depth`` 3x3 convs have a receptive field of ``2 * depth + 1`` pixels. Seeing a whole
object needs either a very deep stack (memory grows with H x W x width x depth), dilated
convolutions (``dilations=[1, 2, 4, ...]``: the window doubles with every layer, but every layer
still works at full resolution) or downsampling, which is where FCN, SegNet and U-Net come in.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import Tensor, nn

from segedu.models.blocks import ConvBNReLU
from segedu.models.contract import check_input, check_model_arguments, parameter_dtype

__all__ = ["FullResolutionNet"]


class FullResolutionNet(nn.Module):
    """``depth`` x (conv3x3 -> BN -> ReLU) at full resolution, then a 1x1 conv to class scores.

    Args:
        in_channels: 1 (grey) or 3 (RGB) input channels.
        num_classes: number of classes K.
        width: channels of every hidden layer.
        depth: number of 3x3 conv layers; the receptive field is ``2 * depth + 1`` pixels.
        batch_norm: BatchNorm after each conv.
        dilations: one dilation per layer (default: all 1, ordinary 3x3 convs). A 3x3 conv with
            dilation ``d`` has its 9 taps ``d`` pixels apart and adds ``2 * d`` pixels to the
            window, at the cost (MACs, parameters, activations) of an ordinary 3x3 conv; with
            ``[1, 2, 4, ..., 2**(depth - 1)]`` the receptive field is ``2**(depth + 1) - 1``.

    Shape:
        (B, in_channels, H, W) -> (B, num_classes, H, W), any H, W >= 1.

    Example:
        >>> plain = FullResolutionNet(3, 4, depth=3)
        >>> dilated = FullResolutionNet(3, 4, depth=3, dilations=[1, 2, 4])
        >>> plain.receptive_field, dilated.receptive_field
        (7, 15)
    """

    min_size = 1

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        *,
        width: int = 32,
        depth: int = 8,
        batch_norm: bool = True,
        dilations: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        check_model_arguments("FullResolutionNet", in_channels=in_channels, num_classes=num_classes, width=width,
                              depth=depth)
        dilations = [1] * depth if dilations is None else list(dilations)
        if len(dilations) != depth or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dilations):
            raise ValueError(
                f"FullResolutionNet: dilations must list one int >= 1 per layer ({depth} for depth={depth}); "
                f"got {dilations!r}"
            )
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.depth = depth
        self.dilations = tuple(dilations)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for index, dilation in enumerate(self.dilations):
            channels = in_channels if index == 0 else width
            layers[f"conv{index + 1}"] = ConvBNReLU(channels, width, batch_norm=batch_norm, dilation=dilation)
        self.features = nn.Sequential(layers)
        self.classifier = nn.Conv2d(width, num_classes, kernel_size=1)

    @property
    def receptive_field(self) -> int:
        """Side of the input window one output pixel depends on: a 3x3 conv with dilation d adds 2d pixels."""
        return 1 + 2 * sum(self.dilations)

    def extra_repr(self) -> str:
        dilated = "" if set(self.dilations) == {1} else f", dilations={list(self.dilations)}"
        return (
            f"in_channels={self.in_channels}, num_classes={self.num_classes}, depth={self.depth}{dilated}, "
            f"stride=1 everywhere, receptive_field={self.receptive_field}x{self.receptive_field} pixels"
        )

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, in_channels=self.in_channels, min_size=self.min_size, model_name="FullResolutionNet",
                    weight_dtype=parameter_dtype(self))
        x = self.features(x)  # (B, width, H, W)
        return self.classifier(x)  # (B, num_classes, H, W)
