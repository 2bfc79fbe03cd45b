"""Checks for the exercises of lesson 13 (losses for imbalanced classes).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import torch

from segedu.course.exercises._verdict import check_outcome_prediction, read_letters, right, wrong

__all__ = [
    "GAP_OUTCOMES",
    "METRIC_STATEMENTS",
    "SCALE_OUTCOMES",
    "all_eights_scores",
    "check_gap_prediction",
    "check_hidden_problem",
    "check_scale_prediction",
    "gap_and_edge_weights",
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


def check_scale_prediction(prediction: Any, loss: float, loss_ten_times: float) -> bool:
    """Compare a recorded prediction with what multiplying all class weights by 10 did to the loss.

    The measured numbers appear in the feedback only once a prediction is recorded.

    Args:
        prediction: The learner's guess, one of :data:`SCALE_OUTCOMES`, recorded before the run.
        loss: The weighted cross-entropy with the weights as computed.
        loss_ten_times: The same loss with every class weight multiplied by 10.

    Returns:
        ``True`` if the prediction names the outcome.
    """
    ratio = loss_ten_times / loss
    outcome = "about 10 times larger" if ratio > 5 else "about 10 times smaller" if ratio < 0.2 else "unchanged"
    measured = f" (measured: {loss:.5f} with the weights as computed, {loss_ten_times:.5f} ten times larger, " \
               f"ratio {ratio:.4f})"
    meanings = {name: meaning + measured for name, meaning in _SCALE_MEANINGS.items()}
    return check_outcome_prediction(prediction, outcome, meanings, happened="the loss came out")


# --- 2 · predict: which pixel does U-Net's weight map weigh more? --------------------------------

GAP_OUTCOMES = ("the pixel in the gap", "the pixel next to one object", "about the same")
_W0, _SIGMA = 10.0, 5.0


def gap_and_edge_weights() -> tuple[float, float]:
    """The border terms (w0 = 10, sigma = 5 px) of exercise 2's two background pixels, computed by segedu.

    The gap pixel sits in the middle of a 3-px gap between two objects (2 px from each); the edge pixel is
    1 px from one object whose nearest neighbour object is 12 px from it. Objects are vertical bars
    spanning the whole height of a small instance map, so every distance is measured along a row.

    Returns:
        ``(gap_weight, edge_weight)``, the border term (without ``w_c``) at each pixel.
    """
    from segedu.analysis.weight_map import border_weight

    gap_map = torch.zeros(5, 8, dtype=torch.int64)  # (H, W): 0 = background
    gap_map[:, 0:2] = 1
    gap_map[:, 5:7] = 2  # gap: columns 2, 3, 4
    edge_map = torch.zeros(5, 20, dtype=torch.int64)  # (H, W)
    edge_map[:, 0:2] = 1
    edge_map[:, 14:16] = 2  # column 2 is 1 px from object 1 and 12 px from object 2
    gap_weight = float(border_weight(gap_map, w0=_W0, sigma=_SIGMA)[2, 3])
    edge_weight = float(border_weight(edge_map, w0=_W0, sigma=_SIGMA)[2, 2])
    return gap_weight, edge_weight


def check_gap_prediction(prediction: Any) -> bool:
    """Compare a recorded prediction of which background pixel weighs more with segedu's weight map.

    Args:
        prediction: One of :data:`GAP_OUTCOMES`, recorded before the weights are computed.

    Returns:
        ``True`` if the prediction names the heavier pixel.
    """
    gap_weight, edge_weight = gap_and_edge_weights()
    if max(gap_weight, edge_weight) < 1.5 * min(gap_weight, edge_weight):
        outcome = "about the same"
    else:
        outcome = "the pixel in the gap" if gap_weight > edge_weight else "the pixel next to one object"
    measured = (f"border terms {gap_weight:.2f} in the gap (d1 + d2 = 2 + 2 = 4 px) and {edge_weight:.2f} next to "
                f"one object (d1 + d2 = 1 + 12 = 13 px)")
    why = (f"{measured}. Eq. 2 depends on d1 + d2, the distances to the two nearest objects together: being close "
           "to one object is not enough, the pixel must be squeezed between two")
    meanings = {name: why for name in GAP_OUTCOMES}
    return check_outcome_prediction(prediction, outcome, meanings, happened="the heavier one is")


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
