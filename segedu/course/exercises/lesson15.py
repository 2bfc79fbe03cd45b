"""Checks for the exercises of lesson 15 (losses for imbalanced classes).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from segedu.course.exercises._verdict import (
    recorded_miss,
    right,
    wrong,
)

__all__ = [
    "BACKGROUND_SHARE",
    "HALO_CASES",
    "HALO_SIZE",
    "RECALL_COST_TOLERANCE",
    "HALO_DIGIT_PIXELS",
    "HALO_TOLERANCE",
    "TILT_BELIEF",
    "TILT_TOLERANCE",
    "TILT_WEIGHTS",
    "TRAINED_WEIGHTINGS",
    "TRAINED_WEIGHTS_OUTCOMES",
    "TRAINED_SEEDS",
    "lower_seed_band",
    "check_halo_scores",
    "background_recall_cost",
    "check_background_recall_cost",
    "check_tilt_prediction",
    "check_trained_weights_prediction",
    "check_score_gap_reason",
    "SCORE_GAP_REASONS",
    "digit_pixel_fates",
    "digit_scores_by_seed",
    "halo_area",
    "halo_case_scores",
    "tilted_minimiser",
]

# --- section 3's tally: where the digit pixels of each run went ---------------------------------------


def digit_pixel_fates(matrices: list[Any]) -> dict[str, np.ndarray]:
    """Where each run's digit pixels went, read from its confusion matrix (class 0 is background).

    Args:
        matrices: One confusion matrix per run, ``(K, K)`` with rows true and columns predicted (nested lists,
            numpy arrays or tensors).

    Returns:
        Arrays ``(runs,)``: ``to background``, ``to a wrong digit`` and ``to the right digit`` (shares of all digit
        pixels, summing to 1) and ``misnamed among found`` (of the digit pixels called some digit, the share given a
        wrong digit).
    """
    fates: dict[str, list[float]] = {"to background": [], "to a wrong digit": [], "to the right digit": [],
                                     "misnamed among found": []}
    for matrix in matrices:
        m = np.asarray(matrix, dtype=float)  # (K, K)
        digits, found, right_digit = m[1:].sum(), m[1:, 1:].sum(), m[1:, 1:].trace()
        fates["to background"].append(m[1:, 0].sum() / digits)
        fates["to a wrong digit"].append((found - right_digit) / digits)
        fates["to the right digit"].append(right_digit / digits)
        fates["misnamed among found"].append((found - right_digit) / found)
    return {key: np.array(value) for key, value in fates.items()}


def digit_scores_by_seed(loss_runs: dict[str, Any], run_seeds: list[str]) -> dict[str, np.ndarray]:
    """Section 3's scores of one loss's runs, per seed, all read from their confusion matrices.

    Args:
        loss_runs: Seed (a string, as in a record) to a run with a ``"confusion"`` matrix, ``(K, K)`` with rows
            true and columns predicted, class 0 background.
        run_seeds: The seeds to read, in the order the arrays should follow.

    Returns:
        Score name to an array ``(len(run_seeds),)``: the scores of
        :func:`segedu.course.experiments.scores_by_seed` (with ``"stroke recall"`` and ``"stroke precision"``),
        the four shares of :func:`digit_pixel_fates`, ``"worst digit IoU"``: the run's lowest IoU among the
        digits (classes 1 to K - 1), and ``"halo"``: :func:`halo_area`.
    """
    from segedu.course.experiments import scores_by_seed
    from segedu.training.metrics import iou_per_class

    scores = scores_by_seed(loss_runs, run_seeds, foreground="stroke")
    scores.update(digit_pixel_fates([loss_runs[seed]["confusion"] for seed in run_seeds]))
    scores["worst digit IoU"] = np.array([float(iou_per_class(torch.as_tensor(loss_runs[seed]["confusion"],
                                                                               dtype=torch.float64))[1:].min())
                                          for seed in run_seeds])
    scores["halo"] = np.array([halo_area(loss_runs[seed]["confusion"]) for seed in run_seeds])
    return scores


# --- exercise 2 · predict, then read: in how many seeds class weights lower mean IoU once trained -------------

TRAINED_WEIGHTS_OUTCOMES = ("0 or 1", "2 to 4", "5 or 6")  # of the 6 seeds, how many have mean IoU below plain's
TRAINED_WEIGHTINGS = ("inverse weights", "median weights")  # the two rows the learner predicts, in this order
TRAINED_SEEDS = 6

_TRAINED_WEIGHTS_WHY = (
    "the weights make the U-Nets call more pixels digit. An extra digit pixel that is a stroke plain cross-entropy "
    "missed can raise that digit's IoU; others are background, the halo. The next figure counts both kinds; the "
    "verdict table below reads the six gaps by lesson 14's two tests, which with six seeds call a verdict only when "
    "all six share a sign"
)


def lower_seed_band(count: int) -> str:
    """The band of :data:`TRAINED_WEIGHTS_OUTCOMES` that holds ``count`` seeds (0 to 6)."""
    if not 0 <= count <= TRAINED_SEEDS:
        raise ValueError(f"a count of seeds must be 0 to {TRAINED_SEEDS}; got {count!r}")
    return TRAINED_WEIGHTS_OUTCOMES[0] if count <= 1 else TRAINED_WEIGHTS_OUTCOMES[1] if count <= 4 else TRAINED_WEIGHTS_OUTCOMES[2]


def check_trained_weights_prediction(predictions: Any, lower_counts: dict[str, int]) -> bool:
    """Compare recorded predictions with the number of seeds where each weighting's mean IoU fell below plain's.

    The prediction is a band (:data:`TRAINED_WEIGHTS_OUTCOMES`) for each weighting: in how many of the six seeds its
    mean IoU is lower than plain cross-entropy's of the same seed. The measured counts appear in the feedback only
    once both predictions are recorded.

    Args:
        predictions: Weighting (each of :data:`TRAINED_WEIGHTINGS`) to the learner's band.
        lower_counts: Weighting to the measured number of seeds (0 to 6) where its mean IoU is lower than plain's.

    Returns:
        ``True`` once both predictions are recorded, whether they name the measured bands or not.
    """
    options = ", ".join(map(repr, TRAINED_WEIGHTS_OUTCOMES))
    if set(lower_counts) != set(TRAINED_WEIGHTINGS) or not all(
            isinstance(count, int) and 0 <= count <= TRAINED_SEEDS for count in lower_counts.values()):
        raise ValueError(f"lower_counts must give each of {TRAINED_WEIGHTINGS} a count from 0 to {TRAINED_SEEDS}; "
                         f"got {lower_counts!r}")
    for weighting in TRAINED_WEIGHTINGS:
        prediction = predictions.get(weighting, ...) if isinstance(predictions, dict) else ...
        if prediction is ... or prediction is None:
            return wrong(f"record both predictions first: replace each `...` with one of {options}.")
        if prediction not in TRAINED_WEIGHTS_OUTCOMES:
            return wrong(f"each prediction must be one of {options}; got {prediction!r} for {weighting}.")
    said = "; ".join(f"{weighting}: you predicted {predictions[weighting]!r}, measured lower in "
                     f"{lower_counts[weighting]} of {TRAINED_SEEDS} seeds" for weighting in TRAINED_WEIGHTINGS)
    if all(predictions[weighting] == lower_seed_band(lower_counts[weighting]) for weighting in TRAINED_WEIGHTINGS):
        return right(f"{said}. Why: {_TRAINED_WEIGHTS_WHY}.")
    return recorded_miss(f"{said}. Why: {_TRAINED_WEIGHTS_WHY}.")


def _as_number(answer: Any) -> float | None:
    if isinstance(answer, bool) or answer is None or answer is ...:
        return None
    try:
        return float(answer)
    except (TypeError, ValueError):
        return None


# --- exercise 1 · predict: the weighted loss's minimiser on one pixel, and the class it names ------------------------

TILT_BELIEF = (0.7, 0.2, 0.1)  # q_c = p(c | x) at one pixel, three classes
TILT_WEIGHTS = (1.0, 4.0, 10.0)  # w_c: the rarer, the heavier
TILT_TOLERANCE = 0.01  # 0.28, 0.32, 0.40 to two decimals; every slip below lies 0.05 or more away


def tilted_minimiser(belief: tuple[float, ...] = TILT_BELIEF,
                     weights: tuple[float, ...] = TILT_WEIGHTS) -> tuple[float, ...]:
    """The minimiser of the expected weighted cross-entropy at one pixel: ``w_c q_c / sum_k w_k q_k``.

    Args:
        belief: ``q``, shape ``(K,)``: the true class's probabilities at the pixel.
        weights: ``w``, shape ``(K,)``: the class weights.

    Returns:
        ``p_hat``, shape ``(K,)``, summing to 1.
    """
    tilted = [weight * share for weight, share in zip(weights, belief)]  # w_c q_c
    return tuple(value / sum(tilted) for value in tilted)


def _read_probabilities(answer: Any) -> tuple[float, ...] | None:
    """Three finite numbers from a list, tuple, array or tensor, else ``None``."""
    if isinstance(answer, (str, bool)) or answer is None or answer is ...:
        return None
    try:
        values = tuple(float(value) for value in np.asarray(answer, dtype=float).reshape(-1))
    except (TypeError, ValueError, RuntimeError):
        return None
    return values if len(values) == len(TILT_BELIEF) and all(np.isfinite(values)) else None


def _tilt_slips() -> list[tuple[tuple[float, ...], str]]:
    """Likely wrong minimisers and what each one did."""
    q, w = TILT_BELIEF, TILT_WEIGHTS
    divided = [share / weight for weight, share in zip(w, q)]
    return [
        (q, "that is q itself, plain cross-entropy's minimiser (every w_c = 1); with weights, each class's share is "
            "multiplied by its weight"),
        (tuple(weight * share for weight, share in zip(w, q)),
         "those are the products w_c q_c; the answer is a softmax, so divide each by their sum"),
        (tuple(value / sum(divided) for value in divided),
         "that divides q_c by w_c; the formula multiplies: p_hat_c = w_c q_c / sum_k w_k q_k"),
        (tuple(weight / sum(w) for weight in w),
         "those are the weights alone, normalised; each weight multiplies that class's q_c"),
    ]


def check_tilt_prediction(minimiser: Any, argmax_class: Any) -> bool:
    """Check the predicted minimiser of the weighted loss at one pixel (q = 0.7, 0.2, 0.1; w = 1, 4, 10) and its argmax.

    The minimiser is ``w_c q_c / sum_k w_k q_k`` = 0.7, 0.8, 1.0 over 2.5 = 0.28, 0.32, 0.40, so the argmax moves from
    class 0 (q's) to class 2, the heaviest. The values appear in the feedback only once both answers are right.

    Args:
        minimiser: The learner's p_hat, three numbers (a list, tuple, array or tensor).
        argmax_class: The class (0, 1 or 2) that p_hat's argmax names.

    Returns:
        ``True`` if both answers are right.
    """
    if minimiser is ... or argmax_class is ...:
        return wrong("record both answers first: replace each `...`, the minimiser with three numbers such as "
                     "[0.5, 0.3, 0.2] and the argmax with a class, 0, 1 or 2.")
    values = _read_probabilities(minimiser)
    if values is None:
        return wrong(f"the minimiser is three numbers, one per class, such as [0.5, 0.3, 0.2]; got {minimiser!r}.")
    if isinstance(argmax_class, bool) or not isinstance(argmax_class, (int, np.integer, float, torch.Tensor)) \
            or float(argmax_class) not in (0.0, 1.0, 2.0):
        return wrong(f"the argmax is a class index, 0, 1 or 2; got {argmax_class!r}.")
    expected = tilted_minimiser()
    hints = []
    if max(abs(value - target) for value, target in zip(values, expected)) > TILT_TOLERANCE:
        slip = next((reason for guess, reason in _tilt_slips()
                     if max(abs(value - target) for value, target in zip(values, guess)) <= TILT_TOLERANCE), None)
        if slip is None and abs(sum(values) - 1) > TILT_TOLERANCE:
            slip = f"your three numbers sum to {sum(values):.2f}; a softmax answer sums to 1"
        hints.append(slip or "work it from the formula p_hat_c = w_c q_c / sum_k w_k q_k: first the three products "
                     "w_c q_c, then divide each by their sum")
    if int(float(argmax_class)) != 2:
        hints.append(f"you named class {int(float(argmax_class))}: the argmax of p_hat is the argmax of w_c q_c, so "
                     "compare the three products, not the q_c")
    if hints:
        return wrong("; ".join(hints) + ".")
    products = [weight * share for weight, share in zip(TILT_WEIGHTS, TILT_BELIEF)]
    return right("w_c q_c = " + ", ".join(f"{value:.1f}" for value in products) + f", summing to {sum(products):.1f}, "
                 "so p_hat = " + ", ".join(f"{value:.2f}" for value in expected) + ". The pixel is most likely "
                 "class 0 (q_0 = 0.70), yet the weighted loss is smallest when the model names class 2, the heaviest: "
                 "the weights tilt an unsure pixel toward the rare class. The next cell finds the same answer with Adam.")


# --- exercise 3b · check on one digit: its recall and IoU without and with a halo -----------------------------------

HALO_DIGIT_PIXELS = 100  # the toy digit's true pixels
HALO_CASES = {"no halo": (90, 0), "halo": (99, 50)}  # case -> (true pixels found, background pixels painted as the digit)
HALO_TOLERANCE = 0.005  # answers to two decimals; every slip below lies 0.01 or more away


def halo_case_scores() -> dict[str, tuple[float, float]]:
    """The toy digit's recall ``TP / (TP + FN)`` and IoU ``TP / (TP + FP + FN)`` in both cases.

    Returns:
        ``{case: (recall, IoU)}`` for the cases of :data:`HALO_CASES`: no halo 0.90, 0.90; halo 0.99, 0.66.
    """
    scores = {}
    for case, (found, halo) in HALO_CASES.items():
        missed = HALO_DIGIT_PIXELS - found  # FN
        scores[case] = (found / HALO_DIGIT_PIXELS, found / (found + halo + missed))
    return scores


def _halo_slips(case: str, score: str, value: float) -> str | None:
    """What a likely wrong recall or IoU did, or ``None``."""
    found, halo = HALO_CASES[case]
    missed = HALO_DIGIT_PIXELS - found
    slips = {
        "recall": [(found / (found + halo), "recall divides by the digit's true pixels only (TP + FN); the halo's "
                    "false alarms are not in it"),
                   (found / (found + halo + missed), "that is the IoU; recall divides by the true pixels only")],
        "IoU": [(found / HALO_DIGIT_PIXELS, "IoU's union holds the false alarms too: TP / (TP + FP + FN), and the "
                 "halo is the FP"),
                (found / (found + halo), "the union also holds the missed pixels (FN): TP / (TP + FP + FN)"),
                (found / (HALO_DIGIT_PIXELS + halo + missed), "TP + FN is already the 100 true pixels: the union is "
                 "TP + FP + FN, not 100 + FP + FN")],
    }[score]
    if halo == 0 and score == "IoU":
        slips = [slip for slip in slips if abs(slip[0] - found / HALO_DIGIT_PIXELS) > HALO_TOLERANCE]
    return next((reason for guess, reason in slips if abs(value - guess) <= HALO_TOLERANCE), None)


def check_halo_scores(recall_no_halo: Any, iou_no_halo: Any, recall_halo: Any, iou_halo: Any) -> bool:
    """Check one digit's predicted recall and IoU: 90 of 100 pixels found with no halo, or 99 found and a halo of 50.

    Recall ``TP / (TP + FN)`` counts only the digit's true pixels, so the halo cannot lower it: 0.90 and 0.99. IoU
    ``TP / (TP + FP + FN)`` puts the halo in its union: 0.90 and 99 / 150 = 0.66. The feedback names the slip of a
    wrong answer without giving the right value; a right answer ties the numbers to exercise 3a's reason.

    Args:
        recall_no_halo: The learner's recall with no halo.
        iou_no_halo: The learner's IoU with no halo.
        recall_halo: The learner's recall with the halo.
        iou_halo: The learner's IoU with the halo.

    Returns:
        ``True`` if all four are right to two decimals.
    """
    answers = {("no halo", "recall"): recall_no_halo, ("no halo", "IoU"): iou_no_halo,
               ("halo", "recall"): recall_halo, ("halo", "IoU"): iou_halo}
    if any(answer is ... for answer in answers.values()):
        return wrong("record all four answers first: replace each `...` with a number between 0 and 1.")
    expected = halo_case_scores()
    hints = []
    for (case, score), answer in answers.items():
        value = _as_number(answer)
        if value is None:
            return wrong(f"each answer is a number between 0 and 1; got {answer!r} for the {score} with {case}.")
        target = expected[case][0 if score == "recall" else 1]
        if abs(value - target) > HALO_TOLERANCE:
            slip = _halo_slips(case, score, value)
            hints.append(f"the {score} with {case}: " + (slip or (
                "recall = TP / (TP + FN), the found share of the digit's 100 true pixels" if score == "recall"
                else "IoU = TP / (TP + FP + FN): found, plus the halo's false alarms, plus the missed pixels")))
    if hints:
        return wrong("; ".join(hints) + ".")
    return right("recall 0.90 and 0.99; IoU 0.90 and 99 / 150 = 0.66. The halo's 50 false alarms left recall alone, "
                 "since recall divides by the digit's true pixels only, but entered IoU's union: reason (a) on one digit.")


# --- exercise 3c · read the scale: what a halo costs background's recall ------------------------------------------

HALO_SIZE = 0.49  # inverse weights' halo, seed mean: false digit pixels per true digit pixel
BACKGROUND_SHARE = 0.9446  # background's share of the test pixels (section 1's table, 94.46%)
RECALL_COST_TOLERANCE = 0.005  # about 0.03; every slip below lies 0.015 or more away


def background_recall_cost(halo: float = HALO_SIZE, background_share: float = BACKGROUND_SHARE) -> float:
    """How much a halo lowers background's recall: halo x digit pixels / background pixels.

    Args:
        halo: False digit pixels as a share of the true digit pixels.
        background_share: Background's share of all pixels.

    Returns:
        The drop in background's recall, ``halo * (1 - share) / share``: about 0.029 for the defaults.
    """
    return halo * (1 - background_share) / background_share


def check_background_recall_cost(answer: Any) -> bool:
    """Check the learner's drop in background's recall for a halo of :data:`HALO_SIZE`, about 0.03.

    Args:
        answer: A number, the drop in background's recall (0 to 1).

    Returns:
        ``True`` if the answer lies within :data:`RECALL_COST_TOLERANCE` of :func:`background_recall_cost`.
    """
    if answer is ...:
        return wrong("record your answer first: replace the `...` with a number between 0 and 1.")
    value = _as_number(answer)
    if value is None:
        return wrong(f"the answer is a number between 0 and 1; got {answer!r}.")
    target = background_recall_cost()
    if abs(value - target) <= RECALL_COST_TOLERANCE:
        return right(f"{HALO_SIZE} x {1 - BACKGROUND_SHARE:.4f} / {BACKGROUND_SHARE:.4f} = {target:.3f}: background "
                     "has about 17 times the digits' pixels, so a halo half the strokes' area is only about 3% of "
                     "background's pixels.")
    slips = [(HALO_SIZE, "0.49 is the halo as a share of the digit pixels; background's recall divides by "
                         "background's pixels, about 17 times as many"),
             (HALO_SIZE / 11, "that divides by the 11 classes of mean accuracy; first find background's recall "
                              "drop: the halo's pixels over background's pixels"),
             (HALO_SIZE * BACKGROUND_SHARE / (1 - BACKGROUND_SHARE), "that is upside down: background's recall "
                                                                    "divides by background's pixels, the many ones")]
    slip = next((reason for guess, reason in slips if abs(value - guess) <= 3 * RECALL_COST_TOLERANCE), None)
    return wrong((slip or "count pixels: the halo is given per digit pixel, but background's recall is counted per "
                  "background pixel; turn one count into the other with section 1's class shares") + ".")


# --- exercise 3a · explain: why class weights raised mean accuracy but lowered mean IoU --------------------------------

SCORE_GAP_REASONS = {
    "a": "a halo pixel enters a digit's IoU as a false alarm, against the digit's few pixels, but costs recall only as "
         "one of background's many pixels",
    "b": "mean IoU is averaged image by image, where a digit's few pixels make each image's IoU swing, while mean "
         "accuracy pools each class's recall over the whole test set",
    "c": "a halo pixel painted as a digit raises that digit's recall, since recall counts every pixel given the "
         "digit's name, while IoU also counts it as a false alarm",
    "d": "mean accuracy ignores a digit pixel given the wrong digit's name, while mean IoU counts it twice: as a miss "
         "for one digit and a false alarm for another",
}
SCORE_GAP_ANSWER = "a"
_SCORE_GAP_WHY = {
    "b": "both scores are read from one confusion matrix summed over all 200 test scenes, so neither is averaged "
         "image by image; the gap comes from what each per-class score counts",
    "c": "recall divides by the digit's true pixels only: a background pixel painted as the digit is not one of them, "
         "so it cannot raise that digit's recall (precision counts it, recall does not)",
    "d": "a misnamed pixel is one its true digit did not get, so it lowers that digit's recall as well as its IoU: "
         "both scores count misnaming, so (d)'s premise is false",
}


def check_score_gap_reason(choice: Any, sentence: Any = None) -> bool:
    """Check the learner's reason why class weights raised mean accuracy but lowered mean IoU.

    The learner first writes one sentence of their own (not graded: it is printed back beside the feedback, so
    they can compare it with the reason), then picks a letter.

    Args:
        choice: One letter of :data:`SCORE_GAP_REASONS`.
        sentence: The learner's own one-sentence explanation, a string; ``...`` or an empty string asks for it
            first. ``None`` (the default) skips it, for callers that ask only for the letter.

    Returns:
        ``True`` for ``"a"``: a halo pixel is a false alarm in a digit's IoU union, where it is large against the
        digit's few pixels, but touches recall only as a lost background pixel, small against background's many.
    """
    if sentence is not None:
        if sentence is ... or not isinstance(sentence, str) or not sentence.strip():
            return wrong("write your own sentence first: replace the `...` of `my_sentence` with one sentence, as a "
                         "string, saying why the two scores move so differently (it is not graded).")
        print(f"Your sentence: {sentence.strip()}")
    if choice is ... or choice is None:
        return wrong("record your answer first: replace the `...` with one letter, "
                     + ", ".join(map(repr, SCORE_GAP_REASONS)) + ".")
    letter = str(choice).strip().strip("\"'()").lower()
    if letter not in SCORE_GAP_REASONS:
        return wrong(f"the answer is one letter of {', '.join(map(repr, SCORE_GAP_REASONS))}; got {choice!r}.")
    if letter != SCORE_GAP_ANSWER:
        return wrong(f"not ({letter}): {_SCORE_GAP_WHY[letter]}.")
    return right("recall counts only a class's true pixels, so a halo pixel costs recall only as one lost background "
                 "pixel, small against background's many pixels (the last part measures how small), while the "
                 "digits' recalls rise as their misses fall. IoU puts the same pixel in a digit's union as a false "
                 "alarm, where the halo is about half the digit's size: mean IoU falls. The next part checks it on one "
                 "digit.")


# --- section 3's halo (the lesson's own bookkeeping) ----------------------------------------


def halo_area(confusion: Any) -> float:
    """The halo: background pixels called some digit, per true digit pixel (a ratio: it can exceed 1).

    Args:
        confusion: One confusion matrix, ``(K, K)`` with rows true and columns predicted, class 0 background.

    Returns:
        ``sum_d m[0, d] / sum_{c >= 1} sum_j m[c, j]`` over the digits ``d, c >= 1``.
    """
    matrix = np.asarray(confusion, dtype=float)  # (K, K)
    return float(matrix[0, 1:].sum() / matrix[1:].sum())
