"""Checks for the exercises of lesson 15 (losses for imbalanced classes).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch

from segedu.course.exercises._verdict import (
    borrowed_names,
    call_answer,
    recorded_miss,
    returns_nothing,
    right,
    wrong,
)

__all__ = [
    "ABSENT_PREDICTED_MASS",
    "CLOSE_CASE_TOLERANCE",
    "DICE_TOLERANCE",
    "EIGHT",
    "GRADIENT_CHOICES",
    "BACKGROUND_SHARE",
    "HALO_CASES",
    "HALO_SIZE",
    "RECALL_COST_TOLERANCE",
    "HALO_DIGIT_PIXELS",
    "HALO_TOLERANCE",
    "MEAN_IOU_TOLERANCE",
    "PREDICTION_TOLERANCE",
    "SOFT_DICE_BORROWED",
    "TILT_BELIEF",
    "TILT_TOLERANCE",
    "TILT_WEIGHTS",
    "TRAINED_WEIGHTS_OUTCOMES",
    "absent_class_dice",
    "absent_class_gradient",
    "all_eights_scores",
    "check_absent_class_dice",
    "check_all_eights_mean_iou",
    "check_halo_scores",
    "check_soft_dice",
    "check_soft_dice_prediction",
    "background_recall_cost",
    "check_background_recall_cost",
    "check_tilt_prediction",
    "check_trained_weights_prediction",
    "check_score_gap_reason",
    "SCORE_GAP_REASONS",
    "digit_pixel_fates",
    "digit_scores_by_seed",
    "paired_mean_iou_rows",
    "halo_case_scores",
    "prediction_case",
    "soft_dice_cases",
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
        the four shares of :func:`digit_pixel_fates`, and ``"worst digit IoU"``: the run's lowest IoU among the
        digits (classes 1 to K - 1).
    """
    from segedu.course.experiments import scores_by_seed
    from segedu.training.metrics import iou_per_class

    scores = scores_by_seed(loss_runs, run_seeds, foreground="stroke")
    scores.update(digit_pixel_fates([loss_runs[seed]["confusion"] for seed in run_seeds]))
    scores["worst digit IoU"] = np.array([float(iou_per_class(torch.as_tensor(loss_runs[seed]["confusion"],
                                                                               dtype=torch.float64))[1:].min())
                                          for seed in run_seeds])
    return scores


def paired_mean_iou_rows(
    studies: dict[str, list[dict[str, Any]]],
    losses: list[str],
    loss_names: dict[str, str],
    *,
    reference: str = "cross_entropy",
    reference_runs: dict[str, Any] | None = None,
    tie: float = 0.0,
) -> tuple[dict[tuple[str, str], np.ndarray], dict[str, dict[str, Any]]]:
    """Each loss's mean IoU minus the reference loss's of the same seed, for several groups of records.

    Used by lesson 15's follow-up 3 (other training lengths and two controls). A group's records are merged
    with :func:`segedu.course.experiments.merge_runs`; a loss a group did not run is left out.

    Args:
        studies: Row-group label (e.g. ``"400 steps"``) to the records of that group.
        losses: The losses to compare with the reference, in row order.
        loss_names: Loss key to the name printed in the row labels.
        reference: The loss every other is paired with (plain cross-entropy).
        reference_runs: Seed to run of the reference, used for a group whose records lack the reference.
        tie: A difference of at most this size either way counts as a tie in the ``"+/=/-"`` count.

    Returns:
        ``gaps``: ``(group, loss)`` to the paired differences, shape ``(seeds,)``, seeds in numeric order; and
        ``rows``: ``"group, name"`` to the printed values: ``"seeds"`` (first to last), ``"plain CE"`` (the
        reference's seed mean), ``"loss - plain CE"`` (the mean difference), ``"+/=/-"`` and ``"verdict"`` (the
        two-test rule, or ``"n seeds: no verdict possible"`` where ``n`` seeds cannot reach sign-flip p 0.05).

    Raises:
        ValueError: If a group has no runs of the reference and no ``reference_runs`` are given, or a loss lacks
            some of the reference's seeds.
    """
    from segedu.course.experiments import merge_runs, wins_ties_losses
    from segedu.course.verdict_tables import two_test_verdict

    gaps: dict[tuple[str, str], np.ndarray] = {}
    rows: dict[str, dict[str, Any]] = {}
    for group, records in studies.items():
        group_runs = merge_runs(records)  # loss -> seed -> run
        reference_group = group_runs.get(reference, reference_runs)
        if reference_group is None:
            raise ValueError(f"group {group!r} has no {reference!r} runs; pass reference_runs to pair it with")
        group_seeds = sorted(reference_group, key=int)
        plain = digit_scores_by_seed(reference_group, group_seeds)["mean IoU"]  # (seeds,)
        for loss in losses:
            if loss not in group_runs:
                continue
            missing = sorted(set(group_seeds) - set(group_runs[loss]), key=int)
            if missing:
                raise ValueError(f"group {group!r}: {loss!r} lacks seeds {missing} that {reference!r} ran; "
                                 "pair only records with the same seeds")
            gap = digit_scores_by_seed(group_runs[loss], group_seeds)["mean IoU"] - plain  # (seeds,)
            gaps[group, loss] = gap
            verdict_possible = 2 / 2 ** len(gap) <= 0.05  # the smallest sign-flip p that len(gap) seeds allow
            rows[f"{group}, {loss_names[loss]}"] = {
                "seeds": f"{group_seeds[0]} to {group_seeds[-1]}", "plain CE": float(plain.mean()),
                "loss - plain CE": float(gap.mean()), "+/=/-": wins_ties_losses(gap, tie),
                "verdict": two_test_verdict(gap) if verdict_possible else f"{len(gap)} seeds: no verdict possible"}
    return gaps, rows


