"""Checks for the exercises of lesson 14 (augmentation and overfitting).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from segedu.course.exercises._verdict import check_outcome_prediction, choice_hint, read_letters, right, wrong
from segedu.course.experiments import paired_t_interval  # re-exported: the lesson compares its own with it

__all__ = [
    "AUGMENTATIONS",
    "EXPLANATIONS",
    "GAP_OUTCOMES",
    "check_gap_prediction",
    "check_ruled_out_explanations",
    "check_safe_augmentations",
    "classify_gap_narrowing",
    "paired_t_interval",
]

# --- 1 · which augmentations keep a digit scene plausible and correctly labelled ----------------

AUGMENTATIONS = {
    "a": "mirror image and mask left-right (the same flip for both)",
    "b": "rotate image and mask by the same 10 degrees (the mask resampled by nearest neighbour, the corners "
         "filled with 0 in the image and 255 in the mask)",
    "c": "add random noise of standard deviation 0.02 to every pixel of the image, clipped to 0-1 (the mask untouched)",
    "d": "rotate image and mask by 180 degrees",
    "e": "multiply every pixel of the image by one random factor between 0.9 and 1.1 (clipped to 1)",
}
_SAFE = {"b", "c", "e"}
_WHY = {
    "a": "the mask is mirrored with the image, so no label becomes wrong, but a mirrored 2, 3, 4, 5, 6, 7 "
         "or 9 is not a digit anyone writes: the scene is no longer plausible, and the network would spend its "
         "training on shapes no writer produces (flips suit shapes, cells or street scenes, not text)",
    "b": "a digit written 10 degrees slanted is still that digit (people slant their writing more than that), "
         "and the mask turns with the image, resampled by nearest neighbour, so every pixel keeps the class of "
         "what it shows; the corners brought in are marked 255 and skipped by the loss. Unlike a half-turn (d), "
         "a small rotation changes no digit into another",
    "c": "the generator already adds pixel noise (standard deviation up to 0.05) to every scene, and draws "
         "stroke cores at a grey level of 0.7 to 1.0 on backgrounds of 0 to 0.3; a little more noise changes no "
         "pixel's class and leaves every stroke far brighter than its background, and the mask is untouched",
    "d": "rotating by 180 degrees turns a 6 into a 9 (and a 9 into a 6) while its mask still says 6: "
         "the transform changes the class, so the label becomes false",
    "e": "a brightness change is what another pen or scanner produces: no pixel changes its class and the mask "
         "is not touched. The generator draws backgrounds at a grey level from 0 to 0.3 and stroke cores at a "
         "level from 0.7 to 1.0, then adds pixel noise (standard deviation up to 0.05); a factor of 0.9 to 1.1 puts "
         "backgrounds at up to 0.33 and stroke cores at 0.63 or more, still far apart; clipping at 1 only flattens "
         "the brightest stroke pixels, which stay far brighter than the background, so the strokes keep their shape",
}


def check_safe_augmentations(answer: Any) -> bool:
    """Check the letters of :data:`AUGMENTATIONS` that keep every scene a plausible, correctly labelled digit scene.

    Args:
        answer: A set (or list, or string such as ``"ab"``) of letters.

    Returns:
        ``True`` for exactly the augmentations that keep scenes plausible and their labels correct.
    """
    if answer is ... or answer is None:
        return wrong("record your answer first: replace the `...` with a set of letters, e.g. {'a', 'b'}.")
    letters, hint = read_letters(answer, AUGMENTATIONS, "are not among the augmentations")
    if hint is not None:
        return wrong(hint)
    if letters == _SAFE:
        return right("a small rotation, a little noise and a small brightness change are what another hand, pen or "
                     "scanner produces: the digits stay plausible and no counted pixel changes its class. A mirror "
                     "keeps the labels but makes digits no one writes (implausible scenes), and a half-turn turns a "
                     "6 into a 9 under a mask that still says 6 (false labels). Whether safe augmentations help is "
                     "section 2's question.")
    misses = [f"{letter} is {'safe' if letter in _SAFE else 'not safe'}: {_WHY[letter]}"
              for letter in sorted(letters ^ _SAFE)]
    return wrong("; ".join(misses) + ".")


# --- 2 · predict, then run: which final score augmentation moves detectably ---------------------

GAP_OUTCOMES = ("by raising validation", "by lowering training", "both", "neither")

def classify_gap_narrowing(
    plain_train: Sequence[float], augmented_train: Sequence[float],
    plain_val: Sequence[float], augmented_val: Sequence[float],
) -> str:
    """Name how augmentation moved the final scores, per seed: one of :data:`GAP_OUTCOMES`.

    Args:
        plain_train, augmented_train: The final training score of each seed, without and with augmentation.
        plain_val, augmented_val: The same seeds' final validation scores, in the same order.

    Returns:
        ``"by lowering training"`` if the 95% t-interval of the paired training differences (augmented minus
        plain) lies below 0, ``"by raising validation"`` if that of the validation differences lies above 0,
        ``"both"`` if both hold, ``"neither"`` if neither does.
    """
    if not len(plain_train) == len(augmented_train) == len(plain_val) == len(augmented_val):
        raise ValueError("pass one score per seed for every arm and split")
    _, train_high = paired_t_interval([after - before for before, after in zip(plain_train, augmented_train)])
    val_low, _ = paired_t_interval([after - before for before, after in zip(plain_val, augmented_val)])
    lowered, raised = train_high < 0, val_low > 0
    if lowered and raised:
        return "both"
    if lowered:
        return "by lowering training"
    if raised:
        return "by raising validation"
    return "neither"


_GAP_MEANINGS = {
    "by lowering training": (
        "in every seed the augmented arm's final training score is lower than plain's, by 0.23 on average (its "
        "95% t-interval lies below 0), while the validation differences go up in five seeds and down in five, "
        "and their interval holds 0. Without augmentation the network learns its 32 scenes almost by heart; "
        "with it, it does not, and the gap narrows from the training side (why the training score falls is "
        "exercise 3's question). A smaller gap is not by itself a better model: at this budget the ten seeds' 95% "
        "interval of the validation change (-0.029 to +0.015) excludes a loss larger than about 0.03 and a gain "
        "larger than about 0.015"
    ),
    "by raising validation": (
        "the validation differences (augmented minus plain) lie above 0 in their 95% t-interval, while the "
        "training score did not fall detectably: the augmented scenes taught the network something about unseen "
        "scenes"
    ),
    "both": "the training score fell detectably and the validation score rose detectably (both 95% t-intervals "
            "exclude 0)",
    "neither": "neither the fall of the training score nor a rise of the validation score is detectable: both "
               "95% t-intervals hold 0",
}


def check_gap_prediction(prediction: Any, outcome: str | None = None) -> bool:
    """Record a prediction of what augmentation does to the final scores; with ``outcome``, compare it.

    The lesson calls it twice: first without ``outcome``, before anything is measured (so nothing the
    learner can print before answering holds the result), then with the outcome it measured after that.

    Args:
        prediction: The learner's guess, one of :data:`GAP_OUTCOMES`, recorded before the figure.
        outcome: What happened, from :func:`classify_gap_narrowing` (measured in the lesson), or ``None``
            to only check that a prediction is recorded.

    Returns:
        ``True`` once a prediction is recorded, whether it names the outcome or not.
    """
    if outcome is None:
        hint = choice_hint(prediction, _GAP_MEANINGS)
        if hint is not None:
            return wrong(hint)
        print(f"Recorded: {prediction!r}. The cells below measure what happened and compare it with your prediction.")
        return True
    return check_outcome_prediction(prediction, outcome, _GAP_MEANINGS, happened="the gap narrowed")


# --- 3 · which explanations of the training score's fall the lesson's records rule out ----------

EXPLANATIONS = {
    "a": "the augmented arm's training score is taken on warped scenes, which are harder to segment than the 32 "
         "scenes themselves",
    "b": "the chain smooths away the scenes' pixel noise, so the unwarped, noisy training scenes look unfamiliar to "
         "the augmented network: that is why it fits them less",
    "c": "every pass shows a different variant of each scene, so the network cannot learn the 32 exact scenes by heart",
}
_RULED_OUT = {"a", "b"}
_EVIDENCE = {
    "a": "the records score both arms' training curves on the 32 training scenes without augmentation (the printed "
         "settings say so, and the figure's title): the fall is on the very scenes plain was scored on",
    "b": "with the noise put back the training score stays where the augmented arm's was (0.718 against 0.713 on "
         "average; paired by seed, +0.005 with a 95% t-interval of -0.012 to +0.021), far below plain's 0.942: "
         "restoring the noise leaves the fall of 0.23 in place",
    "c": "section 2 does not test it: it fits the records and is the usual explanation, but no stored arm isolates "
         "the new draw at every pass (for instance by training on one fixed warped copy of each scene), so it stays "
         "a hypothesis",
}
_WHAT_IT_IS = ("all three are candidate causes; what the fall consists of is another question, measured in one seed "
               "in optional section 4.1: on its own 32 scenes seed 0's augmented network finds only 81% of the stroke "
               "pixels (plain 98%) yet names 99% of those it finds right, so its lost score is missed strokes and "
               "background called a digit, not confused digits. A cause has to produce that; c would, and stays untested")


def check_ruled_out_explanations(answer: Any) -> bool:
    """Check the letters of :data:`EXPLANATIONS` that the lesson's printed records rule out.

    Args:
        answer: A set (or list, or string such as ``"ab"``) of letters; an empty set says none is ruled out.

    Returns:
        ``True`` for exactly the explanations that section 2's records rule out.
    """
    if answer is ... or answer is None:
        return wrong("record your answer first: replace the `...` with a set of letters, e.g. {'a'}.")
    letters, hint = read_letters(answer, EXPLANATIONS, "are not among the explanations")
    if hint is not None:
        return wrong(hint)
    if letters == _RULED_OUT:
        return right(f"a is ruled out: {_EVIDENCE['a']}; b is ruled out: {_EVIDENCE['b']}. c is not: "
                     f"{_EVIDENCE['c']}. Note: {_WHAT_IT_IS}.")
    misses = [f"{letter} is {'ruled out' if letter in _RULED_OUT else 'not ruled out'}: {_EVIDENCE[letter]}"
              for letter in sorted(letters ^ _RULED_OUT)]
    return wrong("; ".join(misses) + f". Note: {_WHAT_IT_IS}.")
