"""Label encodings: integer masks, one-hot tensors and per-class scores.

A segmentation mask stores one integer per pixel: the class index in ``[0, num_classes)``,
or ``IGNORE_INDEX`` for pixels that carry no label (object borders in VOC, padding).
Networks output one score per class per pixel instead. This module converts between the two
and checks masks early, so a bad label fails here with a readable message rather than deep
inside a loss function or a CUDA kernel.

Example:
    >>> labels = torch.tensor([[0, 2], [1, IGNORE_INDEX]])
    >>> one_hot(labels, num_classes=3).shape
    torch.Size([3, 2, 2])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["IGNORE_INDEX", "check_labels", "one_hot", "to_labels"]

IGNORE_INDEX = 255
"""Mask value for pixels without a label; losses and metrics skip them (VOC's convention)."""

# How many distinct bad values an error message lists before it stops.
_MAX_VALUES_SHOWN = 5


def check_labels(
    labels: Tensor, num_classes: int, ignore_index: int | None = IGNORE_INDEX, *, name: str = "labels"
) -> None:
    """Raise ``ValueError`` unless every label is a class index or ``ignore_index``.

    Args:
        labels: Integer tensor of class indices, any shape (numpy arrays and nested lists are
            converted with ``torch.as_tensor``).
        num_classes: Number of classes ``K``; valid labels are ``0 .. K-1``.
        ignore_index: One extra allowed value for unlabelled pixels, or ``None`` to allow none.
        name: What to call ``labels`` in error messages, e.g. ``"target"`` or ``"pred"``.

    Raises:
        TypeError: If ``labels`` cannot be converted to a tensor.
        ValueError: If ``labels`` is not an integer tensor, or holds values outside
            ``[0, num_classes)`` other than ``ignore_index``. The message lists the bad
            values with their pixel counts, most frequent first.

    Shape:
        - labels: any, typically ``(B, H, W)`` or ``(H, W)``.
    """
    labels = _as_tensor(labels, name, "integer class indices")
    if labels.dtype == torch.bool or labels.is_floating_point() or labels.is_complex():
        raise ValueError(
            f"{name} must be an integer tensor (e.g. torch.int64); got dtype {labels.dtype}. "
            "If these are per-class scores, convert them with segedu.core.encoding.to_labels first."
        )
    _check_num_classes(num_classes)
    if ignore_index is not None and 0 <= ignore_index < num_classes:
        raise ValueError(
            f"ignore_index={ignore_index} is also a class index in [0, {num_classes}); "
            f"choose a value outside that range, such as {IGNORE_INDEX}"
        )
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if not bool(bad.any()):
        return
    values, counts = torch.unique(labels[bad], return_counts=True)
    order = sorted(zip(counts.tolist(), values.tolist()), key=lambda pair: (-pair[0], pair[1]))
    found = ", ".join(
        f"{value} ({count} pixel{'' if count == 1 else 's'})" for count, value in order[:_MAX_VALUES_SHOWN]
    )
    if len(order) > _MAX_VALUES_SHOWN:
        found += f", and {len(order) - _MAX_VALUES_SHOWN} more values"
    allowed = f"[0, {num_classes})"
    if ignore_index is not None:
        allowed += f" or ignore_index={ignore_index}"
    hint = ""
    if ignore_index is None and name != "pred" and IGNORE_INDEX in values.tolist():
        hint = f"; pass ignore_index={IGNORE_INDEX} to skip unlabelled pixels"
    raise ValueError(f"{name} must be in {allowed}; found {found}{hint}")


def one_hot(labels: Tensor, num_classes: int, ignore_index: int | None = IGNORE_INDEX) -> Tensor:
    """Turn a mask of class indices into one 0/1 channel per class.

    The class axis is inserted just before the two spatial axes, so a batch of masks becomes
    a batch of ``K``-channel images and a single mask becomes one ``K``-channel image.
    Pixels equal to ``ignore_index`` become all-zero vectors (they belong to no class).

    Args:
        labels: Integer mask, checked with :func:`check_labels` (array-likes are converted).
        num_classes: Number of classes ``K``.
        ignore_index: Value marking unlabelled pixels, or ``None``.

    Returns:
        Float32 tensor with ``out[..., k, i, j] == 1`` exactly when ``labels[..., i, j] == k``.

    Shape:
        - labels: ``(B, H, W)`` or ``(H, W)``.
        - output: ``(B, K, H, W)`` or ``(K, H, W)``.
    """
    labels = _as_tensor(labels, "labels", "integer class indices")
    if labels.ndim not in (2, 3):
        raise ValueError(f"labels must have shape (B, H, W) or (H, W); got {tuple(labels.shape)}")
    check_labels(labels, num_classes, ignore_index)
    labelled = torch.ones_like(labels, dtype=torch.bool)
    if ignore_index is not None:
        labelled = labels != ignore_index  # (..., H, W)
    safe = torch.where(labelled, labels, 0).long()  # (..., H, W), ignore -> class 0 for now
    encoded = F.one_hot(safe, num_classes)  # (..., H, W, K)
    encoded = encoded.movedim(-1, -3)  # (..., K, H, W)
    encoded = encoded * labelled.unsqueeze(-3)  # zero the ignored pixels' vectors
    return encoded.float().contiguous()


def to_labels(scores: Tensor) -> Tensor:
    """Pick the highest-scoring class at every pixel (argmax over the class axis).

    Works for logits, probabilities or one-hot tensors alike. Ties go to the lowest class
    index, so an all-zero vector (an ignored pixel after :func:`one_hot`) becomes class 0.

    Args:
        scores: Floating-point per-class scores (array-likes are converted); NaN is refused.

    Returns:
        int64 class indices.

    Raises:
        TypeError: If ``scores`` cannot be converted to a tensor.
        ValueError: Integer scores, a wrong number of axes, no classes, or NaN values.

    Shape:
        - scores: ``(B, K, H, W)`` or ``(K, H, W)``.
        - output: ``(B, H, W)`` or ``(H, W)``.
    """
    scores = _as_tensor(scores, "scores", "floating-point per-class scores")
    if not scores.is_floating_point():
        raise ValueError(
            f"scores must be a floating-point tensor of per-class scores; got dtype {scores.dtype}"
            " (integer tensors look like labels already)"
        )
    if scores.ndim not in (3, 4):
        raise ValueError(f"scores must have shape (B, K, H, W) or (K, H, W); got {tuple(scores.shape)}")
    if scores.shape[-3] == 0:
        raise ValueError(f"scores must hold at least one class (K >= 1); got shape {tuple(scores.shape)}")
    not_a_number = int(torch.isnan(scores).sum())
    if not_a_number:
        raise ValueError(
            f"scores hold {not_a_number} NaN value{'' if not_a_number == 1 else 's'}, so no class wins there; "
            "a model that outputs NaN has usually diverged: lower the learning rate or check the inputs"
        )
    return scores.argmax(dim=-3)  # (..., H, W) int64


def _check_num_classes(num_classes: int) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int; got {num_classes!r}")


def _as_tensor(values: object, name: str, what: str) -> Tensor:
    """Return ``values`` as a tensor: tensors pass through, numpy arrays and nested lists are converted."""
    if isinstance(values, Tensor):
        return values
    try:
        return torch.as_tensor(values)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(
            f"{name} must be a torch.Tensor (or a numpy array / nested list of equal-length rows) of {what}; "
            f"got {type(values).__name__} that torch.as_tensor cannot convert ({error})"
        ) from error