# --- exercise 4 · predict, then read: what class weights do to mean accuracy and to mean IoU once trained -------

TRAINED_WEIGHTS_OUTCOMES = ("higher in most seeds", "level", "lower in most seeds")

_TRAINED_WEIGHTS_WHY = (
    "a heavy digit weight makes a missed stroke pixel expensive and a false alarm on background cheap (median "
    "weights make the average digit weigh 37 times background), so the U-Nets learned to call unsure pixels "
    "digit. Few stroke pixels were left to find, and the unsure pixels are mostly the background just around "
    "each stroke: the weights bought a few found strokes with a halo of false alarms. Section 3 measures the halo; "
    "exercise 5 asks why the two scores react to it so differently"
)


def _trained_outcome(wins: int, losses: int, seeds: int) -> str:
    """Name the outcome: "higher in most seeds" or "lower in most seeds" when more than half of the seeds say so."""
    if min(wins, losses) < 0 or wins + losses > seeds:
        raise ValueError(f"wins ({wins}) and losses ({losses}) must be counts of at most {seeds} seeds together")
    return "higher in most seeds" if wins > seeds / 2 else "lower in most seeds" if losses > seeds / 2 else "level"


def check_trained_weights_prediction(accuracy_prediction: Any, iou_prediction: Any, accuracy_counts: tuple[int, int],
                                     iou_counts: tuple[int, int], seeds: int) -> bool:
    """Compare two recorded predictions with how median-frequency weights did against plain cross-entropy.

    Each outcome is "higher in most seeds" or "lower in most seeds" when more than half of the paired seeds
    say so, "level" otherwise. The measured counts appear in the feedback only once both predictions are
    recorded.

    Args:
        accuracy_prediction: The learner's guess for mean accuracy, one of :data:`TRAINED_WEIGHTS_OUTCOMES`.
        iou_prediction: The learner's guess for mean IoU, one of :data:`TRAINED_WEIGHTS_OUTCOMES`.
        accuracy_counts: ``(wins, losses)``: seeds where median weights' mean accuracy beat plain
            cross-entropy's of the same seed, and seeds where it fell behind.
        iou_counts: The same for mean IoU.
        seeds: The paired seeds.

    Returns:
        ``True`` once both predictions are recorded, whether they name the outcomes or not.
    """
    outcomes = {"mean accuracy": _trained_outcome(*accuracy_counts, seeds),
                "mean IoU": _trained_outcome(*iou_counts, seeds)}
    predictions = {"mean accuracy": accuracy_prediction, "mean IoU": iou_prediction}
    for score, prediction in predictions.items():
        if prediction is ... or prediction is None:
            return wrong(f"record both predictions first: replace each `...` with one of "
                         f"{', '.join(map(repr, TRAINED_WEIGHTS_OUTCOMES))} (the {score} one is still missing).")
        if prediction not in TRAINED_WEIGHTS_OUTCOMES:
            return wrong(f"your {score} prediction must be one of {', '.join(map(repr, TRAINED_WEIGHTS_OUTCOMES))}; "
                         f"got {prediction!r}.")
    counts = {"mean accuracy": accuracy_counts, "mean IoU": iou_counts}
    measured = "; ".join(f"{score} came out {outcome} (median weights won {counts[score][0]} and lost "
                         f"{counts[score][1]} of {seeds} paired seeds)" for score, outcome in outcomes.items())
    if all(predictions[score] == outcome for score, outcome in outcomes.items()):
        return right(f"{measured}. Why: {_TRAINED_WEIGHTS_WHY}.")
    missed = ", ".join(f"{score}: you predicted {predictions[score]!r}" for score, outcome in outcomes.items()
                       if predictions[score] != outcome)
    return recorded_miss(f"{missed}; but {measured}. Why: {_TRAINED_WEIGHTS_WHY}.")


# --- exercise 1 · a number: the mean IoU of a model that finds every stroke but names every digit 8 ---------

