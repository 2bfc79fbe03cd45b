"""Training speed and time to quality: segedu's models against a reference library's U-Net.

Every model, ours and the reference (segmentation_models_pytorch's ``Unet`` with a ResNet-18
encoder, randomly initialised, so nothing is downloaded), is trained by the same loop below on
the same fresh training scenes in the same order, with the same optimiser, budget and seed, and
scored on the same validation scenes every ``eval_every`` steps. Only training steps are timed;
validation is not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from benchmarks.timing import Timing, summarize

__all__ = [
    "REFERENCE",
    "SEGEDU_MODELS",
    "TrainingRun",
    "benchmark_training",
    "build_benchmark_model",
    "reference_unet",
]

REFERENCE = "smp_unet_resnet18"
SEGEDU_MODELS = ("fcn32s", "fcn8s", "segnet", "unet")


def reference_unet(in_channels: int, num_classes: int) -> nn.Module:
    """segmentation_models_pytorch's ``Unet`` with a ResNet-18 encoder and random weights.

    Raises:
        ImportError: If segmentation_models_pytorch is not installed (it comes with ``.[test]``).
    """
    try:
        import segmentation_models_pytorch as smp
    except ImportError as error:
        raise ImportError(
            "the reference model needs segmentation_models_pytorch: pip install segmentation-models-pytorch "
            "(make bench installs it)"
        ) from error
    return smp.Unet("resnet18", encoder_weights=None, in_channels=in_channels, classes=num_classes)


def build_benchmark_model(name: str, in_channels: int, num_classes: int) -> nn.Module:
    """A segedu model at the size of its shipped checkpoint, or the reference (``REFERENCE``)."""
    if name == REFERENCE:
        return reference_unet(in_channels, num_classes)
    from segedu.models import get_model
    from segedu.training.recipes import RECIPES

    recipe = RECIPES.get((name, "shapes"))
    sizes = recipe.model_kwargs if recipe is not None else {}
    return get_model(name, in_channels=in_channels, num_classes=num_classes, **sizes)


@dataclass(frozen=True)
class TrainingRun:
    """One model trained on one dataset for a fixed number of steps.

    Attributes:
        model: segedu registry name or ``REFERENCE``.
        dataset: ``"shapes"`` or ``"digits"``.
        parameters: Trainable parameters.
        steps: Optimiser steps taken.
        seconds_per_step: Seconds per step, one sample per ``eval_every``-step chunk.
        curve: ``(step, training seconds so far, validation mean IoU)`` after each chunk.
        target: The mean IoU to reach.
        steps_to_target: First evaluated step at or above ``target`` (None if never).
        seconds_to_target: Training seconds up to that step (None if never).
    """

    model: str
    dataset: str
    parameters: int
    steps: int
    seconds_per_step: Timing
    curve: tuple[tuple[int, float, float], ...]
    target: float
    steps_to_target: int | None
    seconds_to_target: float | None

    @property
    def steps_per_second(self) -> float:
        """Median training speed."""
        return 1.0 / self.seconds_per_step.median


def benchmark_training(
    name: str,
    dataset: str,
    *,
    steps: int,
    eval_every: int,
    target: float,
    batch_size: int = 16,
    lr: float = 3e-3,
    val_scenes: int = 64,
    seed: int = 0,
) -> TrainingRun:
    """Train ``name`` on ``dataset`` for ``steps`` steps and record speed and quality.

    Args:
        name: A segedu model (``SEGEDU_MODELS``) or ``REFERENCE``.
        dataset: ``"shapes"`` or ``"digits"`` (the course's offline datasets).
        steps: Optimiser steps; must be a multiple of ``eval_every`` with at least 3 chunks.
        eval_every: Steps between validations (each chunk gives one speed sample).
        target: Validation mean IoU whose first crossing is reported.
        batch_size: Scenes per step.
        lr: Adam's learning rate (constant).
        val_scenes: How many validation scenes to score.
        seed: Seeds the initial weights; the scenes are the same for every model.
    """
    from segedu.training.losses import pixel_cross_entropy
    from segedu.training.recipes import offline_dataset, training_scenes
    from segedu.core.seeding import seed_everything
    from segedu.training.evaluation import evaluate

    if eval_every < 1 or steps % eval_every or steps // eval_every < 3:
        raise ValueError(
            f"steps ({steps}) must be a multiple of eval_every ({eval_every}) with at least 3 chunks, "
            "so that the median speed rests on 3 or more samples"
        )
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target is a mean IoU in (0, 1]; got {target}")
    val_data = offline_dataset(dataset, "val")
    val_subset = Subset(val_data, range(min(val_scenes, len(val_data))))
    seed_everything(seed)
    model = build_benchmark_model(name, val_data.channels, val_data.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(training_scenes(dataset, steps * batch_size), batch_size=batch_size, shuffle=False)

    chunk_seconds: list[float] = []
    curve: list[tuple[int, float, float]] = []
    batches = iter(loader)
    for chunk in range(steps // eval_every):
        model.train()
        start = time.perf_counter()
        for _ in range(eval_every):
            images, masks = next(batches)  # (B, C, H, W), (B, H, W)
            loss = pixel_cross_entropy(model(images), masks)  # logits (B, K, H, W) -> scalar
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        chunk_seconds.append(time.perf_counter() - start)
        mean_iou = float(evaluate(model, val_subset, num_classes=val_data.num_classes)["mean_iou"])
        curve.append(((chunk + 1) * eval_every, sum(chunk_seconds), mean_iou))

    reached = next((point for point in curve if point[2] >= target), None)
    return TrainingRun(
        model=name,
        dataset=dataset,
        parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
        steps=steps,
        seconds_per_step=summarize([seconds / eval_every for seconds in chunk_seconds]),
        curve=tuple(curve),
        target=target,
        steps_to_target=None if reached is None else reached[0],
        seconds_to_target=None if reached is None else reached[1],
    )
