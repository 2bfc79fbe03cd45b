"""Checks for the exercises of lesson 06 (FCN).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
The expected answers are computed from segedu itself (models, upsampling kernels, metrics).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch

from segedu.analysis.upsampling import bilinear_kernel
from segedu.course.exercises._verdict import check_cases, right, wrong
from segedu.models import TinyClassifier, convolutionalize, get_model
from segedu.training.metrics import (
    confusion_matrix,
    frequency_weighted_iou,
    mean_accuracy,
    mean_iou,
    pixel_accuracy,
)
from segedu.training.recipes import offline_dataset

__all__ = [
    "METRIC_NAMES",
    "check_bilinear_kernel",
    "check_forgotten_class",
    "check_score_map_size",
    "check_skip_start",
]

SKIP_START_CHOICES = ("identical", "different")


@torch.no_grad()
def _real_score_map_side(input_size: int, train_size: int) -> int:
    """Run a minimal convolutionalized classifier and measure its score map."""
    classifier = TinyClassifier(1, 1, base_channels=1, image_size=train_size, hidden_features=1)
    return convolutionalize(classifier)(torch.zeros(1, 1, input_size, input_size)).shape[-1]


def check_score_map_size(function: Callable[[int, int], int]) -> bool:
    """Check ``function(input_size, train_size)``: the side of a convolutionalized TinyClassifier's score map."""
    try:
        function(64, 64)
    except NotImplementedError:
        return wrong("the function still raises NotImplementedError: replace the line "
                     "`raise NotImplementedError` with a line that returns the side.")
    except Exception:  # noqa: BLE001 - check_cases reports other errors with the failing case
        pass
    return check_cases(
        function,
        [(64, 64), (128, 64), (200, 64), (96, 24), (100, 32), (24, 24)],
        _score_map_size_mistake,
        success="side = input // 8 - train // 8 + 1: one score per window, windows 8 pixels apart.",
        returns="a whole number",
    )


def _score_map_size_mistake(found: Any, input_size: int, train_size: int) -> str | None:
    expected = _real_score_map_side(input_size, train_size)
    if found == expected:
        return None
    if found == input_size // 8:
        return (
            "that is the size of the last feature map. fc1 is now a "
            f"{train_size // 8}x{train_size // 8} convolution without padding, which shrinks it further."
        )
    if found == input_size // 8 - train_size // 8:
        return "off by one: a kernel of side k fits n - k + 1 times along a row of n cells."
    if found == input_size // train_size:
        return (
            "the windows overlap: neighbouring score cells are 8 pixels apart (three 2x2 poolings), "
            "not a whole window apart."
        )
    return f"for input_size={input_size}, train_size={train_size} the model gives {expected}; you gave {found!r}."


def check_bilinear_kernel(function: Callable[[int], Any]) -> bool:
    """Check ``function(factor)`` against :func:`segedu.analysis.upsampling.bilinear_kernel` for factors 2, 3 and 4."""
    return check_cases(
        function,
        [(2,), (3,), (4,)],
        _bilinear_kernel_mistake,
        success="your kernel equals segedu.analysis.upsampling.bilinear_kernel for factors 2, 3 and 4.",
        returns="a tensor",
    )


def _bilinear_kernel_mistake(found: Any, factor: int) -> str | None:
    side = 2 * factor - factor % 2
    expected = bilinear_kernel(side)
    if not isinstance(found, torch.Tensor):
        return f"return a tensor; got {type(found).__name__}."
    found = found.detach().float()
    if found.ndim == 1 and found.shape[0] == side:
        return "that is the 1-D tent; the 2-D kernel is its outer product with itself: tent[:, None] * tent[None, :]."
    if tuple(found.shape) != (side, side):
        return (
            f"for factor {factor} the kernel is {side}x{side} (side 2 * factor - factor % 2); "
            f"got shape {tuple(found.shape)}."
        )
    if torch.allclose(found, expected, atol=1e-5):
        return None
    if math.isclose(float(found.sum()), 1.0, rel_tol=1e-4) and torch.allclose(found, expected / expected.sum()):
        return (
            "do not normalise the kernel to sum 1: stamps 'factor' pixels apart must add up to exactly one "
            "copy of the input, so the weights that overlapping stamps put on one output pixel sum to 1, "
            f"and the whole kernel sums to factor * factor = {factor * factor}."
        )
    if side % 2 == 0 and torch.allclose(found, expected / expected.max(), atol=1e-5):
        return (
            f"for factor {factor} the kernel has an even side ({side}), so its centre falls between two pixels "
            "and no weight sits on the tent's peak: the largest weight is below 1. Do not scale it up to 1."
        )
    return (
        f"for factor {factor} compare with tent = 1 - |i - centre| / factor, centre = factor - 1 for "
        f"odd sides and factor - 0.5 for even ones; first row expected {expected[0].tolist()}."
    )


METRIC_NAMES = ("pixel_accuracy", "mean_accuracy", "mean_iou", "frequency_weighted_iou")


def _metric_drops() -> dict[str, float]:
    """How much each metric falls when a perfect model calls every triangle pixel background."""
    scenes = offline_dataset("shapes", "test")
    masks = torch.stack([scenes[index][1] for index in range(len(scenes))])  # (200, 64, 64)
    forgetful = masks.clone()
    forgetful[forgetful == 3] = 0  # triangles (class 3) become background (class 0)
    perfect_matrix = confusion_matrix(masks, masks, 4)
    forgetful_matrix = confusion_matrix(forgetful, masks, 4)
    measures = {"pixel_accuracy": pixel_accuracy, "mean_accuracy": mean_accuracy, "mean_iou": mean_iou,
                "frequency_weighted_iou": frequency_weighted_iou}
    return {name: measure(perfect_matrix) - measure(forgetful_matrix) for name, measure in measures.items()}