EIGHT = 9  # class index of the digit 8: DIGIT_CLASS_NAMES = ("background", "0", ..., "9")
MEAN_IOU_TOLERANCE = 0.005  # enough for an answer worked out from class shares printed to two decimals
# 1/11 (an 8 IoU of 0) and (1 + the 8s' share of ALL pixels) / 11 lie 0.0007 apart: told apart at three decimals.
CLOSE_CASE_TOLERANCE = 0.0005


@lru_cache(maxsize=1)
def all_eights_scores() -> dict[str, Any]:
    """Scores, on the 200 digit test scenes, of a model that calls every digit pixel an 8 (background stays).

    The digit 8 is class index :data:`EIGHT` (index 0 is background, index ``d + 1`` the digit ``d``).

    Returns:
        ``pixel_accuracy``, ``mean_iou``, ``frequency_weighted_iou``, ``mean_accuracy``,
        ``all_background_mean_iou`` and ``all_background_pixel_accuracy`` (the scores of predicting background
        everywhere),
        ``eight_share_of_all_pixels`` (floats) and ``iou_per_class`` (list of 11 floats).
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
    predictions = torch.where(masks > 0, torch.full_like(masks, EIGHT), masks)  # every stroke called an 8
    matrix = confusion_matrix(predictions, masks, scenes.num_classes)
    background_only = confusion_matrix(torch.zeros_like(masks), masks, scenes.num_classes)
    return {"all_background_mean_iou": float(mean_iou(background_only)),
            "all_background_pixel_accuracy": float(pixel_accuracy(background_only)),
            "eight_share_of_all_pixels": float((masks == EIGHT).sum() / masks.numel()),
            "pixel_accuracy": float(pixel_accuracy(matrix)), "mean_iou": float(mean_iou(matrix)),
            "frequency_weighted_iou": float(frequency_weighted_iou(matrix)),
            "mean_accuracy": float(mean_accuracy(matrix)),
            "iou_per_class": [float(value) for value in iou_per_class(matrix)]}


def _as_number(answer: Any) -> float | None:
    if isinstance(answer, bool) or answer is None or answer is ...:
        return None
    try:
        return float(answer)
    except (TypeError, ValueError):
        return None


def check_all_eights_mean_iou(answer: Any) -> bool:
    """Check a mean IoU worked out by hand for a model that finds every stroke but names every digit 8.

    The scores are computed here, on the digit test scenes; they appear in the feedback only once a number
    is recorded. An answer within :data:`MEAN_IOU_TOLERANCE` counts as right.

    Args:
        answer: The learner's mean IoU, a number between 0 and 1.

    Returns:
        ``True`` if the number is the model's mean IoU.
    """
    if answer is ... or answer is None:
        return wrong("record your answer first: replace the `...` with a number between 0 and 1.")
    value = _as_number(answer)
    if value is None or not 0 <= value <= 1:
        return wrong(f"the answer must be one number between 0 and 1 (an IoU average); got {answer!r}.")
    scores = all_eights_scores()
    true_value, eight_iou = scores["mean_iou"], scores["iou_per_class"][EIGHT]
    measured = (f"measured: IoU of background {scores['iou_per_class'][0]:.3f}, of the digit 8 {eight_iou:.3f}, "
                f"of each other digit 0; mean IoU {true_value:.3f}, pixel accuracy {scores['pixel_accuracy']:.3f}, "
                f"frequency-weighted IoU {scores['frequency_weighted_iou']:.3f}; the all-background model's mean IoU "
                f"{scores['all_background_mean_iou']:.3f} and pixel accuracy "
                f"{scores['all_background_pixel_accuracy']:.3f}")
    if abs(value - true_value) <= MEAN_IOU_TOLERANCE:
        return right(f"{measured}. Background's IoU is 1 (no pixel lost, no false alarm), the 8's IoU is the true "
                     "8s over every pixel called 8, the 8s' share of the stroke pixels, and the nine other digits "
                     "score 0: mean IoU = (1 + that share) / 11. With nine of the ten digits at IoU 0, this model "
                     "finds every digit pixel yet scores barely more mean IoU than the all-background model of "
                     "section 1, while its pixel accuracy rises above that model's and frequency-weighted IoU stays "
                     "high. Read pixel accuracy against its floor: answering background everywhere already scores the "
                     "background share, and this model sits only the 8s' share above it.")
    if abs(value - 2 / 11) <= MEAN_IOU_TOLERANCE:
        hint = ("you gave the 8 an IoU of 1. Every stroke pixel is called 8, so the 8's union is all the stroke "
                "pixels, and only the true 8s among them are right")
    elif abs(value - 1 / 11) <= CLOSE_CASE_TOLERANCE:
        hint = "you gave the 8 an IoU of 0, but the true 8s are called 8: they are its true positives"
    elif abs(value - (1 + scores["eight_share_of_all_pixels"]) / 11) <= CLOSE_CASE_TOLERANCE:
        hint = ("you gave the 8 an IoU equal to its share of all pixels. Background pixels are never called 8, so "
                "they are not in the 8's union: its union is the stroke pixels, and its IoU is the 8s' share of "
                "the strokes")
    elif abs(value - 1 / 11) <= MEAN_IOU_TOLERANCE:
        hint = "you gave the 8 an IoU of 0, but the true 8s are called 8: they are its true positives"
    elif abs(value - scores["pixel_accuracy"]) <= 0.02 or abs(value - scores["frequency_weighted_iou"]) <= 0.02:
        hint = ("that is close to a score weighted by pixel counts; mean IoU averages the eleven per-class IoUs, "
                "each class counting the same")
    else:
        hint = ("mean IoU averages eleven per-class IoUs, true positives / (true + false positives + misses). "
                "Work out background's, the 8's and those of the nine other digits from the class shares")
    return wrong(f"{hint} (you answered {value:.3f}).")


# --- exercise 2, first part · predict: the soft Dice of a class absent from the truth but softly predicted -------------

ABSENT_PREDICTED_MASS = 0.3  # P_k: the softmax probability the model still spreads over a class absent from the truth
DICE_TOLERANCE = 0.01  # 1 / 1.3 = 0.769...: 0.77 counts
GRADIENT_CHOICES = ("eps = 0", "eps = 1", "both", "neither")  # which eps gives a gradient that pushes P_k down


def absent_class_dice(eps: float, predicted: float = 0.0) -> float:
    """Dice_k = (2 I_k + eps) / (P_k + G_k + eps) of a class absent from the truth (I_k = G_k = 0), by torch.

    Args:
        eps: The smoothing term.
        predicted: P_k, the summed probability given to the class (0 for a hard prediction that names none of it).

    Returns:
        The value torch gives (``nan`` for 0 / 0).
    """
    nothing = torch.zeros(())  # I_k and G_k: the truth has none of the class
    return float((2 * nothing + eps) / (torch.tensor(predicted) + nothing + eps))


def absent_class_gradient(eps: float, predicted: float = ABSENT_PREDICTED_MASS) -> float:
    """d(1 - Dice_k) / dP_k for a class absent from the truth with P_k = predicted, by torch's autograd.

    A positive value means gradient descent lowers P_k: the loss pushes the stray probability down.
    """
    mass = torch.tensor(float(predicted), requires_grad=True)  # P_k
    nothing = torch.zeros(())  # I_k = G_k = 0
    (1 - (2 * nothing + eps) / (mass + nothing + eps)).backward()
    return float(mass.grad) + 0.0  # + 0.0 turns -0.0 into 0.0


def _read_number(answer: Any) -> float | str | None:
    """A number, ``"undefined"`` for 0 / 0 or nan, or ``None`` for an answer that is neither."""
    if isinstance(answer, str):
        text = answer.strip().strip("\"'").lower().replace(" ", "")
        if text in ("undefined", "nan", "0/0", "none"):
            return "undefined"
        if text.count("/") == 1:
            top, bottom = (_read_number(part) for part in text.split("/"))
            if isinstance(top, float) and isinstance(bottom, float):
                return "undefined" if bottom == 0 else top / bottom
            return None
        answer = text
    if isinstance(answer, bool) or answer is None or answer is ...:
        return None
    try:
        value = float(answer)
    except (TypeError, ValueError, RuntimeError):
        return None
    return "undefined" if np.isnan(value) else value


def _read_choice(answer: Any) -> str | None:
    """One of :data:`GRADIENT_CHOICES`, or ``None``."""
    if isinstance(answer, bool) or answer is None or answer is ...:
        return None
    text = str(answer).strip().strip("\"'").lower().replace(" ", "").replace("ε", "eps").replace("epsilon", "eps")
    text = {"0": "eps=0", "0.0": "eps=0", "1": "eps=1", "1.0": "eps=1", "none": "neither"}.get(text, text)
    return {choice.replace(" ", ""): choice for choice in GRADIENT_CHOICES}.get(text)


def check_absent_class_dice(with_eps_0: Any, with_eps_1: Any, pushes_down: Any) -> bool:
    """Check the Dice_k predicted for a class absent from the truth that softmax still gives P_k = 0.3.

    With G_k = I_k = 0 and P_k = 0.3: eps = 0 gives 0 / 0.3 = 0, eps = 1 gives 1 / 1.3 (about 0.769). Only eps = 1
    makes the loss term 1 - Dice_k grow with P_k, so only eps = 1 gives a gradient that pushes P_k down; at eps = 0
    the term is 1 for every P_k > 0, flat, with gradient 0. Torch's values appear in the feedback only once all
    three answers are right.

    Args:
        with_eps_0: The learner's Dice_k with eps = 0, a number.
        with_eps_1: The same with eps = 1.
        pushes_down: Which gives the loss a gradient that pushes P_k down, one of :data:`GRADIENT_CHOICES`.

    Returns:
        ``True`` if all three answers are right.
    """
    if any(answer is ... for answer in (with_eps_0, with_eps_1, pushes_down)):
        return wrong("record all three answers first: replace each `...` with a number (the two Dice values) or "
                     "one of " + ", ".join(repr(choice) for choice in GRADIENT_CHOICES) + ".")
    values = {"eps = 0": _read_number(with_eps_0), "eps = 1": _read_number(with_eps_1)}
    choice = _read_choice(pushes_down)
    unreadable = [f"{name}: {answer!r}" for (name, value), answer in zip(values.items(), (with_eps_0, with_eps_1))
                  if value is None]
    if choice is None:
        unreadable.append(f"the gradient: {pushes_down!r}")
    if unreadable:
        return wrong("each Dice is a number and the gradient answer one of "
                     + ", ".join(repr(choice) for choice in GRADIENT_CHOICES) + "; got " + ", ".join(unreadable) + ".")
    mass = ABSENT_PREDICTED_MASS
    hints = []
    at_0, at_1 = values["eps = 0"], values["eps = 1"]
    if at_0 == "undefined":
        hints.append(f"with eps = 0 you answered undefined: that is the hard-mask case; here softmax gives the class "
                     f"P_k = {mass}, so the denominator is {mass} + 0 + 0, not 0")
    elif abs(at_0) > DICE_TOLERANCE:
        hints.append(f"with eps = 0 you answered {at_0:g}: the numerator is 2 I_k + 0, and I_k = 0 because the "
                     "truth has none of the class")
    if at_1 == "undefined":
        hints.append(f"with eps = 1 you answered undefined: the denominator is {mass} + 0 + 1, so nothing divides by 0")
    elif abs(at_1 - 1) <= DICE_TOLERANCE:
        hints.append(f"with eps = 1 you answered 1, the hard-mask answer: here P_k = {mass}, so the denominator is "
                     f"{mass} + 0 + 1")
    elif abs(at_1) <= DICE_TOLERANCE:
        hints.append("with eps = 1 you answered 0: the numerator is 2 x 0 + 1, not 0")
    elif abs(at_1 - 1 / (mass + 1)) > DICE_TOLERANCE:
        hints.append(f"with eps = 1 you answered {at_1:g}: Dice_k = (2 I_k + 1) / (P_k + G_k + 1) with I_k = G_k = 0 "
                     f"and P_k = {mass}")
    if choice in ("eps = 0", "both"):
        hints.append(f"you chose {choice!r}: at eps = 0 Dice_k = 0 / P_k = 0 for every P_k > 0, so the loss term "
                     "1 - Dice_k stays 1 whatever P_k is: flat, with gradient 0")
    elif choice == "neither":
        hints.append("you chose 'neither': at eps = 1 Dice_k = 1 / (P_k + 1) falls as P_k grows, so 1 - Dice_k "
                     "rises with P_k and a descent step lowers P_k")
    if hints:
        return wrong("; ".join(hints) + ".")
    return right(f"measured: torch gives Dice_k = {absent_class_dice(0.0, mass):.3f} with eps = 0 and "
                 f"{absent_class_dice(1.0, mass):.3f} with eps = 1; the gradient of 1 - Dice_k with respect to P_k is "
                 f"{absent_class_gradient(0.0):.3f} and {absent_class_gradient(1.0):.3f}. Without eps the absent "
                 "class's term is stuck at 1 whatever the model gives it, so nothing teaches the model to stop "
                 "predicting it. With eps = 1 the term 1 - 1 / (P_k + 1) grows with P_k, so descent pushes the stray "
                 "probability down, toward Dice 1 at P_k = 0.")


# --- exercise 2, second part · predict, then write soft Dice --------------------------------------------------------

SOFT_DICE_BORROWED = ("soft_dice_loss", "DiceLoss")  # segedu's versions: they would do the exercise


def soft_dice_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """The batches the soft-Dice check tries, as ``(name, logits (B, K, H, W), masks (B, H, W))``.

    Section 2's random batch, a batch in which one class is absent from both truth and (nearly) prediction,
    and a batch of two images with different class sizes (where one Dice per image differs from one per batch).
    """
    generator = torch.Generator().manual_seed(0)
    section_logits = torch.randn(2, 4, 5, 6, generator=generator)
    section_masks = torch.randint(0, 4, (2, 5, 6), generator=generator)
    absent_masks = torch.randint(0, 2, (1, 6, 6), generator=generator)  # classes 0 and 1 only
    absent_logits = torch.randn(1, 3, 6, 6, generator=generator)
    absent_logits[:, 2] = -30.0  # class 2: (nearly) never predicted and never true
    uneven_masks = torch.zeros(2, 8, 8, dtype=torch.long)
    uneven_masks[0, :6, :6] = 1  # a large class-1 object in the first image
    uneven_masks[1, :2, :2] = 1  # a small one in the second
    uneven_logits = 3 * torch.randn(2, 2, 8, 8, generator=generator)
    return [("section 2's batch", section_logits, section_masks),
            ("a batch with a class absent from truth and prediction", absent_logits, absent_masks),
            ("two images with objects of different sizes", uneven_logits, uneven_masks)]


def prediction_case() -> tuple[torch.Tensor, torch.Tensor]:
    """The case exercise 2's prompt asks the learner to predict the soft Dice loss of, before writing it.

    Returns:
        All-zero logits ``(1, 2, 4, 4)`` and a mask ``(1, 4, 4)`` all background: class 1 is absent from the truth
        yet gets p = 0.5 at every pixel. segedu's loss there is 1 - (17/25 + 1/9) / 2, about 0.604.
    """
    return torch.zeros(1, 2, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long)


PREDICTION_TOLERANCE = 0.005  # 1 - (17/25 + 1/9) / 2 = 0.6044: 0.60 counts; every slip below lies 0.06 or more away


def _prediction_slips() -> list[tuple[float, str]]:
    """Likely hand predictions for :func:`prediction_case` other than the right one, each with what went wrong.

    At every pixel p = 0.5 for both classes: background has I = 8, P = 8, G = 16; the absent class I = 0, P = 8, G = 0.
    """
    background, absent = 17 / 25, 1 / 9  # (2 x 8 + 1) / (8 + 16 + 1) and (0 + 1) / (8 + 0 + 1)
    return [
        (1 - (16 / 24 + 0) / 2, "you left out eps: segedu adds eps = 1 to each class's numerator and denominator, "
         "so the absent class's Dice is (0 + 1) / (8 + 0 + 1), not 0 / 8"),
        (1 - (background + 1) / 2, "you gave the absent class Dice 1, the hard-mask answer; softmax still gives it "
         "p = 0.5 at each of the 16 pixels, so its P_k is 8"),
        (1 - background, "you scored background only; the loss averages one Dice per class over both classes, the "
         "absent one included"),
        ((background + absent) / 2, "that is the mean Dice, a score; the loss is 1 minus it"),
        (1 - (17 / 21 + 1 / 5) / 2, "you squared p and g in the denominator, as V-Net's Eq. 1 does; segedu sums them "
         "plainly: P_k + G_k"),
        (0.0, "you took the argmax, a hard mask; soft Dice uses the softmax probabilities, 0.5 for each class at every "
         "pixel"),
    ]


def _dice_slip(found: float, logits: torch.Tensor, masks: torch.Tensor) -> str | None:
    """Name the likely slip behind a wrong soft Dice loss, or ``None``."""
    probabilities = logits.softmax(dim=1)  # (B, K, H, W)
    truth = torch.nn.functional.one_hot(masks, logits.shape[1]).permute(0, 3, 1, 2).to(probabilities.dtype)
    batch = (0, 2, 3)

    def loss(p: torch.Tensor, axes: tuple[int, ...] = batch, squares: bool = False, classes: slice = slice(None),
             eps: float = 1.0) -> float:
        intersection = (p * truth).sum(dim=axes)
        sizes = (p**2).sum(dim=axes) + (truth**2).sum(dim=axes) if squares else p.sum(dim=axes) + truth.sum(dim=axes)
        dice = (2 * intersection + eps) / (sizes + eps)
        return float(1 - dice[..., classes].mean())

    slips = [
        (1 - loss(probabilities), "you returned the mean Dice, a score (1 is perfect); the loss is 1 "
         "minus it, so that lower is better."),
        (loss(probabilities, squares=True), "you squared p and g in the denominator, as V-Net's Eq. 1 does; segedu's "
         "soft Dice sums them plainly: P_k + G_k."),
        (loss(probabilities, classes=slice(1, None)), "you left background out of the mean; segedu averages one Dice "
         "per class over all K classes, background included."),
        (loss(probabilities, axes=(2, 3)), "you took one Dice per image and averaged; segedu's sums run over the "
         "whole batch (dims 0, 2 and 3), one Dice per class."),
        (loss(logits.sigmoid()), "you used a sigmoid per class; soft Dice here uses the softmax over the classes, "
         "like cross-entropy."),
        (loss(logits), "you used the logits as probabilities: take logits.softmax(dim=1) first."),
        (loss(probabilities, eps=0.0), "you left out eps: segedu adds eps = 1 to the numerator and the "
         "denominator, which keeps a class absent from truth and prediction at Dice 1 instead of 0 / 0."),
    ]
    for value, hint in slips:
        if np.isfinite(value) and abs(found - value) < 1e-5:
            return hint
    return None


def _why_the_predicted_value() -> str:
    """Why segedu's soft Dice loss on :func:`prediction_case` is 1 - (17/25 + 1/9) / 2."""
    return ("every pixel gets p = 0.5, so background's Dice is (2 x 8 + 1) / (8 + 16 + 1) = 17/25 and the absent "
            "class's (0 + 1) / (8 + 0 + 1) = 1/9, and the loss is 1 - (17/25 + 1/9) / 2. The absent class, which is "
            "not in the picture at all, costs more than half the loss")


