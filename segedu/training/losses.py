"""Loss functions for dense prediction: per-pixel cross-entropy, focal loss and soft Dice.

All take raw logits ``(B, K, H, W)`` (no softmax inside the model) and an integer mask
``(B, H, W)``, skip pixels equal to ``ignore_index``, and check their inputs first so that a
wrong shape or a stray label value fails with a message that says what to fix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segedu.core.encoding import IGNORE_INDEX, check_labels, one_hot

__all__ = [
    "cross_entropy_and_dice",
    "focal_loss",
    "pixel_cross_entropy",
    "pixel_weighted_cross_entropy",
    "soft_dice_loss",
    "CrossEntropyLoss2d",
    "DiceLoss",
]


def pixel_cross_entropy(
    logits: Tensor,
    target: Tensor,
    *,
    ignore_index: int | None = IGNORE_INDEX,
    class_weights: Tensor | Sequence[float] | None = None,
) -> Tensor:
    """Cross-entropy averaged over labelled pixels: mean of ``-log softmax(logits)[target]``.

    The same number as ``torch.nn.functional.cross_entropy``: with ``class_weights`` ``w``,
    each pixel's term is multiplied by ``w[target]`` and the sum is divided by the sum of those
    weights. One difference: if no pixel is labelled, the result is 0 (still differentiable)
    rather than NaN, so one fully ignored batch cannot poison a training run.

    Args:
        logits: Unnormalised class scores.
        target: Class indices, or ``ignore_index`` for pixels to skip.
        ignore_index: Value marking unlabelled pixels, or ``None``.
        class_weights: Optional non-negative, finite weight per class (a tensor, list or array),
            e.g. to up-weight rare classes; at least one class present in ``target`` needs a
            positive weight.

    Returns:
        Scalar loss.

    Shape:
        - logits: ``(B, K, H, W)``.
        - target: ``(B, H, W)``.
        - class_weights: ``(K,)``.
    """
    _check_logits_and_target(logits, target, ignore_index)
    labelled = target != ignore_index if ignore_index is not None else torch.ones_like(target, dtype=torch.bool)
    if not bool(labelled.any()):
        return logits.sum() * 0.0  # nothing labelled: zero loss, zero gradient
    weight = None if class_weights is None else _present_class_weights(class_weights, logits, target, labelled)
    return F.cross_entropy(
        logits,
        target.long(),
        weight=weight,
        ignore_index=ignore_index if ignore_index is not None else -100,  # -100: torch's "none"
    )


def focal_loss(
    logits: Tensor,
    target: Tensor,
    *,
    gamma: float = 2.0,
    ignore_index: int | None = IGNORE_INDEX,
    class_weights: Tensor | Sequence[float] | None = None,
) -> Tensor:
    """Multi-class focal loss (Lin et al. 2017) averaged over labelled pixels.

    Each pixel's cross-entropy term is multiplied by ``(1 - p_t) ** gamma``, where ``p_t`` is the
    softmax probability of its true class: ``-(1 - p_t) ** gamma * log p_t``. Pixels the model
    already gets right with confidence (``p_t`` near 1) count less; ``gamma = 0`` gives
    :func:`pixel_cross_entropy` back. With ``class_weights`` ``w`` (the paper's ``alpha_t``), each
    pixel's term is also multiplied by ``w[target]`` and the sum is divided by the sum of those
    weights, as in :func:`pixel_cross_entropy` and torch's weighted cross-entropy.

    Departures from the paper: RetinaNet applies the loss to independent per-class sigmoids and
    divides the sum by the number of anchors assigned to objects; this version uses the softmax
    over the ``K`` classes and takes the (weighted) mean over labelled pixels. If no pixel is
    labelled, the result is 0 (still differentiable), as in :func:`pixel_cross_entropy`.

    Args:
        logits: Unnormalised class scores.
        target: Class indices, or ``ignore_index`` for pixels to skip.
        gamma: Focusing parameter, a finite number >= 0 (the paper's default is 2).
        ignore_index: Value marking unlabelled pixels, or ``None``.
        class_weights: Optional non-negative, finite weight per class; at least one class present
            in ``target`` needs a positive weight.

    Returns:
        Scalar loss.

    Shape:
        - logits: ``(B, K, H, W)``.
        - target: ``(B, H, W)``.
        - class_weights: ``(K,)``.
    """
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not math.isfinite(gamma) or gamma < 0:
        raise ValueError(
            f"gamma must be a finite number >= 0 (0 gives plain cross-entropy, the paper uses 2); got {gamma!r}"
        )
    _check_logits_and_target(logits, target, ignore_index)
    labelled = target != ignore_index if ignore_index is not None else torch.ones_like(target, dtype=torch.bool)
    if not bool(labelled.any()):
        return logits.sum() * 0.0  # nothing labelled: zero loss, zero gradient
    safe_target = target.long().masked_fill(~labelled, 0)  # (B, H, W): any valid index where ignored
    log_p_true = logits.log_softmax(dim=1).gather(1, safe_target.unsqueeze(1)).squeeze(1)  # (B, H, W)
    # (1 - p_t) ** gamma, accurate near p_t = 1; the floor keeps the gradient finite where p_t rounds to 1
    modulating = (-torch.expm1(log_p_true)).clamp_min(torch.finfo(logits.dtype).tiny) ** gamma
    per_pixel = -modulating * log_p_true  # (B, H, W)
    pixel_weights = labelled.to(logits.dtype)  # (B, H, W): 0 at ignored pixels
    if class_weights is not None:
        pixel_weights = pixel_weights * _present_class_weights(class_weights, logits, target, labelled)[safe_target]
    return (pixel_weights * per_pixel).sum() / pixel_weights.sum()


def pixel_weighted_cross_entropy(logits: Tensor, target: Tensor, pixel_weights: Tensor) -> Tensor:
    """Cross-entropy averaged with one weight per pixel: ``sum_x w(x) (-log p_target(x)) / sum_x w(x)``.

    With ``w(x) = class_weights[target(x)]`` this is :func:`pixel_cross_entropy` with ``class_weights``;
    a weight that depends on where the pixel is, such as U-Net's weight map
    (:func:`segedu.analysis.weight_map.unet_weight_map`), needs this form. Every pixel must be labelled.

    Args:
        logits: Unnormalised class scores.
        target: Class indices.
        pixel_weights: Non-negative, finite weight of each pixel, not all zero.

    Returns:
        Scalar loss.

    Shape:
        - logits: ``(B, K, H, W)``.
        - target, pixel_weights: ``(B, H, W)``.
    """
    _check_logits_and_target(logits, target, None)
    if not isinstance(pixel_weights, Tensor) or pixel_weights.shape != target.shape:
        shape = tuple(pixel_weights.shape) if isinstance(pixel_weights, Tensor) else type(pixel_weights).__name__
        raise ValueError(f"pixel_weights must be a tensor shaped like target {tuple(target.shape)}; got {shape}")
    weights = pixel_weights.to(logits.dtype)
    if not bool(torch.isfinite(weights).all()) or bool((weights < 0).any()) or not bool((weights > 0).any()):
        raise ValueError("pixel_weights must be finite and non-negative with at least one positive weight; got "
                         f"min {float(weights.min())}, max {float(weights.max())}")
    per_pixel = F.cross_entropy(logits, target.long(), reduction="none")  # (B, H, W)
    return (weights * per_pixel).sum() / weights.sum()


def soft_dice_loss(
    logits: Tensor,
    target: Tensor,
    *,
    ignore_index: int | None = IGNORE_INDEX,
    eps: float = 1.0,
) -> Tensor:
    """One minus the mean soft Dice coefficient over classes.

    Dice compares two sets, ``2 |A and B| / (|A| + |B|)``. Its soft version uses softmax
    probabilities ``p`` instead of a hard prediction and the one-hot target ``g``:
    ``dice_k = (2 sum p_k g_k + eps) / (sum p_k + sum g_k + eps)``, where each sum runs over all
    labelled pixels of the whole batch. ``eps`` keeps a class absent from both target and
    prediction at dice ~ 1 instead of 0/0. Ignored pixels are left out of every sum.
    Unlike cross-entropy, every class counts equally however few pixels it has.

    Args:
        logits: Unnormalised class scores.
        target: Class indices, or ``ignore_index`` for pixels to skip.
        ignore_index: Value marking unlabelled pixels, or ``None``.
        eps: Smoothing added to numerator and denominator, > 0.

    Returns:
        Scalar loss in ``[0, 1]``; near 0 for a confident, correct prediction.

    Shape:
        - logits: ``(B, K, H, W)``.
        - target: ``(B, H, W)``.
    """
    _check_logits_and_target(logits, target, ignore_index)
    if not eps > 0:
        raise ValueError(f"eps must be > 0 (it keeps classes absent everywhere from giving 0/0); got {eps}")
    num_classes = logits.shape[1]
    probabilities = logits.softmax(dim=1)  # (B, K, H, W)
    truth = one_hot(target, num_classes, ignore_index).to(probabilities.dtype)  # (B, K, H, W)
    if ignore_index is not None:
        labelled = (target != ignore_index).unsqueeze(1)  # (B, 1, H, W)
        probabilities = probabilities * labelled  # ignored pixels predict nothing
    sum_axes = (0, 2, 3)  # batch and space: one Dice per class
    intersection = (probabilities * truth).sum(dim=sum_axes)  # (K,)
    cardinality = probabilities.sum(dim=sum_axes) + truth.sum(dim=sum_axes)  # (K,)
    dice = (2.0 * intersection + eps) / (cardinality + eps)  # (K,)
    return 1.0 - dice.mean()


class CrossEntropyLoss2d(nn.Module):
    """:func:`pixel_cross_entropy` as a module, ``loss_fn(logits, target)``.

    Args:
        ignore_index: Value marking unlabelled pixels, or ``None``.
        class_weights: Optional ``(K,)`` weights, stored as a buffer (moves with ``.to()``).
    """

    def __init__(
        self, ignore_index: int | None = IGNORE_INDEX, class_weights: Tensor | Sequence[float] | None = None
    ) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        weights = None if class_weights is None else _check_class_weights(class_weights, None)
        self.register_buffer("class_weights", weights)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return pixel_cross_entropy(
            logits, target, ignore_index=self.ignore_index, class_weights=self.class_weights
        )

    def extra_repr(self) -> str:
        weighted = "none" if self.class_weights is None else f"{len(self.class_weights)} classes"
        return f"ignore_index={self.ignore_index}, class_weights={weighted}"


class DiceLoss(nn.Module):
    """:func:`soft_dice_loss` as a module, ``loss_fn(logits, target)``.

    Args:
        ignore_index: Value marking unlabelled pixels, or ``None``.
        eps: Smoothing term, > 0.
    """

    def __init__(self, ignore_index: int | None = IGNORE_INDEX, eps: float = 1.0) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.eps = eps

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return soft_dice_loss(logits, target, ignore_index=self.ignore_index, eps=self.eps)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, eps={self.eps}"


def cross_entropy_and_dice(logits: Tensor, target: Tensor) -> Tensor:
    """Per-pixel cross-entropy plus soft Dice, unweighted: the loss of the course's quick recipe and studies.

    Shape:
        - logits: ``(B, K, H, W)``; target: ``(B, H, W)`` class indices.
    """
    return pixel_cross_entropy(logits, target) + soft_dice_loss(logits, target)


def _check_logits_and_target(logits: Tensor, target: Tensor, ignore_index: int | None) -> None:
    """Shapes and values a dense loss needs, with messages that say how to fix them."""
    if not isinstance(logits, Tensor) or logits.ndim != 4 or not logits.is_floating_point():
        shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"logits must be a float tensor of shape (B, K, H, W); got {shape}")
    if not isinstance(target, Tensor):
        raise ValueError(f"target must be a torch.Tensor; got {type(target).__name__}")
    batch, num_classes, height, width = logits.shape
    if target.ndim == 4 and target.shape[1] == 1:
        raise ValueError(
            f"target has shape {tuple(target.shape)}; masks carry no channel axis, "
            "use target.squeeze(1) to get (B, H, W)"
        )
    if target.shape != (batch, height, width):
        raise ValueError(
            f"target must have shape (B, H, W) = {(batch, height, width)} to match logits "
            f"{tuple(logits.shape)}; got {tuple(target.shape)}"
        )
    check_labels(target, num_classes, ignore_index, name="target")


def _present_class_weights(class_weights: Tensor | Sequence[float], logits: Tensor, target: Tensor,
                           labelled: Tensor) -> Tensor:
    """Checked ``(K,)`` class weights on ``logits``' device and dtype; some class present in ``target`` must weigh > 0."""
    weight = _check_class_weights(class_weights, logits.shape[1]).to(device=logits.device, dtype=logits.dtype)
    present = target[labelled].long().unique()  # (P,) classes in this batch
    if not bool((weight[present] > 0).any()):
        raise ValueError(
            f"class_weights are 0 for every class present in target ({present.tolist()}), so the "
            "weighted mean is 0/0; give at least one present class a positive weight"
        )
    return weight


def _check_class_weights(class_weights: Tensor | Sequence[float], num_classes: int | None) -> Tensor:
    """``class_weights`` as a float tensor ``(K,)`` of finite, non-negative numbers, not all zero."""
    try:
        weights = torch.as_tensor(class_weights, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(
            f"class_weights must be a tensor, list or array of numbers, one per class; "
            f"got {type(class_weights).__name__}"
        ) from None
    expected = "K" if num_classes is None else num_classes
    if weights.ndim != 1 or (num_classes is not None and weights.shape[0] != num_classes):
        raise ValueError(
            f"class_weights must be {expected} non-negative numbers, one per class; got shape {tuple(weights.shape)}"
        )
    if not bool(torch.isfinite(weights).all()):
        raise ValueError(f"class_weights must be finite; got {weights.tolist()} (replace NaN/inf, e.g. with 1.0)")
    if bool((weights < 0).any()):
        raise ValueError(f"class_weights must be non-negative; got {weights.tolist()}")
    if not bool((weights > 0).any()):
        raise ValueError(f"class_weights are all 0 ({weights.tolist()}); give at least one class a positive weight")
    keep_dtype = isinstance(class_weights, Tensor) and class_weights.is_floating_point()
    return weights.to(class_weights.dtype) if keep_dtype else weights.float()  # (K,)
