"""Checks for the exercises of lesson 07 (FCN).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
The expected answers are computed from segedu itself (models, upsampling kernels).
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
from segedu.models import get_model

__all__ = [
    "GRID_STAGES",
    "PADDING_ONLY_KEY",
    "SKIP_START_STATEMENTS",
    "WEIGHT_GRADIENT_CHOICES",
    "check_bilinear_kernel",
    "check_fcn_grid",
    "check_skip_start",
]

SKIP_START_STATEMENTS = {
    "a": "in the paper's staged training, a zero-start score_pool4 lets the new FCN-16s begin from the "
         "trained FCN-32s's scores untouched: the new branch adds nothing until training finds scores "
         "that lower the loss",
    "b": "at the first step the pool4 branch passes no gradient down to pool4: whatever gradient reaches "
         "encoder stage 4 comes through pool5",
    "c": "score_pool4's bias starts at zero too, and the gradient reaching it at the first step is zero as "
         "well: until the weights have moved, the branch cannot even add a constant score per class",
    "d": "score_pool4's filters all start equal (all zero), so, like the units of a hidden layer started at one "
         "constant, they get equal gradients and stay equal: the branch can only ever add the same score to "
         "every class, which never changes which class wins",
}
_SKIP_START_TRUE = frozenset({"a", "b"})
_SKIP_START_REASONS = {
    "a": "a 1 x 1 convolution with zero weights and bias outputs zeros whatever pool4 holds (switching the "
         "zero-start branch off changes the output by 0, printed above), so in staged training the network "
         "starts from what FCN-32s already learned, and the skip grows only as far as it lowers the loss",
    "b": "the gradient a convolution passes down is its weights times the upstream gradient, and the weights "
         "are zero: the gradient through the skip is 0 (printed above); stage 4 still gets one through pool5",
    "c": "a bias's gradient is the upstream gradient summed over every position of its class's map; it is not "
         "multiplied by any weight, so the zero start does not stop it: it is not zero at the first step "
         "(printed above), and the branch can learn a per-class constant from the first step on",
    "d": "each filter of score_pool4 scores one class, and its gradient is pool4's features times that class's "
         "own upstream gradient (softmax probability minus target, upsampled), which differs from class to class: "
         "the filters' gradients already differ at the first step (smallest difference printed above), so the "
         "filters part at once. Equal starts trap only interchangeable units, such as hidden units that feed the "
         "next layer through equal weights; the loss treats every class differently, so the class filters are not",
}
WEIGHT_GRADIENT_CHOICES = ("zero", "not zero")
_SKIP_START_HINTS = {  # one question per letter, for a miss: it points at the reasoning without the verdict
    "a": "what does a 1 x 1 convolution whose weights and bias are all zero output, whatever pool4 holds, and so "
         "what does the new FCN-16s's output start as?",
    "b": "the gradient a convolution passes down to its input is the upstream gradient multiplied by what? And "
         "which other path leads from the loss to encoder stage 4?",
    "c": "a bias's gradient is the upstream gradient summed over the positions of its class's map: is any weight "
         "a factor in it?",
    "d": "each of score_pool4's filters scores one class: does the loss send every class the same upstream "
         "gradient at the first step?",
}


GRID_STAGES = ("conv7", "pool4", "pool3")
PADDING_ONLY_KEY = "pool3_padding_only"


@torch.no_grad()
def _grid_sides(size: int) -> dict[str, int]:
    """Measure the side of an FCN-8s's score map at each decoder stage for a ``size x size`` image."""
    from segedu.widgets.fcn_explorer import fcn_score_maps  # the widget module draws; import it only when asked

    model = get_model("fcn8s", in_channels=3, num_classes=4, base_channels=2, fc_channels=4).eval()
    maps = fcn_score_maps(model, torch.zeros(1, 3, size, size))
    return {"conv7": maps["conv7"].shape[-1], "pool4": maps["fused_pool4"].shape[-1],
            "pool3": maps["fused_pool3"].shape[-1], "final": maps["final"].shape[-1]}