def _unrecorded_prediction(predicted: Any) -> str | None:
    """The hint for a prediction that is not yet recorded as one number, else ``None``."""
    if predicted is ... or predicted is None:
        return ("record your prediction first: replace the `...` of `my_predicted_loss` with the loss you work out "
                "by hand for all-zero logits, two classes and one 4 x 4 mask all background (a number).")
    if _as_number(predicted) is None:
        return f"your prediction must be one number, the loss; got {predicted!r}."
    return None


def check_soft_dice_prediction(predicted: Any) -> bool:
    """Check a hand prediction of segedu's soft Dice loss on :func:`prediction_case`, before any code is written.

    The value is computed here with :func:`segedu.training.losses.soft_dice_loss`. A prediction within
    :data:`PREDICTION_TOLERANCE` counts as right, and the feedback then gives the value and why; a wrong one gets a
    hint naming its likely slip (:func:`_prediction_slips`), not the value.

    Args:
        predicted: The learner's hand prediction of the loss, a number.

    Returns:
        ``True`` if the prediction is the loss on :func:`prediction_case`.
    """
    from segedu.training.losses import soft_dice_loss

    hint = _unrecorded_prediction(predicted)
    if hint is not None:
        return wrong(hint)
    prediction = _as_number(predicted)
    value = float(soft_dice_loss(*prediction_case()))
    if abs(prediction - value) > PREDICTION_TOLERANCE:
        slip = next((slip for slip_value, slip in _prediction_slips()
                     if abs(prediction - slip_value) <= PREDICTION_TOLERANCE),
                    "work out I_k, P_k and G_k for each of the two classes: p = 0.5 for both at each of the 16 pixels, "
                    "and the truth is background everywhere")
        return wrong(f"your prediction {prediction:g} is not segedu's soft Dice loss on this case (all-zero logits, "
                     f"two classes, one 4 x 4 mask all background): {slip}.")
    return right(f"segedu's soft_dice_loss gives {value:.3f} on this case and you predicted {prediction:.3f}: "
                 f"{_why_the_predicted_value()}. Now write the function; its check runs it on this case too.")


