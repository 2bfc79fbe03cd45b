"""Segmentation metrics, all computed from one confusion matrix.

The confusion matrix ``n`` counts pixels: ``n[i, j]`` is the number of pixels of true class
``i`` predicted as class ``j``. Rows are true classes, columns predicted classes, so

- ``n[i, i]`` are the correctly labelled pixels of class ``i``,
- ``t_i = sum_j n[i, j]`` (row sum) is how many pixels truly belong to class ``i``,
- ``sum_j n[j, i]`` (column sum) is how many pixels were predicted as class ``i``.

The four measures of the FCN paper (Long, Shelhamer & Darrell, CVPR 2015, section 5) follow:

- pixel accuracy          ``sum_i n_ii / sum_i t_i``
- mean accuracy           ``(1/n_cl) sum_i n_ii / t_i``
- mean IoU (IU)           ``(1/n_cl) sum_i n_ii / (t_i + sum_j n_ji - n_ii)``
- frequency weighted IoU  ``(sum_k t_k)^-1 sum_i t_i n_ii / (t_i + sum_j n_ji - n_ii)``

Absent classes. A class with ``t_i = 0`` has no accuracy (0/0 is NaN). A class absent from both
the target and the prediction has no IoU (NaN too); a class that is predicted but absent from
the target has IoU 0, a real mistake. Means use ``nanmean``: NaN classes are left out, so
``n_cl`` counts only the classes the measure is defined for. Frequency weighted IoU gives weight
``t_i = 0`` to absent classes, so they drop out as well. A matrix with no pixels at all gives NaN
for every measure.

Because every count simply adds up, accumulating the matrix batch by batch
(:class:`ConfusionMeter`) gives exactly the same numbers as computing it on all pixels at once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.core.encoding import check_labels

__all__ = [
    "confusion_matrix",
    "pixel_accuracy",
    "accuracy_per_class",
    "mean_accuracy",
    "iou_per_class",
    "mean_iou",
    "frequency_weighted_iou",
    "ConfusionMeter",
    "boundary_band",
]


def confusion_matrix(
    pred: Tensor,
    target: Tensor,
    num_classes: int,
    ignore_index: int | None = None,
    valid_mask: Tensor | None = None,
) -> Tensor:
    """Count pixels by (true class, predicted class).

    Args:
        pred: Predicted class indices (use :func:`segedu.core.encoding.to_labels` on logits).
        target: True class indices, or ``ignore_index`` for unlabelled pixels.
        num_classes: Number of classes ``K``.
        ignore_index: Target value to skip, or ``None`` (then every target pixel must be a class).
            ``pred`` is checked only where the target is labelled; at ignored pixels it may hold
            anything, e.g. ``ignore_index`` itself.
        valid_mask: Optional bool mask; only pixels where it is ``True`` are counted, e.g. a
            :func:`boundary_band` to score the pixels near object boundaries.

    Returns:
        int64 tensor ``n`` with ``n[i, j]`` = number of counted pixels of true class ``i``
        predicted as ``j``, on the device of ``target``.

    Shape:
        - pred, target, valid_mask: ``(B, H, W)`` or ``(H, W)``, all the same.
        - output: ``(K, K)``.
    """
    if isinstance(pred, Tensor) and isinstance(target, Tensor) and pred.ndim == target.ndim + 1:
        raise ValueError(
            f"pred has shape {tuple(pred.shape)}, one more axis than target {tuple(target.shape)}: "
            "it looks like per-class scores. Convert them with segedu.core.encoding.to_labels(pred) first."
        )
    check_labels(target, num_classes, ignore_index, name="target")
    if not isinstance(pred, Tensor):
        raise ValueError(f"pred must be a torch.Tensor; got {type(pred).__name__}")
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape; got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    counted = torch.ones_like(target, dtype=torch.bool)  # (B, H, W)
    if ignore_index is not None:
        counted = target != ignore_index
    # Only labelled pixels are checked: any prediction at an ignored pixel is never counted.
    check_labels(pred.to(target.device)[counted], num_classes, ignore_index=None, name="pred")
    if valid_mask is not None:
        if valid_mask.dtype != torch.bool or valid_mask.shape != target.shape:
            raise ValueError(
                f"valid_mask must be a bool tensor shaped like target {tuple(target.shape)}; "
                f"got dtype {valid_mask.dtype}, shape {tuple(valid_mask.shape)}"
            )
        counted = counted & valid_mask.to(counted.device)
    true_class = target[counted].long()  # (N,) one entry per counted pixel
    predicted = pred.to(target.device)[counted].long()  # (N,)
    # Each (true, predicted) pair gets its own bin: row-major index into a K x K grid.
    pair_index = true_class * num_classes + predicted  # (N,)
    counts = torch.bincount(pair_index, minlength=num_classes * num_classes)  # (K*K,)
    return counts.reshape(num_classes, num_classes)  # (K, K)


def pixel_accuracy(matrix: Tensor) -> float:
    """Fraction of counted pixels labelled correctly: ``sum_i n_ii / sum_i t_i``.

    Shape:
        - matrix: ``(K, K)`` confusion matrix (rows = true class).
    """
    matrix = _as_float_matrix(matrix)
    return float(matrix.diagonal().sum() / matrix.sum())


def accuracy_per_class(matrix: Tensor) -> Tensor:
    """Recall of each class, ``n_ii / t_i``; NaN for classes absent from the target.

    Returns:
        float64 tensor of per-class accuracies.

    Shape:
        - matrix: ``(K, K)``.
        - output: ``(K,)``.
    """
    matrix = _as_float_matrix(matrix)
    return matrix.diagonal() / matrix.sum(dim=1)  # 0/0 -> NaN for absent classes


def mean_accuracy(matrix: Tensor) -> float:
    """Mean of :func:`accuracy_per_class`, skipping classes absent from the target (NaN).

    Shape:
        - matrix: ``(K, K)``.
    """
    return float(accuracy_per_class(matrix).nanmean())


def iou_per_class(matrix: Tensor) -> Tensor:
    """Intersection over union of each class: ``n_ii / (t_i + sum_j n_ji - n_ii)``.

    NaN for a class absent from both target and prediction (empty union); 0 for a class that
    is predicted but never present.

    Returns:
        float64 tensor of per-class IoU.

    Shape:
        - matrix: ``(K, K)``.
        - output: ``(K,)``.
    """
    matrix = _as_float_matrix(matrix)
    intersection = matrix.diagonal()  # (K,) n_ii
    union = matrix.sum(dim=1) + matrix.sum(dim=0) - intersection  # (K,) t_i + predicted_i - n_ii
    return intersection / union  # 0/0 -> NaN for classes nobody saw


def mean_iou(matrix: Tensor) -> float:
    """Mean of :func:`iou_per_class` over classes where it is defined (``nanmean``).

    Shape:
        - matrix: ``(K, K)``.
    """
    return float(iou_per_class(matrix).nanmean())


def frequency_weighted_iou(matrix: Tensor) -> float:
    """Per-class IoU weighted by how often each class occurs in the target.

    ``(sum_k t_k)^-1 sum_i t_i IoU_i``; classes with ``t_i = 0`` get weight 0 and are skipped.

    Shape:
        - matrix: ``(K, K)``.
    """
    matrix = _as_float_matrix(matrix)
    frequency = matrix.sum(dim=1)  # (K,) t_i
    present = frequency > 0  # absent classes: weight 0, and their IoU may be NaN
    weighted = (frequency[present] * iou_per_class(matrix)[present]).sum()
    return float(weighted / frequency.sum())


class ConfusionMeter:
    """Accumulate a confusion matrix over batches, then report every measure at once.

    Args:
        num_classes: Number of classes ``K``.
        ignore_index: Target value to skip, or ``None``.

    Example:
        >>> meter = ConfusionMeter(num_classes=3, ignore_index=255)
        >>> for images, masks in loader:                                   # doctest: +SKIP
        ...     meter.update(to_labels(model(images)), masks)
        >>> meter.compute()["mean_iou"]                                    # doctest: +SKIP
    """

    def __init__(self, num_classes: int, ignore_index: int | None = None) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int; got {num_classes!r}")
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self._matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)

    def update(self, pred: Tensor, target: Tensor, valid_mask: Tensor | None = None) -> None:
        """Add one batch; arguments as in :func:`confusion_matrix`.

        Shape:
            - pred, target, valid_mask: ``(B, H, W)`` or ``(H, W)``.
        """
        batch = confusion_matrix(pred, target, self.num_classes, self.ignore_index, valid_mask)
        self._matrix += batch.cpu()

    @property
    def matrix(self) -> Tensor:
        """A copy of the accumulated ``(K, K)`` int64 matrix (rows = true class)."""
        return self._matrix.clone()

    def compute(self) -> dict[str, float | list[float]]:
        """All measures as plain Python numbers (ready for JSON).

        Returns:
            Dict with ``pixel_accuracy``, ``mean_accuracy``, ``mean_iou``,
            ``frequency_weighted_iou`` (floats) and ``iou_per_class`` (list of ``K`` floats,
            NaN where undefined).
        """
        return {
            "pixel_accuracy": pixel_accuracy(self._matrix),
            "mean_accuracy": mean_accuracy(self._matrix),
            "mean_iou": mean_iou(self._matrix),
            "frequency_weighted_iou": frequency_weighted_iou(self._matrix),
            "iou_per_class": iou_per_class(self._matrix).tolist(),
        }

    def reset(self) -> None:
        """Forget everything counted so far."""
        self._matrix.zero_()

    def __repr__(self) -> str:
        pixels = int(self._matrix.sum())
        return (
            f"ConfusionMeter(num_classes={self.num_classes}, ignore_index={self.ignore_index}, "
            f"pixels={pixels})"
        )


def boundary_band(target: Tensor, width: int) -> Tensor:
    """Mark the pixels within ``width`` pixels of a class boundary.

    A pixel is in the band when some pixel at Chebyshev distance at most ``width`` (a square
    window of side ``2 * width + 1`` centred on it) has a different label. Both sides of every
    boundary are marked. Inside a window all labels agree exactly when the window's maximum
    equals its minimum, so the band is two max-pools. The image border is not a boundary.
    ``ignore_index`` pixels count as a label of their own; metrics skip them anyway.

    Args:
        target: Integer mask.
        width: Band half-width in pixels, at least 1.

    Returns:
        Bool mask, ``True`` near boundaries; ``~band`` marks the interiors.

    Shape:
        - target: ``(B, H, W)`` or ``(H, W)``.
        - output: same as ``target``.
    """
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be an int >= 1; got {width!r}")
    if target.ndim not in (2, 3) or target.is_floating_point():
        raise ValueError(
            f"target must be an integer mask of shape (B, H, W) or (H, W); "
            f"got dtype {target.dtype}, shape {tuple(target.shape)}"
        )
    batched = target if target.ndim == 3 else target.unsqueeze(0)  # (B, H, W)
    values = batched.unsqueeze(1).float()  # (B, 1, H, W); float32 holds labels < 2**24 exactly
    window = 2 * width + 1
    largest = F.max_pool2d(values, window, stride=1, padding=width)  # (B, 1, H, W)
    smallest = -F.max_pool2d(-values, window, stride=1, padding=width)  # (B, 1, H, W)
    band = (largest != smallest).squeeze(1)  # (B, H, W)
    return band if target.ndim == 3 else band.squeeze(0)


def _as_float_matrix(matrix: Tensor) -> Tensor:
    """Check a confusion matrix and return it as float64 (so 0/0 gives NaN, not an error)."""
    if not isinstance(matrix, Tensor) or matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        shape = tuple(matrix.shape) if isinstance(matrix, Tensor) else type(matrix).__name__
        raise ValueError(f"expected a square (K, K) confusion matrix; got {shape}")
    if bool((matrix < 0).any()):
        raise ValueError("a confusion matrix counts pixels, so it cannot hold negative entries")
    return matrix.detach().cpu().double()  # K x K numbers: the CPU is the simplest place
