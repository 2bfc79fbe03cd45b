"""Real photographs, opt-in: Pascal VOC 2012 and Oxford-IIIT Pets in the course's contract.

These wrap torchvision's dataset classes and return the same ``(image, mask)`` pairs as the
offline scenes: image (3, H, W) float32 in [0, 1], mask (H, W) int64 with 255 = ignore.
Nothing is downloaded unless you pass ``download=True`` (needs internet; VOC is about 2 GB,
Pets about 800 MB). Photos have different sizes; pass ``size=`` to batch them.

Example:
    >>> voc = VOCSegmentationPairs("~/datasets", download=True, size=256)  # doctest: +SKIP
    >>> image, mask = voc[0]                                              # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms.v2 import functional as TF

from segedu.datasets._common import IGNORE_INDEX, PairTransform, check_index, check_transform
from segedu.datasets.transforms import resize_transforms
from segedu.core.paths import ensure_writable

__all__ = ["PET_CLASS_NAMES", "VOC_CLASS_NAMES", "PetsSegmentationPairs", "VOCSegmentationPairs"]

VOC_CLASS_NAMES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip
PET_CLASS_NAMES = ("background", "pet")

# Pets trimaps store 1 = pet, 2 = background, 3 = the uncertain border around the pet.
# We keep the course's convention (background = 0) and ignore the border, like VOC does.
_TRIMAP_TO_CLASS = np.full(256, IGNORE_INDEX, dtype=np.int64)
_TRIMAP_TO_CLASS[1] = 1
_TRIMAP_TO_CLASS[2] = 0


def _image_tensor(picture: Image.Image) -> torch.Tensor:
    """PIL RGB picture -> (3, H, W) float32 in [0, 1]."""
    return TF.to_dtype(TF.pil_to_tensor(picture.convert("RGB")), torch.float32, scale=True)


def _open(factory: Callable[[], Dataset], root: Path, download: bool, name: str, hint: str) -> Dataset:
    """Build a torchvision dataset, turning "not found" into an error that says what to do."""
    if download:
        ensure_writable(root)
    try:
        return factory()
    except (RuntimeError, FileNotFoundError) as error:
        raise FileNotFoundError(
            f"{name} was not found under {root} ({error}). Pass download=True to fetch it "
            f"(opt-in: needs internet, {hint}), or point root= at an existing copy."
        ) from error


class _PhotoPairs(Dataset):
    """Shared ``__getitem__``: convert, map labels, resize, then the user's transform."""

    channels = 3

    def __init__(self, size: int | tuple[int, int] | None, transform: PairTransform | None) -> None:
        check_transform(transform)
        self.resize = resize_transforms(size) if size is not None else None
        self.transform = transform

    def _labels(self, target: Image.Image) -> torch.Tensor:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        picture, target = self.photos[check_index(index, len(self))]
        image, mask = _image_tensor(picture), self._labels(target)
        if self.resize is not None:
            image, mask = self.resize(image, mask)
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        return image, mask


class VOCSegmentationPairs(_PhotoPairs):
    """Pascal VOC semantic segmentation: 21 classes (background + 20 objects).

    VOC marks object outlines and "difficult" regions with 255; they stay 255 (ignored).

    Args:
        root: Folder that holds (or will hold) ``VOCdevkit/VOC2012``.
        year: "2007" to "2012" (an int such as 2012 is accepted too).
        image_set: "train", "val" or "trainval".
        download: Fetch the archive if missing (opt-in; needs internet, about 2 GB).
        size: Resize every pair to (height, width) or a square; None keeps the photo's size.
        transform: Optional paired transform applied after resizing.
    """

    num_classes = len(VOC_CLASS_NAMES)
    class_names = VOC_CLASS_NAMES

    def __init__(
        self,
        root: str | os.PathLike[str],
        year: str | int = "2012",
        image_set: str = "train",
        *,
        download: bool = False,
        size: int | tuple[int, int] | None = None,
        transform: PairTransform | None = None,
    ) -> None:
        from torchvision.datasets import VOCSegmentation

        super().__init__(size, transform)
        root = Path(root).expanduser()
        year = str(year) if isinstance(year, int) and not isinstance(year, bool) else year  # 2012 means "2012"
        self.photos = _open(
            lambda: VOCSegmentation(root, year=year, image_set=image_set, download=download),
            root,
            download,
            f"Pascal VOC {year} ({image_set})",
            "about 2 GB",
        )

    def _labels(self, target: Image.Image) -> torch.Tensor:
        return torch.from_numpy(np.array(target, dtype=np.int64))  # palette indices are the classes


class PetsSegmentationPairs(_PhotoPairs):
    """Oxford-IIIT Pets as two classes: background (0) and pet (1).

    The trimap's third value, the thin uncertain border around each pet, becomes 255
    (ignored): it is neither clearly pet nor clearly background.

    Args:
        root: Folder that holds (or will hold) ``oxford-iiit-pet``.
        split: "trainval" or "test".
        download: Fetch the archives if missing (opt-in; needs internet, about 800 MB).
        size: Resize every pair to (height, width) or a square; None keeps the photo's size.
        transform: Optional paired transform applied after resizing.
    """

    num_classes = len(PET_CLASS_NAMES)
    class_names = PET_CLASS_NAMES

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "trainval",
        *,
        download: bool = False,
        size: int | tuple[int, int] | None = None,
        transform: PairTransform | None = None,
    ) -> None:
        from torchvision.datasets import OxfordIIITPet

        super().__init__(size, transform)
        root = Path(root).expanduser()
        self.photos = _open(
            lambda: OxfordIIITPet(root, split=split, target_types="segmentation", download=download),
            root,
            download,
            f"Oxford-IIIT Pets ({split})",
            "about 800 MB",
        )

    def _labels(self, target: Image.Image) -> torch.Tensor:
        return torch.from_numpy(_TRIMAP_TO_CLASS[np.array(target)])