def check_soft_dice(function: Any, predicted: Any) -> bool:
    """Check ``function(logits, masks)``: segedu's soft Dice loss, eps = 1, written after a recorded prediction.

    The prediction (graded on its own by :func:`check_soft_dice_prediction`) must be recorded first. The function
    is compared with :func:`segedu.training.losses.soft_dice_loss` on :func:`soft_dice_cases`; the first batch it
    gets wrong ends the check with a hint naming the likely slip (V-Net's squares, background left out, one Dice per
    image, the score instead of the loss, no softmax, no eps). A function that calls segedu's ``soft_dice_loss`` or
    ``DiceLoss`` (:data:`SOFT_DICE_BORROWED`) is sent back. Once the function is right, the feedback sets its value
    on :func:`prediction_case` beside a right prediction, and says a wrong one missed without giving the value.

    Args:
        function: The learner's ``my_soft_dice_loss(logits, masks)`` returning a scalar tensor.
        predicted: The learner's hand prediction of the loss on :func:`prediction_case`, a number.

    Returns:
        ``True`` if a prediction is recorded and the function equals ``soft_dice_loss`` on every batch, whether the
        prediction was right or not (:func:`check_soft_dice_prediction` grades it; a wrong one's value stays hidden).
    """
    from segedu.training.losses import soft_dice_loss

    hint = _unrecorded_prediction(predicted)
    if hint is not None:
        return wrong(hint.replace("record your prediction first:", "record your prediction first, in the prediction "
                                  "cell above:"))
    prediction = _as_number(predicted)
    borrowed = borrowed_names(function, SOFT_DICE_BORROWED)
    if borrowed:
        return wrong(f"your function calls segedu's {' and '.join(borrowed)}, which computes the loss for you: "
                     "write it from the softmax probabilities and the one-hot truth.")
    for name, logits, masks in soft_dice_cases():
        found, hint = call_answer(function, logits.clone(), masks.clone())
        if hint is not None:
            return wrong(hint)
        if found is ... or found is None:
            return wrong(returns_nothing("the loss, a scalar tensor"))
        try:
            value = float(found)
        except (TypeError, ValueError, RuntimeError):
            shape = tuple(found.shape) if isinstance(found, torch.Tensor) else type(found).__name__
            return wrong(f"return one number, the loss (a scalar tensor); on {name} you returned {shape}.")
        expected = float(soft_dice_loss(logits, masks))
        if abs(value - expected) < 1e-5:
            continue
        if not np.isfinite(value):
            return wrong(f"on {name} your loss is {value}: a class absent from truth and prediction gives 0 / 0. "
                         "Add eps = 1 to the numerator and the denominator.")
        slip = _dice_slip(value, logits, masks) or (
            f"your loss is {value:.5f}, segedu's {expected:.5f}. Per class k: Dice_k = (2 I_k + 1) / (P_k + G_k + 1), "
            "then the loss is 1 minus the mean over the classes.")
        return wrong(f"on {name}: {slip}")
    logits, masks = prediction_case()
    found = float(function(logits.clone(), masks.clone()))
    right_function = ("your soft Dice equals segedu's soft_dice_loss on all three batches: softmax probabilities, "
                      "one Dice per class with sums over the whole batch and eps = 1, averaged over every class, "
                      "background included, and 1 minus that. The eps keeps an absent class at Dice 1 instead of "
                      "0 / 0. ")
    if abs(prediction - found) > PREDICTION_TOLERANCE:  # the value stays hidden: the prediction cell grades it
        return right(right_function + f"Your prediction, {prediction:g}, is not its value on the case you predicted "
                     "(all-zero logits, two classes, one 4 x 4 mask all background): the prediction cell above names "
                     "the likely slip.")
    return right(right_function + "On the case you predicted (all-zero logits for two classes, one 4 x 4 mask all "
                 f"background) yours returns {found:.3f} and you predicted {prediction:.3f}: "
                 f"{_why_the_predicted_value()}.")