def check_forgotten_class(prediction: Mapping[str, Any]) -> bool:
    """Check a prediction ``{"falls_most": metric, "falls_least": metric}`` for the forgotten-triangle model.

    The model labels every pixel of the shapes test masks correctly, except that it calls every
    triangle pixel background. The check computes the four metrics, prints how far each falls,
    and compares with the prediction.
    """
    if not isinstance(prediction, Mapping):
        return wrong(f"answer with a dict with keys 'falls_most' and 'falls_least'; got {type(prediction).__name__}.")
    for key in ("falls_most", "falls_least"):
        value = prediction.get(key, ...)
        if value is ...:
            return wrong(f"replace the ... of {key!r} with one of {', '.join(repr(n) for n in METRIC_NAMES)}.")
        if value not in METRIC_NAMES:
            return wrong(f"{key!r} must be one of {', '.join(repr(n) for n in METRIC_NAMES)}; got {value!r}.")
    drops = _metric_drops()
    print("how far each metric falls from 1.0:", {name: round(drop, 3) for name, drop in drops.items()})
    most, least = max(drops, key=drops.get), min(drops, key=drops.get)
    triangle_share = drops["pixel_accuracy"]  # exactly the share of pixels that are triangles
    if prediction["falls_most"] != most:
        if prediction["falls_most"] == "mean_accuracy":
            return wrong(
                "mean accuracy loses a quarter (the triangle's accuracy is 0 of 4 classes), but mean IoU loses "
                "more: the triangle's IoU is 0 and the background's IoU falls too, because its union now "
                "includes every triangle pixel predicted as background."
            )
        return wrong(
            f"{prediction['falls_most']} falls by {drops[prediction['falls_most']]:.3f}. Metrics that average over "
            "classes give the forgotten class a full quarter of the weight, whatever its size."
        )
    if prediction["falls_least"] != least:
        if prediction["falls_least"] == "frequency_weighted_iou":
            return wrong(
                "frequency-weighted IoU loses the triangles' weight and also lowers the background's IoU "
                f"(false positives in its union), so it falls about twice as far as pixel accuracy, which "
                f"loses only the triangle pixels ({triangle_share:.1%} of all pixels)."
            )
        return wrong(
            f"{prediction['falls_least']} falls by {drops[prediction['falls_least']]:.3f}; one metric falls only "
            f"by the share of triangle pixels ({triangle_share:.1%})."
        )
    return right(
        f"pixel accuracy loses only the {triangle_share:.1%} of pixels that are triangles; mean IoU loses more than "
        "a quarter: a class the model never finds costs 1/n_cl of the mean, and its pixels also dilute the "
        "IoU of the class they were given to."
    )


@torch.no_grad()
def _skip_effects(seed: int = 0) -> dict[str, float]:
    """How much an untrained FCN-16s's output moves when its pool4 branch is switched off.

    Returns the largest absolute difference of the output logits, with ``score_pool4`` as built
    (started at zero) and after PyTorch's default random initialisation of that layer.
    """
    torch.manual_seed(seed)
    model = get_model("fcn16s", in_channels=3, num_classes=4, base_channels=4, fc_channels=16).eval()
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(seed))  # (1, 3, 64, 64)

    def silenced(_module: torch.nn.Module, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(output)

    effects = {}
    for start in ("zero_start", "random_start"):
        if start == "random_start":
            model.score_pool4.reset_parameters()  # PyTorch's default random start
        with_pool4 = model(image)  # (1, 4, 64, 64)
        handle = model.score_pool4.register_forward_hook(silenced)
        without_pool4 = model(image)
        handle.remove()
        effects[start] = float((with_pool4 - without_pool4).abs().max())
    return effects


def check_skip_start(prediction: Mapping[str, Any]) -> bool:
    """Check a prediction ``{"zero_start": choice, "random_start": choice}`` about FCN-16s's first output.

    The question: before any training, is FCN-16s's output ``"identical"`` to what its conv7
    scores alone give (the pool4 branch switched off), or ``"different"``? Once with
    ``score_pool4`` started at zero as segedu (and the paper) does, once with a random start.
    The check measures both on an untrained model and explains the result.
    """
    if not isinstance(prediction, Mapping):
        return wrong(f"answer with a dict with keys 'zero_start' and 'random_start'; got {type(prediction).__name__}.")
    for key in ("zero_start", "random_start"):
        value = prediction.get(key, ...)
        if value is ...:
            return wrong(f"replace the ... of {key!r} with \"identical\" or \"different\".")
        if value not in SKIP_START_CHOICES:
            return wrong(f"{key!r} must be \"identical\" or \"different\"; got {value!r}.")
    effects = _skip_effects()
    print(f"largest change of the untrained output when the pool4 branch is switched off: "
          f"zero start {effects['zero_start']:.4f}, random start {effects['random_start']:.4f}")
    expected = {key: "identical" if effect == 0 else "different" for key, effect in effects.items()}
    if prediction["zero_start"] != expected["zero_start"]:
        return wrong(
            "a 1 x 1 convolution whose weights and bias are all zero outputs zeros, whatever pool4 holds; "
            "adding zeros to the upsampled conv7 scores changes nothing."
        )
    if prediction["random_start"] != expected["random_start"]:
        return wrong(
            "random weights turn pool4's features into random class scores, one per 16-pixel cell, and "
            "those are added to the upsampled conv7 scores before the last upsampling."
        )
    return right(
        "started at zero, the skip adds nothing: the untrained FCN-16s predicts from conv7 alone, like an "
        "FCN-32s, and training grows the pool4 scores only as far as they lower the loss. A random start "
        "would add random scores at every 16-pixel cell: noise the network must first unlearn."
    )