@torch.no_grad()
def _padding_only_cells(size: int) -> dict[str, Any]:
    """Count the pool3 cells of an FCN-8s whose 8 x 8 block of the padded input holds no real pixel.

    The padded input is read from the model itself (a hook on its first stage); an image of distinct
    values shows where the real ``size x size`` pixels sit inside it.
    """
    model = get_model("fcn8s", in_channels=3, num_classes=4, base_channels=2, fc_channels=4).eval()
    seen: dict[str, torch.Tensor] = {}
    handle = model.stage1.register_forward_pre_hook(lambda module, inputs: seen.update(padded=inputs[0]))
    try:
        image = torch.arange(size * size, dtype=torch.float32).reshape(1, 1, size, size).expand(1, 3, size, size)
        model(image)
    finally:
        handle.remove()
    padded = seen["padded"][0, 0]  # (H', W')
    side = padded.shape[-1]
    top, left = next((row, column) for row in range(side - size + 1) for column in range(side - size + 1)
                     if torch.equal(padded[row:row + size, column:column + size], image[0, 0]))
    real = torch.zeros(side, side)
    real[top:top + size, left:left + size] = 1.0  # (H', W'): 1 where the pixel is the image's own
    cells = torch.nn.functional.max_pool2d(real[None, None], 8)[0, 0]  # (H'/8, W'/8): 1 if the block has a real pixel
    return {"padded": side, "top": top, "left": left, "count": int((cells == 0).sum()), "cells": cells.numel()}


