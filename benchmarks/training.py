"""Training within a time budget: segedu's models against a reference library's U-Net.

Every model, ours and the references (segmentation_models_pytorch's ``Unet`` with a ResNet-18
encoder, and the lighter MobileNet-V2 one, both randomly initialised, so nothing is downloaded), is
trained by the package's own three-minute recipe, :func:`segedu.training.quick.train_within`: the same
pool of training scenes, optimiser, learning-rate schedule, precision, budget and seed. Every
``observe_every`` seconds the model is scored on a few validation scenes (the clock stops meanwhile);
when the budget is spent it is scored on the whole test split. Several seeds per model and dataset,
because one three-minute run is a demonstration, not a measurement.

Example:
    >>> run = benchmark_training("unet", "digits", seconds=180, target=0.8, seed=0)  # doctest: +SKIP
    >>> run.test_mean_iou, run.seconds_to_target                                      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import Subset

from segedu.training.quick import QuickRecipe

__all__ = [
    "LIGHT_REFERENCE",
    "REFERENCE",
    "SEGEDU_MODELS",
    "TRAINING_MODELS",
    "TrainingRun",
    "benchmark_training",
    "build_benchmark_model",
    "reference_unet",
]

REFERENCE = "smp_unet_resnet18"
LIGHT_REFERENCE = "smp_unet_mobilenet_v2"
SEGEDU_MODELS = ("fcn32s", "fcn8s", "segnet", "unet")
TRAINING_MODELS = (*SEGEDU_MODELS, REFERENCE, LIGHT_REFERENCE)
_REFERENCE_ENCODERS = {REFERENCE: "resnet18", LIGHT_REFERENCE: "mobilenet_v2"}


def reference_unet(in_channels: int, num_classes: int, encoder: str = "resnet18") -> nn.Module:
    """segmentation_models_pytorch's ``Unet`` with a ResNet-18 (or MobileNet-V2) encoder and random weights.

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
    return smp.Unet(encoder, encoder_weights=None, in_channels=in_channels, classes=num_classes)


def build_benchmark_model(name: str, in_channels: int, num_classes: int) -> nn.Module:
    """A segedu model at the size of its shipped checkpoint, or a reference (``REFERENCE``, ``LIGHT_REFERENCE``)."""
    if name in _REFERENCE_ENCODERS:
        return reference_unet(in_channels, num_classes, _REFERENCE_ENCODERS[name])
    from segedu.models import get_model
    from segedu.training.recipes import RECIPES

    recipe = RECIPES.get((name, "shapes"))
    sizes = recipe.model_kwargs if recipe is not None else {}
    return get_model(name, in_channels=in_channels, num_classes=num_classes, **sizes)


@dataclass(frozen=True)
class TrainingRun:
    """One model trained on one dataset with one seed for a fixed number of seconds.

    Attributes:
        model: segedu registry name, ``REFERENCE`` or ``LIGHT_REFERENCE``.
        dataset: ``"shapes"`` or ``"digits"``.
        seed: Seeds the initial weights and the recipe's sampling order.
        parameters: Trainable parameters.
        seconds: Training seconds actually spent (the budget, give or take the last step).
        steps: Optimiser steps taken within the budget.
        steps_per_second: Training speed once the scene pool is rendered (between the recipe's first
            and last loss records); ``steps / seconds`` when the run is too short to have two.
        curve: ``(training seconds, steps, validation mean IoU)`` at every observation, then at the end.
        target: The validation mean IoU to reach.
        seconds_to_target: Training seconds of the first observation at or above ``target`` (None if never).
        test_mean_iou: Mean IoU on the whole test split after the budget.
        bfloat16: Whether the convolutions ran in bfloat16.
        threads: PyTorch's CPU threads during the run.
    """

    model: str
    dataset: str
    seed: int
    parameters: int
    seconds: float
    steps: int
    steps_per_second: float
    curve: tuple[tuple[float, int, float], ...]
    target: float
    seconds_to_target: float | None
    test_mean_iou: float
    bfloat16: bool
    threads: int