# --- exercise 3 · predict: the weighted loss's minimiser on one pixel, and the class it names ------------------------

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


# --- exercise 5a · predict: one digit's recall and IoU without and with a halo ---------------------------------------

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
    wrong answer without giving the right value.

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
    return right("recall 0.90 and 0.99: the halo cannot lower it, because recall counts only the digit's true pixels. "
                 "IoU 0.90 and 99 / 150 = 0.66: the halo's 50 false alarms sit in the union.")


# --- exercise 5c · read the scale: what a halo costs background's recall ------------------------------------------

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


# --- exercise 5b · explain: why class weights move mean IoU far more than mean accuracy ------------------------------

SCORE_GAP_REASONS = {
    "a": "the halo's false alarms enter each digit's IoU union, but recall only through background's, whose pixels "
         "are many",
    "b": "mean accuracy averages eleven classes, mean IoU only the ten digits",
    "c": "the weights found many more digit pixels, which raises recall but not IoU",
    "d": "the class weights misnamed more digit pixels, and a misnamed pixel costs mean IoU twice (a miss and a false "
         "alarm), mean accuracy once",
}
SCORE_GAP_ANSWER = "a"
_SCORE_GAP_WHY = {
    "b": "both scores average all eleven classes with weight 1/K, background included (section 1's table), so the "
         "averaging is the same; the gap comes from what each per-class score counts",
    "c": "a found pixel is a true positive: it raises a digit's IoU as well as its recall, and the weights cut the "
         "missed pixels by only about 0.03 of the digit pixels",
    "d": "a misnamed pixel does cost mean IoU twice, but the class weights misnamed slightly fewer, not more (0.089 "
         "and 0.087 of the digit pixels against 0.100, no loss changed it "
         "distinguishably), so it cannot explain a mean IoU drop that came with the halo",
}


