"""How good can any network be whose last step upsamples a coarse score map? (lesson 06)

FCN-32s predicts a score map 32 times smaller than the image and upsamples it with one
transposed convolution. However good its encoder, its output can only be what that upsampling
makes of *some* coarse map. This module measures that ceiling: instead of asking an encoder for
the coarse scores, it fits them directly to the true masks (gradient descent on the
cross-entropy, one free coarse map per scene), optionally together with the upsampling weights,
and scores the result. A trained model can only do as well as this oracle, never better in loss.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from segedu.core.encoding import IGNORE_INDEX
from segedu.training.losses import pixel_cross_entropy
from segedu.training.metrics import confusion_matrix, mean_iou

__all__ = ["Ceiling", "score_map_ceiling"]


@dataclass(frozen=True)
class Ceiling:
    """The best an upsampled coarse score map can do on some masks.

    Attributes:
        predictions: Class of every pixel from the fitted coarse maps, ``(N, H, W)``.
        coarse_scores: The fitted coarse maps, ``(N, K, h, w)``.
        loss: Final mean cross-entropy of the fitted maps.
        mean_iou: Mean IoU of ``predictions`` against the masks.
    """

    predictions: Tensor
    coarse_scores: Tensor
    loss: float
    mean_iou: float


def score_map_ceiling(
    upsample: nn.Module,
    masks: Tensor,
    num_classes: int,
    *,
    stride: int,
    learn_upsampling: bool = False,
    steps: int = 300,
    lr: float = 0.1,
) -> Ceiling:
    """Fit one coarse score map per mask so that ``upsample`` turns it into that mask.

    Args:
        upsample: Maps ``(N, K, h, w)`` scores to ``(N, K, >= H, >= W)`` (e.g. FCN's ``upscore32``);
            the output is cropped to the top-left ``H x W`` as FCN does. It is never modified.
        masks: True labels ``(N, H, W)``, values in ``[0, num_classes)`` or ``IGNORE_INDEX``.
        num_classes: Number of classes ``K``.
        stride: How much smaller the coarse map is: ``h = ceil(H / stride)``.
        learn_upsampling: Also fit (a copy of) the upsampling weights to these masks, i.e. the
            best any network with this stride could do with any upsampling kernel.
        steps: Adam steps (the fit is convex in the scores; a few hundred are plenty).
        lr: Adam's learning rate.

    Raises:
        ValueError: For masks that are not ``(N, H, W)`` integer labels in range.
    """
    if masks.ndim != 3 or masks.is_floating_point():
        raise ValueError(f"masks must be (N, H, W) integer labels; got {tuple(masks.shape)} {masks.dtype}")
    labelled = masks[masks != IGNORE_INDEX]
    if labelled.numel() and (int(labelled.min()) < 0 or int(labelled.max()) >= num_classes):
        raise ValueError(
            f"mask labels must lie in [0, {num_classes}) or be {IGNORE_INDEX}; found {int(labelled.min())}.."
            f"{int(labelled.max())}"
        )
    if stride < 1:
        raise ValueError(f"stride must be a positive int; got {stride}")
    count, height, width = masks.shape
    upsample = copy.deepcopy(upsample)
    for parameter in upsample.parameters():
        parameter.requires_grad_(learn_upsampling)
    scores = torch.zeros(count, num_classes, -(-height // stride), -(-width // stride), requires_grad=True)
    optimizer = torch.optim.Adam([scores, *(upsample.parameters() if learn_upsampling else [])], lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            logits = upsample(scores)[..., :height, :width]  # (N, K, H, W)
            loss = pixel_cross_entropy(logits, masks)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        logits = upsample(scores)[..., :height, :width]  # (N, K, H, W)
        predictions = logits.argmax(dim=1)  # (N, H, W)
        final_loss = float(pixel_cross_entropy(logits, masks))
    matrix = confusion_matrix(predictions, masks, num_classes, IGNORE_INDEX)
    return Ceiling(predictions, scores.detach(), final_loss, float(mean_iou(matrix)))
