"""Checks for the exercises of lesson 07 (FCN).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
The expected answers are computed from segedu itself (models, upsampling kernels, metrics).
"""

from __future__ import annotations

import ast
import inspect
import math
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

import torch

from segedu.analysis.upsampling import bilinear_kernel
from segedu.course.exercises._verdict import check_cases, choice_hint, read_letters, right, wrong
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
    "SKIP_START_STATEMENTS",
    "WEIGHT_GRADIENT_CHOICES",
    "check_bilinear_kernel",
    "check_forgotten_class",
    "check_score_map_size",
    "check_skip_start",
]

SKIP_START_STATEMENTS = {
    "a": "in the paper's staged training, a zero-start score_pool4 lets the new FCN-16s begin from the "
         "trained FCN-32s's scores untouched: the new branch adds nothing until training finds scores "
         "that lower the loss",
    "b": "at the first step the pool4 branch passes no gradient down to pool4: whatever gradient reaches "
         "encoder stage 4 comes through pool5",
    "c": "in segedu's all-at-once training the zero start preserves no trained model: at the first step "
         "conv7's scores are random anyway (score_fr starts random)",
    "d": "score_pool4's filters all start equal (all zero), so, like the units of a hidden layer started at one "
         "constant, they get equal gradients and stay equal: the branch can only ever add the same score to "
         "every class, which never changes which class wins",
}
_SKIP_START_TRUE = frozenset({"a", "b", "c"})
_SKIP_START_REASONS = {
    "a": "a 1 x 1 convolution with zero weights and bias outputs zeros whatever pool4 holds (switching the "
         "zero-start branch off changes the output by 0, printed above), so in staged training the network "
         "starts from what FCN-32s already learned, and the skip grows only as far as it lowers the loss",
    "b": "the gradient a convolution passes down is its weights times the upstream gradient, and the weights "
         "are zero: the gradient through the skip is 0 (printed above); stage 4 still gets one through pool5",
    "c": "segedu builds every variant from scratch with a random score_fr, so there is no trained FCN-32s "
         "to preserve; the zero start only keeps the pool4 branch silent at the first step",
    "d": "each filter of score_pool4 scores one class, and its gradient is pool4's features times that class's "
         "own upstream gradient (softmax probability minus target, upsampled), which differs from class to class: "
         "the filters' gradients already differ at the first step (smallest difference printed above), so the "
         "filters part at once. Equal starts trap only interchangeable units, such as hidden units that feed the "
         "next layer through equal weights; the loss treats every class differently, so the class filters are not",
}
WEIGHT_GRADIENT_CHOICES = ("zero", "not zero")


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


_KERNEL_GIVEAWAYS = frozenset({
    "bilinear_kernel", "bilinear_upsample_weight", "BilinearUpsample", "ConvTranspose2d", "upscore2",
    "upscore_pool4", "upscore8", "upscore16", "upscore32",
})