def check_score_gap_reason(choice: Any) -> bool:
    """Check the learner's reason why class weights lowered mean IoU far more than they raised mean accuracy.

    Args:
        choice: One letter of :data:`SCORE_GAP_REASONS`.

    Returns:
        ``True`` for ``"a"``: a halo pixel is a false alarm in a digit's IoU union, where it is large against the
        digit's few pixels, but touches recall only as a lost background pixel, small against background's many.
    """
    if choice is ... or choice is None:
        return wrong("record your answer first: replace the `...` with one letter, "
                     + ", ".join(map(repr, SCORE_GAP_REASONS)) + ".")
    letter = str(choice).strip().strip("\"'()").lower()
    if letter not in SCORE_GAP_REASONS:
        return wrong(f"the answer is one letter of {', '.join(map(repr, SCORE_GAP_REASONS))}; got {choice!r}.")
    if letter != SCORE_GAP_ANSWER:
        return wrong(f"not ({letter}): {_SCORE_GAP_WHY[letter]}.")
    return right("recall counts only a class's true pixels, so a halo pixel costs recall only as one lost background "
                 "pixel, small against background's many pixels (the next part measures how small), while the "
                 "digits' recalls rise as their misses fall. IoU puts the same pixel in a digit's union as a false "
                 "alarm, where the halo is about half the digit's size: mean IoU falls about 0.2.")
