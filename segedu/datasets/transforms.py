"""Paired transforms: change an image and its mask together, never interpolating the mask.

A mask holds class *indices*. Blending two neighbouring labels (say 1 = circle and 3 =
triangle) would invent label 2 = square at the border, so masks must be resized with
nearest-neighbour sampling and padded with the ignore index 255. torchvision's
``transforms.v2`` does this automatically once the mask is wrapped as ``tv_tensors.Mask``;
:class:`PairedTransform` does the wrapping, so datasets can keep plain tensors.

Which nearest neighbour matters too. torchvision resizes a mask with PyTorch's legacy ``nearest``
mode, which reads source pixel ``floor(i * scale)`` and so shifts the mask by up to half a pixel
against a bilinearly resized image (pytorch/pytorch#34808); on 2-pixel-wide strokes that moves a
large share of the labels off their pixels. The resizing steps here sample the mask at pixel
centres (``nearest-exact``), the same grid the image's bilinear resize uses.

Example:
    >>> augment = training_transforms(64)
    >>> image, mask = augment(torch.rand(3, 64, 64), torch.zeros(64, 64, dtype=torch.long))
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from segedu.datasets._common import IGNORE_INDEX

__all__ = ["AlignedResize", "AlignedScaleJitter", "PairedTransform", "WithPixelNoise", "resize_transforms",
           "training_transforms"]


def _resize_mask(mask: tv_tensors.Mask, size: Sequence[int]) -> tv_tensors.Mask:
    """``mask`` ``(..., H, W)`` resized to ``size`` (height, width) with ``nearest-exact``.

    Each output pixel takes the label of the source pixel under its centre, the grid that the image's
    bilinear resize uses. Written with PyTorch rather than torchvision's mask kernel: torchvision 0.26's
    kernel ignores the interpolation it is given and always uses legacy ``nearest`` (0.29's honours it),
    which would bring the half-pixel shift back without a word.
    """
    height, width = mask.shape[-2:]
    labels = mask.reshape(1, -1, height, width).float()  # (1, L, H, W); labels up to 255 are exact in float32
    resized = torch.nn.functional.interpolate(labels, size=tuple(size), mode="nearest-exact")  # (1, L, h, w)
    return tv_tensors.wrap(resized.to(mask.dtype).reshape(*mask.shape[:-2], *size), like=mask)


class AlignedScaleJitter(v2.ScaleJitter):
    """``v2.ScaleJitter`` whose mask stays on its image's pixel grid (``nearest-exact``, not legacy ``nearest``)."""

    def transform(self, inpt: object, params: dict[str, object]) -> object:
        if isinstance(inpt, tv_tensors.Mask):
            return _resize_mask(inpt, params["size"])
        return super().transform(inpt, params)


class AlignedResize(v2.Resize):
    """``v2.Resize`` to a (height, width) pair whose mask stays on its image's pixel grid (``nearest-exact``).

    Raises:
        ValueError: ``size`` is not a (height, width) pair.
    """

    def __init__(self, size: Sequence[int], **kwargs: object) -> None:
        if not isinstance(size, (list, tuple)) or len(size) != 2:
            raise ValueError(f"AlignedResize needs a (height, width) pair, e.g. (64, 64); got {size!r}")
        super().__init__(list(size), **kwargs)

    def transform(self, inpt: object, params: dict[str, object]) -> object:
        if isinstance(inpt, tv_tensors.Mask):
            return _resize_mask(inpt, self.size)
        return super().transform(inpt, params)


class WithPixelNoise:
    """Run a paired transform, then put pixel noise on the image as the scene generators draw it.

    Zooming and warping resample the image bilinearly, which smooths the generators' pixel noise away;
    this puts noise of the same kind back. Each call draws a standard deviation uniform in ``[0, up_to]``
    from PyTorch's global generator, adds Gaussian noise of that size to every pixel and clips to
    ``[0, 1]``. The mask is returned as the transform left it.

    Args:
        transform: A paired transform ``(image, mask) -> (image, mask)``, e.g. :func:`training_transforms`.
        up_to: The largest standard deviation, ``>= 0`` (the digit and shape scenes draw up to 0.05).

    Raises:
        ValueError: ``up_to`` is negative, not finite or not a number.
    """

    def __init__(self, transform: PairedTransform, up_to: float = 0.05) -> None:
        if not callable(transform):
            raise TypeError(f"transform must be a paired transform (image, mask) -> (image, mask); "
                            f"got {type(transform).__name__}")
        if isinstance(up_to, bool) or not isinstance(up_to, (int, float)) or not 0 <= up_to < float("inf"):
            raise ValueError(f"up_to must be a number >= 0, the largest noise standard deviation, e.g. 0.05; got {up_to!r}")
        self.transform, self.up_to = transform, float(up_to)

    def __call__(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        image, mask = self.transform(image, mask)
        spread = float(torch.rand(())) * self.up_to
        return (image + spread * torch.randn_like(image)).clamp(0.0, 1.0), mask

    def __repr__(self) -> str:
        return f"WithPixelNoise({self.transform!r}, up_to={self.up_to:g})"


def _pair_size(size: int | tuple[int, int]) -> tuple[int, int]:
    """``64 -> (64, 64)``; ``(48, 64)`` stays (height, width).

    Raises:
        ValueError: ``size`` is not one positive int or a (height, width) pair of positive ints.
    """
    rule = "size must be a positive int or a (height, width) pair of positive ints, e.g. 64 or (48, 64)"
    if isinstance(size, (list, tuple)):
        if len(size) != 2:
            raise ValueError(f"{rule}; got {size!r} with {len(size)} value{'' if len(size) == 1 else 's'}")
        sides = tuple(size)
    else:
        sides = (size, size)
    try:
        height, width = (operator.index(side) for side in sides)  # rejects floats and strings
    except TypeError:
        raise ValueError(f"{rule}; got {size!r}") from None
    if any(isinstance(side, bool) for side in sides) or height < 1 or width < 1:
        raise ValueError(f"{rule}; got {size!r}")
    return height, width


def _check_scale(scale: tuple[float, float]) -> tuple[float, float]:
    """Return ``scale`` as ``(low, high)`` floats with ``0 < low <= high``."""
    rule = "scale must be a (low, high) pair of numbers with 0 < low <= high, e.g. (0.75, 1.25)"
    if not isinstance(scale, (list, tuple)) or len(scale) != 2:
        raise ValueError(f"{rule}; got {scale!r}")
    try:
        low, high = (float(value) for value in scale)
    except (TypeError, ValueError):
        raise ValueError(f"{rule}; got {scale!r}") from None
    if not 0 < low <= high or high == float("inf"):
        raise ValueError(f"{rule}; got {scale!r}")
    return low, high


def _check_elastic(elastic: tuple[float, float]) -> tuple[float, float]:
    """Return ``elastic`` as ``(alpha, sigma)`` floats with ``alpha >= 0`` and ``sigma > 0``."""
    rule = "elastic must be None or an (alpha, sigma) pair with alpha >= 0 and sigma > 0, e.g. (20.0, 4.0)"
    if not isinstance(elastic, (list, tuple)) or len(elastic) != 2 or any(isinstance(v, bool) for v in elastic):
        raise ValueError(f"{rule}; got {elastic!r}")
    try:
        alpha, sigma = (float(value) for value in elastic)
    except (TypeError, ValueError):
        raise ValueError(f"{rule}; got {elastic!r}") from None
    if not (0 <= alpha < float("inf") and 0 < sigma < float("inf")):
        raise ValueError(f"{rule}; got {elastic!r}")
    return alpha, sigma


class PairedTransform:
    """Apply one torchvision v2 transform to an ``(image, mask)`` pair of plain tensors.

    The same random parameters (scale, crop position, flip) are used for both; the image is
    interpolated bilinearly, the mask by nearest neighbour, padding fills the mask with 255.

    Args:
        transform: A ``torchvision.transforms.v2`` transform (often a ``v2.Compose``).

    Shape:
        image (C, H, W), mask (H, W) -> image (C, H', W'), mask (H', W'); dtypes unchanged.
    """

    def __init__(self, transform: v2.Transform) -> None:
        if not callable(transform):
            raise TypeError(
                f"transform must be a callable torchvision.transforms.v2 transform, e.g. v2.RandomHorizontalFlip(); "
                f"got {type(transform).__name__}"
            )
        self.transform = transform

    def __call__(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for name, value in (("image", image), ("mask", mask)):
            if not isinstance(value, torch.Tensor):
                raise TypeError(
                    f"{name} must be a torch.Tensor; got {type(value).__name__}. Convert it first, "
                    "e.g. torch.as_tensor(array) (images as (C, H, W) float, masks as (H, W) int64)"
                )
        if image.ndim != 3 or mask.ndim != 2 or image.shape[-2:] != mask.shape:
            raise ValueError(
                f"expected image (C, H, W) and mask (H, W) of the same size; "
                f"got {tuple(image.shape)} and {tuple(mask.shape)}"
            )
        image, mask = self.transform(tv_tensors.Image(image), tv_tensors.Mask(mask))
        # Unwrap: the rest of the course works with plain tensors.
        return image.as_subclass(torch.Tensor), mask.as_subclass(torch.Tensor)

    def __repr__(self) -> str:
        return f"PairedTransform({self.transform})"


def training_transforms(
    size: int | tuple[int, int],
    scale: tuple[float, float] = (0.75, 1.25),
    flip: bool = True,
    *,
    elastic: tuple[float, float] | None = None,
) -> PairedTransform:
    """Random scale, random crop (or pad) to ``size``, random horizontal flip, optional elastic warp.

    Args:
        size: Output (height, width), or one int for a square.
        scale: Range of the random zoom, relative to ``size``: the image is resized to fit
            ``size * s`` with ``s`` uniform in ``scale``. Below 1 the crop needs padding:
            image pixels become 0 and mask pixels become 255 (ignored by losses/metrics).
        flip: Mirror left-right with probability 1/2.
        elastic: ``(alpha, sigma)`` to add torchvision's ``v2.ElasticTransform`` last: every pixel is
            moved by a random field (uniform in [-1, 1] per pixel, smoothed by a Gaussian of standard
            deviation ``sigma`` pixels, scaled by ``alpha / 2`` pixels: torchvision's convention, where
            Simard et al. (2003) scale by ``alpha``); the mask follows by nearest neighbour and pixels
            pulled in from outside the image become 255. ``None`` (default): no warp. The U-Net paper
            instead draws displacements on a coarse 3x3 grid (10 pixels standard deviation) and
            interpolates them bicubically.

    Returns:
        A paired transform ``(image, mask) -> (image, mask)``.

    Raises:
        ValueError: If ``elastic`` is not a pair of numbers ``alpha >= 0``, ``sigma > 0``.
    """
    height, width = _pair_size(size)
    low, high = _check_scale(scale)
    warp = None if elastic is None else _check_elastic(elastic)
    steps = [
        AlignedScaleJitter(target_size=(height, width), scale_range=(low, high), antialias=True),
        v2.RandomCrop(
            (height, width),
            pad_if_needed=True,
            fill={tv_tensors.Image: 0.0, tv_tensors.Mask: IGNORE_INDEX},
        ),
    ]
    if flip:
        steps.append(v2.RandomHorizontalFlip(p=0.5))
    if warp is not None:
        alpha, sigma = warp
        steps.append(v2.ElasticTransform(alpha=alpha, sigma=sigma,
                                         fill={tv_tensors.Image: 0.0, tv_tensors.Mask: IGNORE_INDEX}))
    return PairedTransform(v2.Compose(steps))


def resize_transforms(size: int | tuple[int, int]) -> PairedTransform:
    """Resize to exactly ``size`` (image bilinear, mask nearest-exact: on the image's pixel grid); no randomness.

    Args:
        size: Output (height, width), or one int for a square.
    """
    return PairedTransform(AlignedResize(_pair_size(size), antialias=True))
