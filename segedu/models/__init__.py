"""Segmentation models built from first principles, from a classifier to FCN, SegNet, U-Net and DeepLabv3.

Layer 3: torch only; a model file imports nothing of segedu but ``segedu.models`` blocks.

Every segmentation model maps a float batch ``(B, C_in, H, W)`` (C_in = 1 or 3) to logits
``(B, num_classes, H, W)`` for any H, W at or above its documented minimum; no softmax inside.
"""

from segedu.models.convolutionalized import ConvolutionalizedClassifier, convolutionalize
from segedu.models.deeplab import DeepLabV3
from segedu.models.fcn import FCN, BilinearUpsample
from segedu.models.full_resolution import FullResolutionNet
from segedu.models.registry import get_model, list_models
from segedu.models.segnet import SegNet
from segedu.models.tiny_classifier import TinyClassifier
from segedu.models.unet import UNet

__all__ = [
    "FCN",
    "BilinearUpsample",
    "ConvolutionalizedClassifier",
    "DeepLabV3",
    "FullResolutionNet",
    "SegNet",
    "TinyClassifier",
    "UNet",
    "convolutionalize",
    "get_model",
    "list_models",
]
