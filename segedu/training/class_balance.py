"""Class weights against class imbalance: inverse-frequency and median-frequency balancing.

On the digit scenes most pixels are background, so a per-pixel loss is mostly about background. A
weighted cross-entropy (:func:`segedu.training.losses.pixel_cross_entropy` with ``class_weights``)
multiplies each pixel's term by the weight of its true class. Two classic choices:

- **inverse frequency**: ``w_c = 1 / f_c`` with ``f_c`` the share of all labelled pixels that belong
  to class ``c``, so every class carries the same total weight;
- **median-frequency balancing** (Eigen & Fergus, ICCV 2015; used by SegNet, Badrinarayanan et al.,
  TPAMI 2017): ``w_c = median_freq / freq(c)``, where ``freq(c)`` is the number of pixels of class
  ``c`` divided by the total number of pixels *in the images where* ``c`` *is present*, and
  ``median_freq`` is the median of those frequencies over the classes.

The weighted cross-entropy divides by the sum of the weights of its pixels, so multiplying all
weights by one number changes nothing; only their ratios matter. With ``freq`` counted over all
images, median-frequency weights would be the inverse-frequency weights times a constant; counting
only the images where a class is present is what makes them differ (a class present in few images
gets a smaller weight than its inverse pixel share).

Example:
    >>> masks = torch.tensor([[[0, 0], [0, 1]], [[0, 0], [0, 0]]])
    >>> inverse_frequency_weights(masks, 2)
    tensor([0.5714, 4.0000])
"""

from __future__ import annotations

import torch
from torch import Tensor

from segedu.core.encoding import IGNORE_INDEX, check_labels

__all__ = ["class_pixel_counts", "inverse_frequency_weights", "median_frequency_weights"]


def class_pixel_counts(
    masks: Tensor, num_classes: int, *, ignore_index: int | None = IGNORE_INDEX
) -> tuple[Tensor, Tensor]:
    """Pixels of each class, and the labelled pixels of the images where each class is present.

    Args:
        masks: Integer masks; ``ignore_index`` pixels are not counted.
        num_classes: Number of classes ``K``.
        ignore_index: Value marking unlabelled pixels, or ``None``.

    Returns:
        ``(class_pixels, present_image_pixels)``, both float64 ``(K,)``: how many labelled pixels
        belong to class ``c``, and how many labelled pixels the images containing ``c`` hold in all.

    Shape:
        - masks: ``(N, H, W)``.
    """
    if not isinstance(masks, Tensor) or masks.ndim != 3 or masks.is_floating_point():
        shape = tuple(masks.shape) if isinstance(masks, Tensor) else type(masks).__name__
        raise ValueError(f"masks must be an integer tensor of shape (N, H, W); got {shape}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int; got {num_classes!r}")
    check_labels(masks, num_classes, ignore_index, name="masks")
    flat = masks.reshape(masks.shape[0], -1).long()  # (N, H*W)
    labelled = flat != ignore_index if ignore_index is not None else torch.ones_like(flat, dtype=torch.bool)
    per_image = torch.zeros(flat.shape[0], num_classes, dtype=torch.float64)  # (N, K)
    per_image.scatter_add_(1, flat.where(labelled, 0), labelled.double())
    image_pixels = labelled.double().sum(dim=1, keepdim=True)  # (N, 1)
    class_pixels = per_image.sum(dim=0)  # (K,)
    present_image_pixels = ((per_image > 0).double() * image_pixels).sum(dim=0)  # (K,)
    return class_pixels, present_image_pixels


def inverse_frequency_weights(
    masks: Tensor, num_classes: int, *, ignore_index: int | None = IGNORE_INDEX
) -> Tensor:
    """``w_c = 1 / f_c``, scaled so that the average labelled pixel has weight 1.

    ``f_c`` is class ``c``'s share of all labelled pixels. After scaling, ``sum_c f_c w_c = 1`` and
    ``f_c w_c = 1 / K'`` for each of the ``K'`` present classes: every class carries the same total
    weight. A class absent from ``masks`` gets weight 0 (it contributes no pixel anyway).

    Args:
        masks: Integer training masks.
        num_classes: Number of classes ``K``.
        ignore_index: Value marking unlabelled pixels, or ``None``.

    Returns:
        Float32 weights ``(K,)``.

    Shape:
        - masks: ``(N, H, W)``.
    """
    class_pixels, _ = class_pixel_counts(masks, num_classes, ignore_index=ignore_index)
    present = class_pixels > 0
    if not bool(present.any()):
        raise ValueError("masks hold no labelled pixel, so class frequencies are undefined")
    frequencies = class_pixels / class_pixels.sum()  # (K,)
    weights = torch.zeros(num_classes, dtype=torch.float64)
    weights[present] = 1.0 / (frequencies[present] * int(present.sum()))
    return weights.float()


def median_frequency_weights(
    masks: Tensor, num_classes: int, *, ignore_index: int | None = IGNORE_INDEX
) -> Tensor:
    """Median-frequency balancing: ``w_c = median_freq / freq(c)`` (Eigen & Fergus 2015; SegNet).

    ``freq(c)`` counts class ``c``'s pixels over the labelled pixels of the images where ``c`` is
    present; ``median_freq`` is the median of ``freq`` over the present classes (for an even number
    of classes the lower middle value, as ``torch.median`` gives). A class absent from ``masks``
    gets weight 0.

    Args:
        masks: Integer training masks.
        num_classes: Number of classes ``K``.
        ignore_index: Value marking unlabelled pixels, or ``None``.

    Returns:
        Float32 weights ``(K,)``; the class at the median frequency has weight 1.

    Shape:
        - masks: ``(N, H, W)``.
    """
    class_pixels, present_image_pixels = class_pixel_counts(masks, num_classes, ignore_index=ignore_index)
    present = class_pixels > 0
    if not bool(present.any()):
        raise ValueError("masks hold no labelled pixel, so class frequencies are undefined")
    frequencies = class_pixels[present] / present_image_pixels[present]  # (K',)
    weights = torch.zeros(num_classes, dtype=torch.float64)
    weights[present] = frequencies.median() / frequencies
    return weights.float()
