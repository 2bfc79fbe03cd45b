"""Checks for the exercises of lesson 09 (comparing shortcut connections).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from segedu.course.exercises._verdict import check_cases, right, wrong
from segedu.training.metrics import ConfusionMeter, boundary_band, confusion_matrix, iou_per_class

__all__ = [
    "ERROR_KINDS",
    "check_band_mean_iou",
    "check_far_error_prediction",
    "check_pick_model",
    "check_score_layer_parameters",
]

_IGNORE = 255


def _as_number(found: Any) -> float | None:
    try:
        return float(found)
    except (TypeError, ValueError):
        return None


# --- 1 · mean IoU inside the boundary band ----------------------------------------------------


def _band_cases() -> list[tuple[torch.Tensor, torch.Tensor, int, int]]:
    """(pred, target, width, num_classes): blocky scenes with noisy predictions and ignored pixels."""
    generator = torch.Generator().manual_seed(9)
    cases = []
    for batch, size, num_classes, width in ((2, 16, 4, 1), (3, 24, 5, 2), (1, 20, 6, 3)):
        coarse = torch.randint(0, num_classes - 2, (batch, size // 4, size // 4), generator=generator)
        target = coarse.repeat_interleave(4, dim=1).repeat_interleave(4, dim=2)  # (B, S, S) blocks
        flip = torch.rand(target.shape, generator=generator) < 0.2
        noise = torch.randint(0, num_classes - 1, target.shape, generator=generator)
        pred = torch.where(flip, noise, target)  # class K - 2 is only predicted (IoU 0), class K - 1 absent (NaN)
        target[:, 0, : size // 2] = _IGNORE
        cases.append((pred, target, width, num_classes))
    return cases


def _band_reference(pred: torch.Tensor, target: torch.Tensor, width: int, num_classes: int) -> float:
    meter = ConfusionMeter(num_classes, ignore_index=_IGNORE)
    meter.update(pred, target, boundary_band(target, width))
    return float(meter.compute()["mean_iou"])


def _mean_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int, where: torch.Tensor) -> float:
    matrix = confusion_matrix(pred, target, num_classes, _IGNORE, where)
    return float(torch.nanmean(iou_per_class(matrix)))


def _absent_as_zero(pred: torch.Tensor, target: torch.Tensor, width: int, num_classes: int) -> float:
    matrix = confusion_matrix(pred, target, num_classes, _IGNORE, boundary_band(target, width))
    return float(iou_per_class(matrix).nan_to_num(0.0).mean())


def _ignored_in_union(pred: torch.Tensor, target: torch.Tensor, width: int, num_classes: int) -> float:
    band = boundary_band(target, width)
    values = []
    for label in range(num_classes):
        hit, true = (pred == label) & band, (target == label) & band
        union = int((hit | true).sum())
        if union:
            values.append(int((hit & true).sum()) / union)
    return sum(values) / len(values)


def check_band_mean_iou(function: Callable[[torch.Tensor, torch.Tensor, int, int], Any]) -> bool:
    """Check ``function(pred, target, width, num_classes) -> float``: mean IoU of the band pixels.

    The band is :func:`segedu.training.metrics.boundary_band` ``(target, width)``; target pixels equal to 255
    are not scored. A class with no pixel in the band's target *and* none in its prediction has no IoU
    (0 / 0, NaN) and is left out of the mean; a class predicted in the band but absent from its target
    scores 0 and counts.
    """
    return check_cases(
        function,
        _band_cases(),
        _band_mean_iou_mistake,
        success="your band mean IoU equals segedu's (evaluate with valid_mask_fn).",
    )


def _band_mean_iou_mistake(
    found: Any, pred: torch.Tensor, target: torch.Tensor, width: int, num_classes: int
) -> str | None:
    value = _as_number(found)
    if value is None:
        return f"return one number (the mean IoU); got {type(found).__name__}."
    expected = _band_reference(pred, target, width, num_classes)
    if abs(value - expected) < 1e-6:
        return None
    band = boundary_band(target, width)
    everywhere = torch.ones_like(band)
    if abs(value - _mean_iou(pred, target, num_classes, everywhere)) < 1e-6:
        return "that is the mean IoU of all pixels: count only the band, valid_mask=boundary_band(target, width)."
    if abs(value - _mean_iou(pred, target, num_classes, ~band)) < 1e-6:
        return "that is the interior (~band): keep the pixels where boundary_band(...) is True."
    if abs(value - _absent_as_zero(pred, target, width, num_classes)) < 1e-6:
        return ("a class with no pixel in the band's truth and none in its prediction has no IoU (NaN): leave it "
                "out of the mean (torch.nanmean), do not count it as a 0.")
    if abs(value - _ignored_in_union(pred, target, width, num_classes)) < 1e-6:
        return "pixels whose target is 255 are not scored: leave them out of every union (ignore_index=255)."
    return (
        f"for a (B, H, W) = {tuple(target.shape)} batch with width {width} the band's mean IoU is "
        f"{expected:.4f}; you gave {value:.4f}. Build the confusion matrix of the band pixels, then mean_iou."
    )


# --- far-from-boundary errors: predict, then count -------------------------------------------

ERROR_KINDS = ("bg -> object", "object -> bg", "object -> other shape")

_KIND_MEANINGS = {
    "bg -> object": "background called an object: the clutter fooled the model",
    "object -> bg": "object pixels called background: part of an object (or a whole one) missed",
    "object -> other shape": "object pixels given another shape's class: the outline is found, the class is not",
}


def check_far_error_prediction(prediction: Any, counts: Mapping[str, int]) -> bool:
    """Compare a recorded prediction with the kind of far-from-boundary error that dominates.

    Args:
        prediction: The learner's guess, one of :data:`ERROR_KINDS`, recorded before ``counts`` was measured.
        counts: Wrong pixels per kind for one model, a mapping with every key of :data:`ERROR_KINDS`
            (extra keys such as ``"wrong"`` are ignored).

    Returns:
        ``True`` if the prediction names the kind with the most wrong pixels.
    """
    if prediction is ... or prediction is None:
        return wrong("record your prediction first: replace the `...` with one of "
                     + ", ".join(repr(kind) for kind in ERROR_KINDS) + ".")
    if prediction not in ERROR_KINDS:
        return wrong("your prediction must be one of " + ", ".join(repr(kind) for kind in ERROR_KINDS)
                     + f"; got {prediction!r}.")
    missing = [kind for kind in ERROR_KINDS if kind not in counts]
    if missing:
        return wrong(f"pass the counts of one model (a dict with the keys {', '.join(map(repr, ERROR_KINDS))}).")
    total = sum(int(counts[kind]) for kind in ERROR_KINDS)
    if total == 0:
        return wrong("these counts hold no wrong pixel at all: pass the counts of a model that makes errors.")
    largest = max(ERROR_KINDS, key=lambda kind: int(counts[kind]))
    shares = ", ".join(f"{kind} {int(counts[kind]) / total:.0%}" for kind in ERROR_KINDS)
    if prediction == largest:
        return right(f"{largest!r} is the largest kind ({shares}): {_KIND_MEANINGS[largest]}.")
    return wrong(
        f"you predicted {prediction!r} ({int(counts[prediction]) / total:.0%} of these errors), but the largest "
        f"kind is {largest!r} ({shares}): {_KIND_MEANINGS[largest]}."
    )


# --- 3 · pick a model under a memory budget ---------------------------------------------------

_PICK_TABLES: list[dict[str, dict[str, float]]] = [
    {
        "small": {"band_miou": 0.60, "activation_bytes": 1_000},
        "medium": {"band_miou": 0.70, "activation_bytes": 2_000},
        "large": {"band_miou": 0.80, "activation_bytes": 3_000},
    },
    {
        "lean": {"band_miou": 0.75, "activation_bytes": 500},
        "heavy": {"band_miou": 0.65, "activation_bytes": 4_000},
        "middle": {"band_miou": 0.70, "activation_bytes": 1_500},
    },
]
_PICK_CASES = [(0, 2_500, "medium"), (0, 3_000, "large"), (0, 10_000, "large"), (0, 999, None),
               (1, 5_000, "lean"), (1, 1_000, "lean"), (1, 100, None), (0, 1_000, "small")]


def _pick_reference(table: Mapping[str, Mapping[str, float]], budget: float) -> str | None:
    fitting = {name: row["band_miou"] for name, row in table.items() if row["activation_bytes"] <= budget}
    return max(fitting, key=fitting.__getitem__) if fitting else None


def check_pick_model(function: Callable[[dict[str, dict[str, float]], float], Any]) -> bool:
    """Check ``function(table, memory_budget) -> name or None``.

    ``table`` maps a model name to its measured ``band_miou`` and ``activation_bytes``; the
    answer is the model with the highest band mean IoU among those whose activation memory is at
    most the budget, or ``None`` when none fits.
    """
    cases = [(_PICK_TABLES[index], budget) for index, budget, _ in _PICK_CASES]  # check_cases copies the table
    return check_cases(
        function,
        cases,
        _pick_model_mistake,
        success="filter by the budget first, then take the best boundary score.",
        none_is_an_answer=True,
    )


def _pick_model_mistake(found: Any, table: dict[str, dict[str, float]], budget: float) -> str | None:
    expected = _pick_reference(table, budget)
    if found == expected:
        return None
    best = max(table, key=lambda name: table[name]["band_miou"])
    smallest = min(table, key=lambda name: table[name]["activation_bytes"])
    strict = _pick_reference({n: r for n, r in table.items() if r["activation_bytes"] != budget}, budget)
    if found is None and budget == _PICK_CASES[0][1]:  # the first case: most likely the untouched stub
        return (
            f"your function returned None, but with a budget of {budget} bytes {expected!r} fits: replace "
            "the `...` with code that returns the best model that fits."
        )
    if expected is None:
        return (
            f"with a budget of {budget} bytes no model fits (the smallest needs "
            f"{table[smallest]['activation_bytes']:g}): return None."
        )
    if found is None:
        return "every model fits a budget of 10,000 bytes: pick the one with the highest band_miou."
    if found == best:
        return f"{best} has the best band IoU but needs more than {budget} bytes: keep only the models that fit."
    if found == smallest:
        return "the smallest model fits, but so may better ones: among those that fit, take the highest band_miou."
    if found == strict:
        return f"a model needing exactly {budget} bytes fits a budget of {budget}: compare with <=, not <."
    if found not in table:
        return f"return a model name from the table ({', '.join(table)}) or None; got {found!r}."
    return f"with a budget of {budget} bytes the answer is {expected!r}; you gave {found!r}."


# --- 4 · parameters of a 1x1 score layer ------------------------------------------------------

_SCORE_CASES = ((64, 4), (128, 11), (3, 2), (512, 21), (32, 1))


def check_score_layer_parameters(function: Callable[[int, int], Any]) -> bool:
    """Check ``function(in_channels, num_classes) -> int``: parameters of a 1x1 conv with bias."""
    return check_cases(
        function,
        _SCORE_CASES,
        _score_layer_mistake,
        success="in_channels * K weights + K biases: a skip that adds scores is cheap.",
    )


def _score_layer_mistake(found: Any, in_channels: int, num_classes: int) -> str | None:
    value = _as_number(found)
    if value is None:
        return f"return one whole number; got {type(found).__name__}."
    expected = sum(p.numel() for p in nn.Conv2d(in_channels, num_classes, kernel_size=1).parameters())
    if value == expected:
        return None
    if value == in_channels * num_classes:
        return "each of the K output channels also has a bias: add num_classes."
    if value == 9 * in_channels * num_classes + num_classes:
        return "that is a 3x3 conv; a 1x1 kernel has one weight per (input channel, class) pair."
    if value == in_channels + num_classes:
        return "every class score mixes every input channel: multiply, in_channels * num_classes weights."
    return f"nn.Conv2d({in_channels}, {num_classes}, 1) has {expected} parameters; you gave {value:g}."
