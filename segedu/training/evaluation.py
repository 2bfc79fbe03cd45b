"""Score a trained model: :func:`evaluate` on a dataset, :func:`predict` on images.

Both run the model in ``eval()`` mode without gradients and restore its previous mode.
float64 or float16 images are converted to the model's dtype; integer images are refused.

Example:
    >>> metrics = evaluate(model, test_set)          # doctest: +SKIP
    >>> labels = predict(model, image)               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from segedu.core.device import select_device
from segedu.core.encoding import IGNORE_INDEX, to_labels
from segedu.training._checks import (
    check_logits,
    check_positive_int,
    images_for_model,
    masks_for_model,
    resolve_num_classes,
)
from segedu.training.metrics import ConfusionMeter

__all__ = ["evaluate", "predict"]


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Dataset | DataLoader,
    *,
    num_classes: int | None = None,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    ignore_index: int | None = IGNORE_INDEX,
    valid_mask_fn: Callable[[Tensor], Tensor] | None = None,
) -> dict[str, Any]:
    """Score ``model`` on a dataset with one confusion matrix over all its pixels.

    Args:
        model: Segmentation model; evaluated in ``eval()`` mode, its previous mode restored.
        data: Dataset of ``(image, mask)`` pairs, or a ready ``DataLoader`` of such batches.
        num_classes: Number of classes; defaults to ``data.num_classes``.
        batch_size: Images per forward pass (ignored for a ``DataLoader``).
        device: Where to run; ``None`` keeps the model where it is.
        ignore_index: Mask value to skip, or ``None``.
        valid_mask_fn: Optional ``masks -> bool mask`` choosing which pixels count, e.g.
            ``lambda masks: boundary_band(masks, 3)`` for the pixels near boundaries.

    Returns:
        Dict with ``pixel_accuracy``, ``mean_accuracy``, ``mean_iou``,
        ``frequency_weighted_iou`` and ``iou_per_class`` (see :mod:`segedu.training.metrics`).

    Shape:
        - masks given to ``valid_mask_fn`` and its result: ``(B, H, W)``.
    """
    if isinstance(data, DataLoader):
        loader = data
        num_classes = resolve_num_classes(num_classes, data.dataset)
    else:
        num_classes = resolve_num_classes(num_classes, data)
        check_positive_int("batch_size", batch_size)
        loader = DataLoader(data, batch_size=batch_size, shuffle=False, num_workers=0)
    if device is not None:
        model.to(select_device(device))
    meter = ConfusionMeter(num_classes, ignore_index)
    was_training = model.training
    model.eval()
    try:
        for images, masks in loader:
            images = images_for_model(images, model)  # (B, C, H, W) on the model's device
            masks = masks_for_model(masks, images.device)  # (B, H, W) int64
            logits = model(images)  # (B, K, H, W)
            check_logits(logits, masks, num_classes)
            valid_mask = None if valid_mask_fn is None else valid_mask_fn(masks)  # (B, H, W) bool
            meter.update(to_labels(logits), masks, valid_mask)
    finally:
        model.train(was_training)
    return meter.compute()


@torch.no_grad()
def predict(model: nn.Module, images: Tensor) -> Tensor:
    """Predicted class of every pixel, computed in ``eval()`` mode on the model's device.

    Args:
        model: Segmentation model; its previous train/eval mode is restored.
        images: One image or a batch, float in ``[0, 1]`` (float64/float16 are converted).

    Returns:
        int64 labels on the CPU.

    Shape:
        - images: ``(B, C, H, W)`` or ``(C, H, W)``.
        - output: ``(B, H, W)`` or ``(H, W)``.
    """
    if not isinstance(images, Tensor) or images.ndim not in (3, 4):
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor of shape (B, C, H, W) or (C, H, W); got {shape}")
    batch = images if images.ndim == 4 else images.unsqueeze(0)  # (B, C, H, W)
    batch = images_for_model(batch, model)  # (B, C, H, W) on the model's device and dtype
    was_training = model.training
    model.eval()
    try:
        logits = model(batch)  # (B, K, H, W)
    finally:
        model.train(was_training)
    labels = to_labels(logits).cpu()  # (B, H, W)
    return labels if images.ndim == 4 else labels[0]
