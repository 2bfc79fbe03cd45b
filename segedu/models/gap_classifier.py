"""GAPClassifier: TinyClassifier's convolutions with a global-average-pooling head.

The fully connected head of :class:`~segedu.models.TinyClassifier` (flatten -> fc1 -> fc2 ->
classifier) gives every cell of the last feature map its own weights. Network in Network (Lin et
al., 2014) and later ResNet replace it by *global average pooling*: each channel is averaged over
the whole grid, and one linear layer turns the channel means into class scores. The grid is
summed away before any weight sees it, so the head has no separate weights per position, takes
any input size, and needs very few parameters.
"""

from __future__ import annotations

from torch import Tensor, nn

from segedu.models.blocks import VGGStage
from segedu.models.contract import check_input, check_model_arguments, parameter_dtype

__all__ = ["GAPClassifier"]


class GAPClassifier(nn.Module):
    """(conv-conv-pool) x 3 -> mean over the grid -> classifier: the GAP head.

    The three stages are exactly TinyClassifier's. The output is logits, one per class (use
    ``BCEWithLogitsLoss`` for multi-label targets).

    Args:
        in_channels: 1 (grey) or 3 (RGB) input channels.
        num_classes: number of outputs.
        base_channels: width of stage 1; stages 2 and 3 have 2x and 4x as many channels.

    Shape:
        (B, in_channels, H, W) -> (B, num_classes), for any H, W >= 8

    Example:
        >>> import torch
        >>> model = GAPClassifier(3, 3, base_channels=8)
        >>> tuple(model(torch.zeros(2, 3, 32, 32)).shape), tuple(model(torch.zeros(1, 3, 48, 40)).shape)
        ((2, 3), (1, 3))
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 4, *, base_channels: int = 16) -> None:
        super().__init__()
        check_model_arguments("GAPClassifier", in_channels=in_channels, num_classes=num_classes,
                              base_channels=base_channels)
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.feature_channels = 4 * base_channels
        self.stage1 = VGGStage(in_channels, base_channels, 2)
        self.stage2 = VGGStage(base_channels, 2 * base_channels, 2)
        self.stage3 = VGGStage(2 * base_channels, self.feature_channels, 2)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(self.feature_channels, num_classes)

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_classes={self.num_classes}, "
            f"the classifier sees {self.feature_channels} channel means (any input size)"
        )

    def stage_outputs(self, x: Tensor) -> list[Tensor]:
        """Feature maps after each pooling stage.

        Shape:
            (B, C_in, H, W) -> [(B, c, H/2, W/2), (B, 2c, H/4, W/4), (B, 4c, H/8, W/8)], c = base_channels
        """
        check_input(x, in_channels=self.in_channels, min_size=8, model_name="GAPClassifier",
                    size_rule="it halves the resolution 3 times", weight_dtype=parameter_dtype(self))
        pool1 = self.stage1(x)  # (B, c, H/2, W/2)
        pool2 = self.stage2(pool1)  # (B, 2c, H/4, W/4)
        pool3 = self.stage3(pool2)  # (B, 4c, H/8, W/8)
        return [pool1, pool2, pool3]

    def forward(self, x: Tensor) -> Tensor:
        pool3 = self.stage_outputs(x)[-1]  # (B, 4c, H/8, W/8)
        pooled = self.global_pool(pool3)  # (B, 4c, 1, 1): one mean per channel, the grid is gone
        pooled = self.flatten(pooled)  # (B, 4c)
        return self.classifier(pooled)  # (B, num_classes)
