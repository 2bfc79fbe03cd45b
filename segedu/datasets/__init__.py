"""Datasets of the course, all returning ``(image (C, H, W) float32, mask (H, W) int64)``.

Layer 2: may import only ``segedu.core``.

Offline (nothing to download):

* :class:`ShapesScenes`: procedural circles, squares and triangles on cluttered backgrounds.
* :class:`DigitScenes`: real handwritten digits composed into scenes (cached on first use).

Opt-in real photos (``download=True`` needs internet):

* :class:`VOCSegmentationPairs`, :class:`PetsSegmentationPairs`.

Plus paired transforms (:func:`training_transforms`) and class statistics
(:func:`class_frequencies`, :func:`summary_table`).
"""

from importlib import import_module
from typing import Any

from segedu.datasets.digits import DIGIT_CLASS_NAMES, DigitScenes
from segedu.datasets.shapes import SHAPE_CLASS_NAMES, ShapesScenes
from segedu.datasets.summary import class_frequencies, data_summary_text, datasets_ready, summary_table

# The photo adapters and transforms need torchvision (a second or more to import); they are
# loaded on first use so that lessons using only the offline scenes start faster.
_LAZY = {
    "PET_CLASS_NAMES": "segedu.datasets.photos",
    "VOC_CLASS_NAMES": "segedu.datasets.photos",
    "PetsSegmentationPairs": "segedu.datasets.photos",
    "VOCSegmentationPairs": "segedu.datasets.photos",
    "PairedTransform": "segedu.datasets.transforms",
    "WithPixelNoise": "segedu.datasets.transforms",
    "resize_transforms": "segedu.datasets.transforms",
    "training_transforms": "segedu.datasets.transforms",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'segedu.datasets' has no attribute {name!r}")

__all__ = [
    "DIGIT_CLASS_NAMES",
    "PET_CLASS_NAMES",
    "SHAPE_CLASS_NAMES",
    "VOC_CLASS_NAMES",
    "DigitScenes",
    "PairedTransform",
    "PetsSegmentationPairs",
    "ShapesScenes",
    "VOCSegmentationPairs",
    "WithPixelNoise",
    "class_frequencies",
    "data_summary_text",
    "datasets_ready",
    "resize_transforms",
    "summary_table",
    "training_transforms",
]
