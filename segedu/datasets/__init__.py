"""Datasets of the course, all returning ``(image (C, H, W) float32, mask (H, W) int64)``.

Offline (nothing to download):

* :class:`ShapesScenes`: procedural circles, squares and triangles on cluttered backgrounds.
* :class:`DigitScenes`: real handwritten digits composed into scenes (cached on first use).

Opt-in real photos (``download=True`` needs internet):

* :class:`VOCSegmentationPairs`, :class:`PetsSegmentationPairs`.

Plus paired transforms (:func:`training_transforms`) and class statistics
(:func:`class_frequencies`, :func:`summary_table`).
"""

from segedu.datasets.digits import DIGIT_CLASS_NAMES, DigitScenes
from segedu.datasets.photos import (
    PET_CLASS_NAMES,
    VOC_CLASS_NAMES,
    PetsSegmentationPairs,
    VOCSegmentationPairs,
)
from segedu.datasets.shapes import SHAPE_CLASS_NAMES, ShapesScenes
from segedu.datasets.summary import class_frequencies, data_summary_text, datasets_ready, summary_table
from segedu.datasets.transforms import PairedTransform, resize_transforms, training_transforms

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
    "class_frequencies",
    "data_summary_text",
    "datasets_ready",
    "resize_transforms",
    "summary_table",
    "training_transforms",
]
