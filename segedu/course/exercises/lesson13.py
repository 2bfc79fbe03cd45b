"""Checks for the exercises of lesson 13 (losses for imbalanced classes).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import torch

from segedu.course.exercises._verdict import check_outcome_prediction, read_letters, right, wrong

__all__ = [
    "METRIC_STATEMENTS",
    "SCALE_OUTCOMES",
    "all_eights_scores",
    "check_border_weight",
    "check_hidden_problem",
    "check_scale_prediction",
]

# --- 1 · predict, then run: every class weight times ten ----------------------------------------

SCALE_OUTCOMES = ("about 10 times larger", "unchanged", "about 10 times smaller")

_SCALE_MEANINGS = {
    "about 10 times larger": "the weights multiply every pixel's term",
    "unchanged": (
        "the weighted cross-entropy is a weighted mean: the sum of w[target] * (-log p) is divided by the sum "
        "of w[target], so a common factor cancels. Only the ratios between the class weights matter, which is "
        "why inverse-frequency and median-frequency weights can be compared at all"
    ),
    "about 10 times smaller": "the weights divide every pixel's term",
}


def check_scale_prediction(prediction: Any, outcome: str) -> bool:
    """Compare a recorded prediction with what multiplying all class weights by 10 did to the loss.

    Args:
        prediction: The learner's guess, one of :data:`SCALE_OUTCOMES`, recorded before the run.
        outcome: What happened, one of :data:`SCALE_OUTCOMES` (measured in the lesson).

    Returns:
        ``True`` if the prediction names the outcome.
    """
    return check_outcome_prediction(prediction, outcome, _SCALE_MEANINGS, happened="the loss came out")


# --- 2 · U-Net's border weight at one pixel ------------------------------------------------------

_D1, _D2, _W0, _SIGMA = 3.0, 3.0, 10.0, 5.0
_BORDER = _W0 * math.exp(-((_D1 + _D2) ** 2) / (2 * _SIGMA**2))
_BORDER_MISTAKES = {
    "you squared the distances one by one, (d1^2 + d2^2); eq. 2 squares their sum, (d1 + d2)^2":
        _W0 * math.exp(-(_D1**2 + _D2**2) / (2 * _SIGMA**2)),
    "you did not square the sum of the distances; eq. 2 uses (d1 + d2)^2":
        _W0 * math.exp(-(_D1 + _D2) / (2 * _SIGMA**2)),
    "you left out the 2 in 2 sigma^2": _W0 * math.exp(-((_D1 + _D2) ** 2) / _SIGMA**2),
    "that is the whole weight with w_c = 1 added; the question asks for the border term alone": 1.0 + _BORDER,
}


def check_border_weight(answer: Any) -> bool:
    """Check the border term of U-Net's eq. 2 for a background pixel 3 px from each of two objects (w0 10, sigma 5).

    Args:
        answer: A number, the border term (without ``w_c``), to two decimals or better.

    Returns:
        ``True`` if ``answer`` is within 0.01 of the right value.
    """
    if answer is ... or answer is None:
        return wrong("record your answer first: replace the `...` with a number.")
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(answer):
        return wrong(f"answer with one number, e.g. 1.23; got {answer!r}.")
    if abs(answer - _BORDER) <= 0.01:
        return right(f"w0 * exp(-(3 + 3)^2 / (2 * 5^2)) = 10 * exp(-0.72) = {_BORDER:.2f}: a pixel in a 6-px gap "
                     f"weighs about {_BORDER + 1:.1f} times an ordinary background pixel (with w_c = 1), so "
                     "a mistake there costs that much more.")
    for hint, value in _BORDER_MISTAKES.items():
        if abs(answer - value) <= 0.01:
            return wrong(f"{hint}.")
    return wrong("put d1 = 3, d2 = 3, w0 = 10 and sigma = 5 into w0 * exp(-(d1 + d2)^2 / (2 * sigma^2)).")


# --- 3 · which scores hide a model that finds every stroke but names every digit 8 -------------------

METRIC_STATEMENTS = {
    "a": "its pixel accuracy is above 0.9, because background and the 8s are right",
    "b": "its mean IoU is above 0.5, because it finds every digit pixel",
    "c": "its frequency-weighted IoU is above 0.85, because each class's IoU is weighted by its share of the pixels",
    "d": "a per-class table shows an IoU of 0 for the nine digits other than 8",
    "e": "its mean accuracy (per-class recall averaged) is above 0.5, because its recall on background and on 8 is 1",
}
_METRIC_WHY = {
    "a": "pixel accuracy counts pixels; background alone is about 94% of them",
    "b": "mean IoU averages the eleven classes with equal weight, and nine of them score 0",
    "c": "frequency-weighted IoU weights each class by its pixel share, so background dominates",
    "d": "a class that is never predicted has no true positives, so its IoU is 0",
    "e": "mean accuracy averages recall over the eleven classes: two recalls of 1 and nine of 0",
}


@lru_cache(maxsize=1)
def all_eights_scores() -> dict[str, Any]:
    """Scores, on the 200 digit test scenes, of a model that calls every digit pixel an 8 (background stays).

    Returns:
        ``pixel_accuracy``, ``mean_iou``, ``frequency_weighted_iou``, ``mean_accuracy`` (floats) and
        ``iou_per_class`` (list of 11 floats).
    """
    from segedu.datasets import DigitScenes
    from segedu.training.metrics import (
        confusion_matrix,
        frequency_weighted_iou,
        iou_per_class,
        mean_accuracy,
        mean_iou,
        pixel_accuracy,
    )

    scenes = DigitScenes("test")
    masks = torch.stack([scenes[index][1] for index in range(len(scenes))])  # (N, H, W)
    predictions = torch.where(masks > 0, torch.full_like(masks, 8), masks)  # every stroke called an 8
    matrix = confusion_matrix(predictions, masks, scenes.num_classes)
    return {"pixel_accuracy": float(pixel_accuracy(matrix)), "mean_iou": float(mean_iou(matrix)),
            "frequency_weighted_iou": float(frequency_weighted_iou(matrix)),
            "mean_accuracy": float(mean_accuracy(matrix)),
            "iou_per_class": [float(value) for value in iou_per_class(matrix)]}


def _true_statements(scores: dict[str, Any]) -> set[str]:
    others = [iou for index, iou in enumerate(scores["iou_per_class"]) if index not in (0, 8)]
    truth = {"a": scores["pixel_accuracy"] > 0.9, "b": scores["mean_iou"] > 0.5,
             "c": scores["frequency_weighted_iou"] > 0.85, "d": all(iou == 0 for iou in others),
             "e": scores["mean_accuracy"] > 0.5}
    return {letter for letter, holds in truth.items() if holds}


def check_hidden_problem(answer: Any) -> bool:
    """Check the letters of :data:`METRIC_STATEMENTS` that are true of a model that names every digit 8.

    The scores are computed here, on the digit test scenes (the lesson never prints them).

    Args:
        answer: A set (or list, or string such as ``"ab"``) of letters.

    Returns:
        ``True`` for exactly the true statements.
    """
    if answer is ... or answer is None:
        return wrong("record your answer first: replace the `...` with a set of letters, e.g. {'a', 'b'}.")
    letters, hint = read_letters(answer, METRIC_STATEMENTS, "are not among the statements")
    if hint is not None:
        return wrong(hint)
    scores = all_eights_scores()
    true_letters = _true_statements(scores)
    measured = (f"measured: pixel accuracy {scores['pixel_accuracy']:.3f}, frequency-weighted IoU "
                f"{scores['frequency_weighted_iou']:.3f}, mean IoU {scores['mean_iou']:.3f}, mean accuracy "
                f"{scores['mean_accuracy']:.3f}, IoU of 8 {scores['iou_per_class'][8]:.3f}")
    if letters == true_letters:
        return right(f"{measured}. Scores that weight classes by their pixels (pixel accuracy, frequency-weighted "
                     "IoU) stay high when nine digits are lost; scores that weight classes equally (mean IoU, mean "
                     "accuracy) and the per-class table show it.")
    misses = [f"{letter} is {'true' if letter in true_letters else 'false'}: {_METRIC_WHY[letter]}"
              for letter in sorted(letters ^ true_letters)]
    return wrong("; ".join(misses) + f" ({measured}).")
