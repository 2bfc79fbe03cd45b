"""Checks for the exercises of lesson 13 (losses for imbalanced classes).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

import math
from typing import Any

from segedu.course.exercises._verdict import choice_hint, read_letters, right, wrong

__all__ = [
    "METRIC_STATEMENTS",
    "SCALE_OUTCOMES",
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
    hint = choice_hint(prediction, SCALE_OUTCOMES)
    if hint is not None:
        return wrong(hint)
    if outcome not in SCALE_OUTCOMES:
        return wrong(f"pass the measured outcome, one of {', '.join(map(repr, SCALE_OUTCOMES))}; got {outcome!r}.")
    if prediction == outcome:
        return right(f"the loss came out {outcome}: {_SCALE_MEANINGS[outcome]}.")
    return wrong(f"you predicted {prediction!r}, but the loss came out {outcome}: {_SCALE_MEANINGS[outcome]}.")


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


# --- 3 · which scores hide a model that never finds the rare classes ------------------------------

METRIC_STATEMENTS = {
    "a": "pixel accuracy stays high, because almost every pixel is background and background is right",
    "b": "mean IoU stays high, because it averages over all pixels",
    "c": "frequency-weighted IoU stays high, because each class's IoU is weighted by its share of the pixels",
    "d": "the IoU of each missed digit class is 0, which a per-class table shows at once",
    "e": "mean accuracy (per-class recall averaged) stays high, because background recall is 1",
}
_TRUE = {"a", "c", "d"}
_METRIC_WHY = {
    "a": "pixel accuracy counts pixels, so 90% background pixels right gives about 0.9 with every digit missed",
    "b": "mean IoU averages the classes with equal weight, not the pixels: ten digit classes at IoU 0 pull it far down",
    "c": "frequency-weighted IoU weights each class by its pixel share, so background (about 90%) dominates",
    "d": "a missed class has no true positives, so its IoU is 0; the per-class table is what reveals it",
    "e": "mean accuracy averages recall over the classes with equal weight, so missed digits at recall 0 pull it down",
}


def check_hidden_problem(answer: Any) -> bool:
    """Check the letters of :data:`METRIC_STATEMENTS` that are true of a model that labels everything background.

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
    if letters == _TRUE:
        return right("scores that weight classes by their pixels (pixel accuracy, frequency-weighted IoU) stay "
                     "high when the rare classes are lost; scores that weight classes equally (mean IoU, mean "
                     "accuracy) and the per-class table show the loss.")
    misses = [f"{letter} is {'true' if letter in _TRUE else 'false'}: {_METRIC_WHY[letter]}"
              for letter in sorted(letters ^ _TRUE)]
    return wrong("; ".join(misses) + ".")
