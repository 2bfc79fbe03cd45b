"""Train for a fixed number of steps and record learning curves: mean IoU on named sets every few steps.

:func:`segedu.training.loop.fit` validates once per epoch; to *see* overfitting on a small training
set (one epoch may be four steps) or to compare learning rates step for step, the scores are wanted on
a step grid instead, and on the training scenes as well as the validation scenes. Everything is
counted in optimizer steps, so a run gives the same curves on every run on the same machine.

Example:
    >>> curves = train_with_curves(model, train_set, {"val": val_set}, steps=200)      # doctest: +SKIP
    >>> curves.steps[-1], curves.scores["val"][-1]                                     # doctest: +SKIP
    (200, 0.41)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from segedu.training._checks import check_positive, check_positive_int, images_for_model, masks_for_model
from segedu.training.evaluation import evaluate
from segedu.training.losses import pixel_cross_entropy

__all__ = ["LearningCurves", "train_with_curves"]

LossFunction = Callable[[Tensor, Tensor], Tensor]


@dataclasses.dataclass
class LearningCurves:
    """What :func:`train_with_curves` recorded.

    Attributes:
        steps: Optimizer steps taken when the scores were recorded (0 = before training).
        scores: For every named set, its mean IoU at each of ``steps``.
        losses: The training loss of every step, in order.
    """

    steps: list[int] = dataclasses.field(default_factory=list)
    scores: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    losses: list[float] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        """A deep copy as plain lists and dicts, ready for ``json.dumps``."""
        return dataclasses.asdict(self)


def train_with_curves(
    model: nn.Module,
    train_data: Dataset,
    score_sets: Mapping[str, Dataset],
    *,
    steps: int,
    batch_size: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    loss_function: LossFunction = pixel_cross_entropy,
    schedule: Callable[[float], float] | None = None,
    weight_decay: float = 0.0,
    score_every: int = 25,
    on_score: Callable[[int, nn.Module], None] | None = None,
    num_classes: int | None = None,
) -> LearningCurves:
    """Train ``model`` with AdamW for exactly ``steps`` steps, scoring it on ``score_sets`` every ``score_every``.

    Batches are drawn by reshuffling ``train_data`` (seeded) every pass; a transform inside
    ``train_data`` (augmentation) draws from PyTorch's global generator, which is seeded with ``seed``
    at the start, so the whole run is repeatable.

    Args:
        model: Maps images ``(B, C, H, W)`` to logits ``(B, K, H, W)``; trained in place on its device.
        train_data: ``(image, mask)`` pairs, at least ``batch_size`` of them.
        score_sets: Named datasets to score with :func:`evaluate` (mean IoU), e.g.
            ``{"train": clean_train_set, "val": val_set}``.
        steps: Optimizer steps to take.
        batch_size: Images per step.
        lr: Learning rate (when ``schedule`` is ``None``).
        seed: Seeds the shuffling and PyTorch's global generator.
        loss_function: ``loss_function(logits, masks) -> scalar``.
        schedule: Optional ``schedule(progress) -> learning rate``, called before every step with
            ``progress = step / steps`` in ``[0, 1)``; it replaces ``lr``.
        weight_decay: AdamW's decoupled weight decay (0 makes it Adam).
        score_every: Steps between two scorings; the scores are also taken before the first step
            and after the last.
        on_score: Optional ``on_score(step, model)``, called after each scoring with the model in
            ``eval()`` mode and gradients off (e.g. to keep predictions for a picture).
        num_classes: Number of classes for the scores; defaults to each set's ``num_classes``.

    Returns:
        The :class:`LearningCurves` (the model is left in ``train()`` mode).

    Raises:
        ValueError: On a non-positive count or rate, or fewer training pairs than ``batch_size``.
        FloatingPointError: If the loss becomes NaN or infinite (lower ``lr``).
    """
    for name, value in (("steps", steps), ("batch_size", batch_size), ("score_every", score_every)):
        check_positive_int(name, value)
    check_positive("lr", lr)
    if len(train_data) < batch_size:
        raise ValueError(f"train_data has {len(train_data)} pairs, fewer than batch_size={batch_size}; "
                         "lower batch_size or add scenes")
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    batches = _endless_batches(train_data, batch_size, seed)
    curves = LearningCurves(scores={name: [] for name in score_sets})
    _score(model, score_sets, 0, curves, on_score, num_classes)
    model.train()
    for step in range(steps):
        if schedule is not None:
            for group in optimizer.param_groups:
                group["lr"] = schedule(step / steps)
        images, masks = next(batches)
        images = images_for_model(images, model)  # (B, C, H, W)
        masks = masks_for_model(masks, images.device)  # (B, H, W)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(model(images), masks)  # logits (B, K, H, W) -> scalar
        loss.backward()
        optimizer.step()
        curves.losses.append(loss.item())
        if not math.isfinite(curves.losses[-1]):
            raise FloatingPointError(f"the training loss became {curves.losses[-1]} at step {step + 1}; "
                                     "try a smaller learning rate")
        if (step + 1) % score_every == 0 or step + 1 == steps:
            _score(model, score_sets, step + 1, curves, on_score, num_classes)
    model.train()
    return curves


def _endless_batches(data: Dataset, batch_size: int, seed: int) -> Iterator[tuple[Tensor, Tensor]]:
    """Shuffled batches, pass after pass; a last batch smaller than ``batch_size`` is dropped."""
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed), num_workers=0)
    while True:
        yield from loader


def _score(model: nn.Module, score_sets: Mapping[str, Dataset], step: int, curves: LearningCurves,
           on_score: Callable[[int, nn.Module], None] | None, num_classes: int | None) -> None:
    curves.steps.append(step)
    for name, data in score_sets.items():
        curves.scores[name].append(float(evaluate(model, data, num_classes=num_classes)["mean_iou"]))
    if on_score is not None:
        model.eval()
        with torch.no_grad():
            on_score(step, model)
        model.train()