def _borrowed_kernel(function: Callable[..., Any]) -> str | None:
    """The name of a ready-made bilinear kernel (segedu's or a model's) that ``function`` uses, if any."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):  # no source to read (a lambda in a test, a built-in)
        return None
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if name in _KERNEL_GIVEAWAYS:
            return name
    return None


def check_bilinear_kernel(function: Callable[[int], Any]) -> bool:
    """Check ``function(factor)`` against :func:`segedu.analysis.upsampling.bilinear_kernel` for factors 2, 3 and 4.

    The learner builds the kernel from what it must do; a function that reads a ready-made kernel
    (``bilinear_kernel``, ``bilinear_upsample_weight``, a ``BilinearUpsample`` layer's weights) is
    sent back.
    """
    borrowed = _borrowed_kernel(function)
    if borrowed is not None:
        return wrong(f"your function uses `{borrowed}`, which holds the answer ready-made. Build the kernel "
                     "yourself from the two rules of the exercise (flat in, flat out; linear between input pixels).")
    try:
        function(2)
    except NotImplementedError:
        return wrong("the function still raises NotImplementedError: replace the line "
                     "`raise NotImplementedError` with code that returns the kernel.")
    except Exception:  # noqa: BLE001 - check_cases reports other errors with the failing case
        pass
    return check_cases(
        function,
        [(2,), (3,), (4,)],
        _bilinear_kernel_mistake,
        success="your kernel equals segedu.analysis.upsampling.bilinear_kernel for factors 2, 3 and 4.",
        returns="a tensor",
    )


def _stamp_sums(kernel: torch.Tensor, factor: int) -> torch.Tensor:
    """What stamps ``factor`` pixels apart add up to at each of the ``factor x factor`` output phases."""
    return torch.stack([torch.stack([kernel[row::factor, column::factor].sum() for column in range(factor)])
                        for row in range(factor)])  # (factor, factor)


def _bilinear_kernel_mistake(found: Any, factor: int) -> str | None:
    side = 2 * factor - factor % 2
    expected = bilinear_kernel(side)
    if not isinstance(found, torch.Tensor):
        return f"return a tensor; got {type(found).__name__}."
    found = found.detach().float()
    if found.ndim == 1 and found.shape[0] == side:
        return ("that is a 1-D profile; the kernel is 2-D: every pixel's weight is the product of a row "
                "weight and a column weight.")
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
    if not (torch.allclose(found, found.flip(0), atol=1e-5) and torch.allclose(found, found.flip(1), atol=1e-5)):
        return (
            f"for factor {factor} your kernel is not symmetric: interpolation treats left and right alike. "
            f"Where is the centre of a kernel of side {side}?"
        )
    sums = _stamp_sums(found, factor)
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
        return (
            f"for factor {factor}, stamps {factor} pixels apart do not add up to 1 at every output pixel "
            f"(they give {[round(value, 3) for value in sums.flatten().tolist()]}), so a flat input would not "
            "come out flat."
        )
    return (
        f"for factor {factor} a flat input comes out flat, but the output does not change linearly between two "
        "input pixels: along a row, the weights must fall by the same step from the centre to the edge."
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


def _first_step_gradients(seed: int = 0) -> dict[str, float]:
    """Gradient norms at an untrained FCN-16s's first step (zero-start ``score_pool4``).

    Returns the norm of the gradient reaching ``score_pool4``'s weights, the norm of the gradient
    that ``score_pool4`` passes down to pool4, the norm reaching the convolution weights of
    encoder stage 4 (whose output is pool4), the smallest distance between the gradients of two
    of ``score_pool4``'s filters (one filter per class) and the range of those filters' gradient norms.
    """
    torch.manual_seed(seed)
    model = get_model("fcn16s", in_channels=3, num_classes=4, base_channels=4, fc_channels=16).train()
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 3, 64, 64, generator=generator)  # (2, 3, 64, 64)
    mask = torch.randint(0, 4, (2, 64, 64), generator=generator)  # (2, 64, 64)
    passed_down = []

    def record(_module: torch.nn.Module, gradient_in: tuple[torch.Tensor, ...], _gradient_out: Any) -> None:
        passed_down.append(gradient_in[0])  # (2, C, 4, 4): the gradient this layer alone sends to pool4

    handle = model.score_pool4.register_full_backward_hook(record)
    torch.nn.functional.cross_entropy(model(image), mask).backward()
    handle.remove()
    stage4 = [parameter.grad for name, parameter in model.stage4.named_parameters() if name.endswith("conv.weight")]
    per_filter = model.score_pool4.weight.grad.flatten(1)  # (K, C): one row per class's filter
    distances = torch.cdist(per_filter, per_filter)  # (K, K)
    apart = distances[~torch.eye(len(per_filter), dtype=torch.bool)]  # the K * (K - 1) pairs of different filters
    norms = per_filter.norm(dim=1)  # (K,)
    return {"score_pool4": float(model.score_pool4.weight.grad.norm()),
            "through_skip": float(passed_down[0].norm()),
            "stage4": float(torch.cat([gradient.flatten() for gradient in stage4]).norm()),
            "filters_apart": float(apart.min()),
            "filter_norm_low": float(norms.min()),
            "filter_norm_high": float(norms.max())}


def check_skip_start(weight_gradient: Any, prediction: Any) -> bool:
    """Check a prediction about the zero-start ``score_pool4`` and which statements of :data:`SKIP_START_STATEMENTS` hold.

    The check measures, on an untrained FCN-16s, the gradients at the first training step (reaching
    ``score_pool4``'s weights and how far its per-class filters' gradients differ, passed down by it to
    pool4, reaching encoder stage 4) and how much the
    output moves when the pool4 branch is switched off (zero start, then PyTorch's random start); it
    compares the learner's prediction with the measured gradient, then explains every letter the
    learner got wrong.

    Args:
        weight_gradient: The predicted gradient of ``score_pool4``'s weights at the first step,
            ``"zero"`` or ``"not zero"``; ``...`` means not recorded yet.
        prediction: The letters of the true statements, as a set, list or string; ``...`` means not
            recorded yet.

    Returns:
        Whether the prediction is right and the letters are exactly the true statements.
    """
    hint = choice_hint(weight_gradient, WEIGHT_GRADIENT_CHOICES)
    if hint is not None:
        return wrong(hint)
    if prediction is ... or prediction is None:
        return wrong("record your answer first: replace the `...` with the set of letters of the true "
                     "statements, e.g. {'a', 'b'} (or set() for none).")
    letters, hint = read_letters(prediction, SKIP_START_STATEMENTS, "are not among the statements")
    if hint is not None:
        return wrong(hint)
    gradients = _first_step_gradients()
    effects = _skip_effects()
    print(f"untrained FCN-16s, first step: gradient norm of score_pool4's weights {gradients['score_pool4']:.4f} "
          f"(you predicted {weight_gradient!r}); passed down by score_pool4 to pool4 {gradients['through_skip']:.4f}; "
          f"reaching encoder stage 4's convolutions {gradients['stage4']:.4f}")
    print(f"score_pool4 has one filter per class; their gradients have norms {gradients['filter_norm_low']:.4f} to "
          f"{gradients['filter_norm_high']:.4f}, and the two closest differ by {gradients['filters_apart']:.4f}")
    print(f"largest change of the output when the pool4 branch is switched off: zero start "
          f"{effects['zero_start']:.4f}, random start {effects['random_start']:.4f}")
    measured = "zero" if gradients["score_pool4"] == 0 else "not zero"
    problems = []
    if weight_gradient != measured:
        problems.append("the weights' gradient is not zero: it is the upstream gradient times the layer's input, "
                        "pool4's features, which are not zero; only the gradient the layer passes *down* is zero, "
                        "because that one is multiplied by the zero weights")
    problems += [
        f"{letter} is {'true' if letter in _SKIP_START_TRUE else 'false'}: {_SKIP_START_REASONS[letter]}"
        for letter in sorted(letters ^ _SKIP_START_TRUE)
    ]
    if not problems:
        return right(
            "a zero-start branch changes nothing at first, yet its weights learn from the first step, each class's "
            "filter in its own direction, and the encoder below it learns through pool5. That matters in the paper's staged training, where each new "
            "variant starts from a trained coarser one and must not spoil it. In segedu's all-at-once training "
            "from scratch there is nothing to preserve: the zero start only keeps the pool4 branch silent at "
            "the first step (whether it changes the trained result here is not measured in this course)."
        )
    return wrong("; ".join(problems) + ".")