def check_fcn_grid(prediction: Mapping[str, Any], size: int = 100) -> bool:
    """Check a prediction of FCN-8s's score-map sides, and of its padding-only pool3 cells, for a ``size x size`` image.

    ``prediction`` maps ``"conv7"``, ``"pool4"`` and ``"pool3"`` to the predicted side of the conv7
    scores, of the sum with pool4's scores and of the sum with pool3's scores, and
    ``"pool3_padding_only"`` to the number of pool3 cells whose 8 x 8 block of the padded image holds
    no pixel of the real image. The check runs an (untrained) FCN-8s on an image of that size and
    judges each part before it prints what it measured, so a miss gets a hint, never the answer.
    """
    keys = GRID_STAGES + (PADDING_ONLY_KEY,)
    if not isinstance(prediction, Mapping):
        return wrong(f"answer with a dict with keys {', '.join(repr(key) for key in keys)}; "
                     f"got {type(prediction).__name__}.")
    for key in keys:
        value = prediction.get(key, ...)
        if value is ...:
            return wrong(f"replace the ... of {key!r} with the number you predict (a whole number).")
        if isinstance(value, bool) or not isinstance(value, int):
            return wrong(f"{key!r} is a whole number of cells; got {value!r}.")
    sides = _grid_sides(size)
    guess = [prediction[stage] for stage in GRID_STAGES]
    measured = [sides[stage] for stage in GRID_STAGES]
    if guess != measured:
        if guess == [size // 32, size // 16, size // 8]:
            return wrong(f"those are {size} divided by 32, 16 and 8, rounded down, as if the image were cropped. "
                         f"A cropped image would leave pixels with no class, yet the output has one for each of the "
                         f"{size} x {size} pixels: what must the network do to the image instead, before the encoder?")
        if guess == [-(-size // 32), -(-size // 16), -(-size // 8)]:
            return wrong("you rounded each stage up on its own. The model pads the image once, before the encoder, "
                         "so that all five poolings divide evenly: to a multiple of what?")
        if guess[1] != 2 * guess[0] or guess[2] != 2 * guess[1]:
            return wrong("each skip sum adds a 2x upsampled map to a pooled one of the same size, so each grid must "
                         "be exactly twice the side of the one before.")
        return wrong(f"you predicted {', '.join(f'{stage} {value}' for stage, value in zip(GRID_STAGES, guess))}. "
                     f"The model pads the {size} x {size} image once, before the encoder, to the smallest side that "
                     "five 2 x 2 poolings divide evenly; each grid is that side divided by 32, 16 and 8.")
    padding = _padding_only_cells(size)
    count, side, pad = padding["count"], sides["pool3"], padding["padded"] - size
    print(f"FCN-8s on a {size} x {size} image: conv7 scores {sides['conv7']} x {sides['conv7']}, + pool4 "
          f"{sides['pool4']} x {sides['pool4']}, + pool3 {sides['pool3']} x {sides['pool3']}, output "
          f"{sides['final']} x {sides['final']} (your sides are right); the padded image is {padding['padded']} x "
          f"{padding['padded']}, the real pixels start at row {padding['top']}, column {padding['left']}")
    answer = prediction[PADDING_ONLY_KEY]
    if answer == count:
        real = round(math.sqrt(side * side - count))  # rows (and columns) of cells that hold a real pixel
        why = ""
        by_sixteen = 16 * -(-size // 16)  # the smallest multiple of 16 at or above size
        if pad and by_sixteen < padding["padded"]:
            why = (f"Why {padding['padded']}, the smallest multiple of 32 at or above {size}, and not less? Left at "
                   f"{size}, the third pooling would already leave a half cell ({size} / 8 = {size / 8:g}); padded to {by_sixteen}, a multiple of 16 only, "
                   f"pool4 would be {by_sixteen // 16} x {by_sixteen // 16} and pool5 could not halve it. ")
        return right(
            f"{why}The model pads {pad} rows at the bottom and {pad} columns at the right, and the output is cropped "
            f"back to {size} x {size}. A pool3 cell's block holds a real pixel when it starts before row {size}: "
            f"{real} of the {side} rows of cells and {real} of the {side} columns do, so {side} x {side} - "
            f"{real} x {real} = {count} of the {padding['cells']} cells see only mirrored padding. Their scores, and "
            "the sums they feed, are computed and then thrown away with the crop; the cells along the edge mix real "
            "and mirrored pixels."
        )
    full_rows = pad // 8
    if answer == 2 * full_rows * side:
        return wrong(f"you counted the {full_rows} x {full_rows} corner cells twice: they lie in the padded rows "
                     "and in the padded columns.")
    if answer in (full_rows * side, full_rows * full_rows):
        return wrong("the padding is a band along the bottom AND a band along the right: count the cells of "
                     "both bands, the corner once.")
    half = pad // 2  # the count if the padding were split evenly between the two sides
    split = side - sum(1 for start in range(0, side * 8, 8) if half <= start + 7 and start < half + size)
    if answer == side * side - (side - split) ** 2:
        return wrong("segedu pads only at the bottom and the right (pad_to_multiple), not evenly on both sides.")
    if answer == side * side - (side - pad // 8 - 1) ** 2:
        return wrong(f"the cell that starts at row {8 * (size // 8)} still holds real rows ({8 * (size // 8)} to "
                     f"{size - 1}): a cell sees only padding when its whole 8-pixel block lies at row {size} or below.")
    return wrong(f"you predicted {answer} pool3 cells that see only padding. Work out how many rows of cells start "
                 f"at row {size} or below, then count the cells in those rows or in those columns.")


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

    Returns the norm of the gradient reaching ``score_pool4``'s weights and its bias, the norm of the gradient
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
            "score_pool4_bias": float(model.score_pool4.bias.grad.norm()),
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
    output moves when the pool4 branch is switched off (zero start, then PyTorch's random start). A miss
    gets one hint per wrong or missing letter (a question, not the verdict) and no measured numbers; a
    right answer prints the measurements and explains every statement.

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
    problems = []
    if weight_gradient != ("zero" if gradients["score_pool4"] == 0 else "not zero"):
        problems.append("weight_gradient: a weight's gradient is the upstream gradient times the layer's input; "
                        "which of the two is zero at the first step?")
    problems += [f"Look again at {letter}: {_SKIP_START_HINTS[letter]}"
                 for letter in sorted(letters ^ _SKIP_START_TRUE)]
    if problems:  # a miss: one hint per wrong or missing letter, no measured numbers and no verdicts
        return wrong(" ".join(problems))
    effects = _skip_effects()
    print(f"untrained FCN-16s, first step: gradient norm of score_pool4's weights {gradients['score_pool4']:.4f} "
          f"(you predicted {weight_gradient!r}), of its bias {gradients['score_pool4_bias']:.4f}; passed down by score_pool4 to pool4 {gradients['through_skip']:.4f}; "
          f"reaching encoder stage 4's convolutions {gradients['stage4']:.4f}")
    print(f"score_pool4 has one filter per class; their gradients have norms {gradients['filter_norm_low']:.4f} to "
          f"{gradients['filter_norm_high']:.4f}, and the two closest differ by {gradients['filters_apart']:.4f}")
    print(f"largest change of the output when the pool4 branch is switched off: zero start "
          f"{effects['zero_start']:.4f}, random start {effects['random_start']:.4f}")
    explained = " ".join(f"{letter} is {'true' if letter in _SKIP_START_TRUE else 'false'}: "
                         f"{_SKIP_START_REASONS[letter]}." for letter in sorted(SKIP_START_STATEMENTS))
    return right(
        "the weights' gradient is not zero: it is the upstream gradient times the layer's input, pool4's "
        "features, which are not zero; only the gradient the layer passes *down* is zero, because that one is "
        f"multiplied by the zero weights. {explained} So a zero-start branch changes nothing at first, yet its "
        "weights learn from the first step, each class's filter in its own direction, and the encoder below it "
        "learns through pool5. That matters in the paper's staged training, where each new "
        "variant starts from a trained coarser one and must not spoil it. In segedu's all-at-once training "
        "from scratch there is nothing to preserve: the zero start only keeps the pool4 branch silent at "
        "the first step (whether it changes the trained result here is not measured in this course)."
    )
