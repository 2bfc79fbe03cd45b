"""Train an image classifier end to end on "which classes are present?" (multi-label).

Lesson 03 asks what a *classification objective* keeps of an object's position. The classifier
is trained from scratch, every layer, with one sigmoid per class and binary cross-entropy: the
loss never mentions where anything is. Batches are drawn from a seeded generator, so a run is
repeatable (on the same number of CPU threads).

Example:
    >>> losses = train_presence_classifier(model, images, targets, steps=300)   # doctest: +SKIP
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["presence_accuracy", "train_presence_classifier"]


def train_presence_classifier(
    model: nn.Module,
    images: Tensor,
    targets: Tensor,
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
) -> list[float]:
    """Adam on ``BCEWithLogits(model(images), targets)`` for ``steps`` batches; the model ends in eval mode.

    The learning rate falls from ``lr`` to zero along half a cosine.

    Args:
        model: Any module mapping ``(B, C, H, W)`` images to ``(B, K)`` logits.
        images: All training images ``(N, C, H, W)``.
        targets: ``(N, K)`` floats, 1.0 where class ``k`` is present
            (:func:`segedu.analysis.probes.presence_targets` makes them from masks).
        steps: Optimiser steps.
        batch_size: Images per step, drawn with replacement.
        lr: Peak learning rate.
        seed: Seeds the batch order (initialise the model's weights yourself).

    Returns:
        The loss of every step.
    """
    if images.shape[0] != targets.shape[0] or targets.dim() != 2:
        raise ValueError(
            f"need images (N, C, H, W) and targets (N, K) with the same N; got {tuple(images.shape)} "
            f"and {tuple(targets.shape)}"
        )
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1; got {steps} and {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    model.train()
    losses = []
    for _ in range(steps):
        batch = torch.randint(images.shape[0], (batch_size,), generator=generator)  # (B,)
        scores = model(images[batch])  # (B, K)
        loss = F.binary_cross_entropy_with_logits(scores, targets[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    model.eval()
    return losses


@torch.no_grad()
def presence_accuracy(model: nn.Module, images: Tensor, targets: Tensor) -> tuple[Tensor, float]:
    """Accuracy of ``sigmoid(score) > 0.5`` per class, and the share of images with every answer right.

    Shape:
        images ``(N, C, H, W)``, targets ``(N, K)`` -> ``(K,)`` and a float
    """
    model.eval()
    right = (model(images) > 0) == targets.bool()  # (N, K): a logit > 0 is a probability > 0.5
    return right.float().mean(dim=0), float(right.all(dim=1).float().mean())