def benchmark_training(
    name: str,
    dataset: str,
    *,
    seconds: float,
    target: float,
    seed: int = 0,
    observe_every: float = 15.0,
    val_scenes: int = 64,
    recipe: QuickRecipe = QuickRecipe(),
    progress: bool = False,
) -> TrainingRun:
    """Train ``name`` on ``dataset`` for ``seconds`` with the quick recipe; record speed and quality.

    Args:
        name: A segedu model (``SEGEDU_MODELS``), ``REFERENCE`` or ``LIGHT_REFERENCE``.
        dataset: ``"shapes"`` or ``"digits"`` (the course's offline datasets).
        seconds: The training budget (rendering the scene pool counts against it), > 0.
        target: Validation mean IoU whose first crossing is reported, in (0, 1].
        seed: Seeds the initial weights and the recipe's sampling order.
        observe_every: Training seconds between two validation scores (not counted in the budget).
        val_scenes: How many validation scenes to score at each observation.
        recipe: The quick recipe's settings (batch, learning rate, pool size, precision).
        progress: Show the recipe's progress bar.

    Returns:
        The :class:`TrainingRun` (it runs on ``torch.get_num_threads()`` threads; set them before).
    """
    from segedu.core.seeding import seed_everything
    from segedu.training.evaluation import evaluate
    from segedu.training.quick import train_within
    from segedu.training.recipes import offline_dataset, training_scenes

    if not 0.0 < target <= 1.0:
        raise ValueError(f"target is a mean IoU in (0, 1]; got {target}")
    if isinstance(val_scenes, bool) or not isinstance(val_scenes, int) or val_scenes < 1:
        raise ValueError(f"val_scenes must be a positive int; got {val_scenes!r}")
    val_data = offline_dataset(dataset, "val")
    test_data = offline_dataset(dataset, "test")
    val_subset = Subset(val_data, range(min(val_scenes, len(val_data))))
    num_classes = val_data.num_classes
    seed_everything(seed)
    model = build_benchmark_model(name, val_data.channels, num_classes)

    curve: list[tuple[float, int, float]] = []

    def observe(elapsed: float, steps: int, observed: nn.Module) -> None:
        mean_iou = float(evaluate(observed, val_subset, num_classes=num_classes)["mean_iou"])
        curve.append((round(elapsed, 2), steps, mean_iou))

    run = train_within(
        model, training_scenes(dataset, recipe.pool_size), seconds, recipe=recipe, seed=seed,
        progress=progress, observe=observe, observe_every=observe_every,
    )
    observe(run.seconds, run.steps, model)  # the score at the end of the budget
    return TrainingRun(
        model=name,
        dataset=dataset,
        seed=seed,
        parameters=sum(weight.numel() for weight in model.parameters() if weight.requires_grad),
        seconds=run.seconds,
        steps=run.steps,
        steps_per_second=_steps_per_second(run.curve, run.steps, run.seconds),
        curve=tuple(curve),
        target=target,
        seconds_to_target=_seconds_to_target(curve, target),
        test_mean_iou=float(evaluate(model, test_data, num_classes=num_classes)["mean_iou"]),
        bfloat16=run.bfloat16,
        threads=torch.get_num_threads(),
    )


def _seconds_to_target(curve: list[tuple[float, int, float]], target: float) -> float | None:
    """Seconds of the first ``(seconds, steps, mean IoU)`` observation at or above ``target``; None if none is."""
    return next((seconds for seconds, _, mean_iou in curve if mean_iou >= target), None)


def _steps_per_second(loss_curve: list[tuple[float, int, float]], steps: int, seconds: float) -> float:
    """Speed between the first and last ``(seconds, steps, loss)`` records, so the pool's rendering is left out."""
    if len(loss_curve) >= 2 and loss_curve[-1][0] > loss_curve[0][0]:
        (first_seconds, first_steps, _), (last_seconds, last_steps, _) = loss_curve[0], loss_curve[-1]
        return (last_steps - first_steps) / (last_seconds - first_seconds)
    return steps / seconds

