"""TinyClassifier: a small VGG-style image classifier, the starting point of FCN.

Three conv-conv-pool stages shrink a ``S x S`` image to ``S/8 x S/8`` feature maps; flattening
them and three fully connected layers (fc1, fc2, classifier) give one score per class. The fully
connected layers fix the input size: fc1 has exactly ``channels * (S/8)**2`` inputs. Turning those
layers into convolutions (:func:`segedu.models.fcn.convolutionalize`) removes that limit and turns
the classifier into a coarse segmenter, the first idea of the FCN paper.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from segedu.models.blocks import VGGStage
from segedu.models.contract import check_input, check_model_arguments, parameter_dtype

__all__ = ["TinyClassifier"]


class TinyClassifier(nn.Module):
    """Small VGG-style classifier: (conv-conv-pool) x 3 -> flatten -> fc1 -> fc2 -> classifier.

    It returns logits, one per class and no softmax or sigmoid: use cross-entropy when each image
    has one label, or ``BCEWithLogitsLoss`` for multi-label targets ("which shapes are present").

    Args:
        in_channels: 1 (grey) or 3 (RGB) input channels.
        num_classes: number of outputs.
        base_channels: width of stage 1; stages 2 and 3 have 2x and 4x as many channels.
        image_size: the one input size the model accepts (a multiple of 8, fixed by fc1).
        hidden_features: width of fc1 and fc2.

    Shape:
        (B, in_channels, image_size, image_size) -> (B, num_classes)

    Example:
        >>> model = TinyClassifier(3, 4, image_size=64)
        >>> [tuple(f.shape) for f in model.stage_outputs(torch.zeros(2, 3, 64, 64))]
        [(2, 16, 32, 32), (2, 32, 16, 16), (2, 64, 8, 8)]
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 4,
        *,
        base_channels: int = 16,
        image_size: int = 64,
        hidden_features: int = 128,
    ) -> None:
        super().__init__()
        check_model_arguments("TinyClassifier", in_channels=in_channels, num_classes=num_classes,
                              base_channels=base_channels, image_size=image_size, hidden_features=hidden_features)
        if image_size < 8 or image_size % 8:
            raise ValueError(f"image_size must be a positive multiple of 8 (three 2x2 poolings); got {image_size}")
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.image_size = image_size
        self.feature_size = image_size // 8
        self.feature_channels = 4 * base_channels
        self.stage1 = VGGStage(in_channels, base_channels, 2)
        self.stage2 = VGGStage(base_channels, 2 * base_channels, 2)
        self.stage3 = VGGStage(2 * base_channels, self.feature_channels, 2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(self.feature_channels * self.feature_size**2, hidden_features)
        self.fc2 = nn.Linear(hidden_features, hidden_features)
        self.classifier = nn.Linear(hidden_features, num_classes)

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_classes={self.num_classes}, image_size={self.image_size}, "
            f"fc1 sees {self.feature_channels} x {self.feature_size} x {self.feature_size} features"
        )

    def _check(self, x: Tensor) -> None:
        check_input(x, in_channels=self.in_channels, min_size=1, model_name="TinyClassifier",
                    weight_dtype=parameter_dtype(self))
        height, width = x.shape[-2:]
        if (height, width) != (self.image_size, self.image_size):
            size, fs = self.image_size, self.feature_size
            raise ValueError(
                f"TinyClassifier was built with image_size={size}: fc1 takes {self.feature_channels} x {fs} x {fs} "
                f"= {self.fc1.in_features} features, so inputs must be {size}x{size}; got {height}x{width}. "
                "Resize the images, or use segedu.models.convolutionalize(model) to slide it over larger images"
            )

    def stage_outputs(self, x: Tensor) -> list[Tensor]:
        """Feature maps after each pooling stage, for probing what the network sees.

        Shape:
            (B, C_in, S, S) -> [(B, c, S/2, S/2), (B, 2c, S/4, S/4), (B, 4c, S/8, S/8)], c = base_channels
        """
        self._check(x)
        pool1 = self.stage1(x)  # (B, c, S/2, S/2)
        pool2 = self.stage2(pool1)  # (B, 2c, S/4, S/4)
        pool3 = self.stage3(pool2)  # (B, 4c, S/8, S/8)
        return [pool1, pool2, pool3]

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        x = self.stage1(x)  # (B, c, S/2, S/2)
        x = self.stage2(x)  # (B, 2c, S/4, S/4)
        x = self.stage3(x)  # (B, 4c, S/8, S/8)
        x = self.flatten(x)  # (B, 4c * S/8 * S/8)
        x = self.fc1(x)  # (B, hidden)
        x = F.relu(x)  # (B, hidden)
        x = self.fc2(x)  # (B, hidden)
        x = F.relu(x)  # (B, hidden)
        return self.classifier(x)  # (B, num_classes)
