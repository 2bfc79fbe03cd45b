"""Convolutionalizing a classifier: the first idea of FCN (Long, Shelhamer & Darrell, 2015, Sec. 3.1).

A fully connected layer that flattens a ``C x h x w`` feature map computes, for each output unit,
a dot product with a ``C x h x w`` filter: that is a ``h x w`` convolution evaluated at a single
position. Writing fc1 as that convolution (and the later fully connected layers as 1x1 convs)
gives the same numbers at the training size, and on a larger image slides the whole classifier
over it, returning a coarse map of class scores instead of one prediction.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segedu.models.contract import check_input, parameter_dtype
from segedu.models.tiny_classifier import TinyClassifier

__all__ = ["ConvolutionalizedClassifier", "convolutionalize"]


def _linear_to_conv(linear: nn.Linear, in_channels: int, kernel_size: int) -> nn.Conv2d:
    """The same weights, seen as ``out_features`` filters of shape ``(in_channels, k, k)``."""
    weight = linear.weight
    conv = nn.Conv2d(in_channels, linear.out_features, kernel_size, device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(weight.reshape(linear.out_features, in_channels, kernel_size, kernel_size))
        conv.bias.copy_(linear.bias)
    return conv


class ConvolutionalizedClassifier(nn.Module):
    """A :class:`TinyClassifier` whose fc1, fc2 and classifier are convolutions (see :func:`convolutionalize`).

    fc1 becomes a conv whose kernel covers the whole ``S/8 x S/8`` feature map it used to flatten;
    fc2 and classifier become 1x1 convs. Sliding over a larger image gives one prediction per
    ``S x S`` window, windows 8 pixels apart.

    Shape:
        (B, C_in, H, W) -> (B, K, H // 8 - S // 8 + 1, W // 8 - S // 8 + 1), H, W >= S = image_size.
    """

    def __init__(self, classifier: TinyClassifier) -> None:
        super().__init__()
        self.in_channels, self.image_size = classifier.in_channels, classifier.image_size
        self.stage1 = copy.deepcopy(classifier.stage1)
        self.stage2 = copy.deepcopy(classifier.stage2)
        self.stage3 = copy.deepcopy(classifier.stage3)
        self.fc1 = _linear_to_conv(classifier.fc1, classifier.feature_channels, classifier.feature_size)
        self.fc2 = _linear_to_conv(classifier.fc2, classifier.fc2.in_features, 1)
        self.classifier = _linear_to_conv(classifier.classifier, classifier.classifier.in_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, in_channels=self.in_channels, min_size=self.image_size, model_name="ConvolutionalizedClassifier",
                    size_rule="fc1's kernel covers a whole training-size image", weight_dtype=parameter_dtype(self))
        x = self.stage1(x)  # (B, c, H/2, W/2)
        x = self.stage2(x)  # (B, 2c, H/4, W/4)
        x = self.stage3(x)  # (B, 4c, H/8, W/8)
        x = self.fc1(x)  # (B, hidden, h, w), h = H/8 - S/8 + 1
        x = F.relu(x)  # (B, hidden, h, w)
        x = self.fc2(x)  # (B, hidden, h, w)
        x = F.relu(x)  # (B, hidden, h, w)
        return self.classifier(x)  # (B, K, h, w)


def convolutionalize(classifier: TinyClassifier) -> ConvolutionalizedClassifier:
    """Turn a trained classifier into a coarse segmenter; at the training size the outputs are identical.

    Returns an independent copy: training one does not change the other.

    Example:
        >>> coarse = convolutionalize(TinyClassifier(3, 4, image_size=64))
        >>> coarse(torch.zeros(1, 3, 128, 96)).shape
        torch.Size([1, 4, 9, 5])
    """
    if not isinstance(classifier, TinyClassifier):
        raise TypeError(f"convolutionalize expects a TinyClassifier; got {type(classifier).__name__}")
    return ConvolutionalizedClassifier(classifier)
