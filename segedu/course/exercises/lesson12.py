"""Checks for the exercises of lesson 12 (train your own segmenter).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from segedu.course.exercises._verdict import check_outcome_prediction, read_letters, right, wrong

__all__ = [
    "AUGMENTATIONS",
    "RATE_OUTCOMES",
    "TAMPER_OUTCOMES",
    "check_rate_prediction",
    "check_safe_augmentations",
    "check_tamper_prediction",
    "classify_rate_run",
]

# --- 2 · predict, then run: a constant learning rate of 3 -------------------------------------

RATE_OUTCOMES = ("blows up", "stalls", "learns")

_RATE_MEANINGS = {
    "blows up": (
        "Adam's first steps move every weight by about the learning rate itself, here 3, far more than the "
        "weights of a freshly initialised network (most are well below 1), so the first step overshoots, the "
        "loss jumps far above its start and the network cannot find its way back within 20 steps. The range "
        "test warned of it: its loss turned up at the highest rates"
    ),
    "stalls": "the loss stayed near its first value: the steps neither helped nor hurt",
    "learns": "the loss ended clearly below its first value: the rate was small enough to go downhill",
}


def classify_rate_run(losses: Sequence[float]) -> str:
    """Name what a short run did to its training loss: one of :data:`RATE_OUTCOMES`.

    Args:
        losses: The loss of every step, in order (at least 6 values).

    Returns:
        ``"learns"`` if the mean of the last 5 losses is below 0.9 times the first loss; otherwise
        ``"blows up"`` if some loss exceeded 3 times the first; otherwise ``"stalls"``.
    """
    if len(losses) < 6:
        raise ValueError(f"pass the loss of at least 6 steps; got {len(losses)}")
    first, last = float(losses[0]), sum(float(value) for value in losses[-5:]) / 5
    if last < 0.9 * first:
        return "learns"
    if max(float(value) for value in losses) > 3 * first:
        return "blows up"
    return "stalls"


def check_rate_prediction(prediction: Any, outcome: str) -> bool:
    """Compare a recorded prediction with what a constant learning rate of 3 did to the loss.

    Args:
        prediction: The learner's guess, one of :data:`RATE_OUTCOMES`, recorded before the run.
        outcome: What happened, from :func:`classify_rate_run` (measured in the lesson).

    Returns:
        ``True`` if the prediction names the outcome.
    """
    return check_outcome_prediction(prediction, outcome, _RATE_MEANINGS, happened="the loss")


# --- 3 · predict, then run: one changed byte, loaded without a hash ---------------------------

TAMPER_OUTCOMES = ("refused", "loads with changed weights", "loads unchanged")

_TAMPER_MEANINGS = {
    "refused": "the unpickler noticed the damage and the file was refused",
    "loads with changed weights": (
        "the byte sits inside a tensor's raw numbers. torch.save writes a CRC-32 checksum for every "
        "record of its zip file, but torch.load does not verify it, and the unpickler reads structure "
        "(names, shapes, types), not the values, so one weight silently changed. Only a hash of the whole "
        "file, compared before loading (expected_sha256), catches it"
    ),
    "loads unchanged": "the changed byte did not reach any weight",
}


def check_tamper_prediction(prediction: Any, outcome: str) -> bool:
    """Compare a recorded prediction with what loading a checkpoint with one changed byte did.

    Args:
        prediction: The learner's guess, one of :data:`TAMPER_OUTCOMES`, recorded before the run.
        outcome: What happened, one of :data:`TAMPER_OUTCOMES` (measured in the lesson).

    Returns:
        ``True`` if the prediction names the outcome.
    """
    return check_outcome_prediction(prediction, outcome, _TAMPER_MEANINGS, happened="it")


# --- 1 · which augmentations keep a digit scene plausible and correctly labelled ----------------

AUGMENTATIONS = {
    "a": "mirror left-right",
    "b": "zoom by a random factor between 0.8 and 1.2, then crop back to 64 x 64",
    "c": "an elastic warp with alpha 40, sigma 4 (the strength of section 2's figure)",
    "d": "rotate by 180 degrees",
    "e": "make the whole image 20% brighter (clipped to 1) or 20% darker",
}
_SAFE = {"b", "c", "e"}
_WHY = {
    "a": "the mask is mirrored with the image, so no label becomes wrong, but a mirrored 2, 3, 4, 5, 6, 7 "
         "or 9 is not a digit anyone writes: the scene is no longer plausible and the network would learn "
         "strokes no test scene holds (flips suit shapes, cells or street scenes, not text)",
    "b": "a digit written a little larger or smaller is still the same digit, and the mask is zoomed "
         "with it (nearest neighbour), so every label stays true; a zoom out leaves a border filled with "
         "black and marked 255 (about a third of the frame at 0.8), which the loss skips: it costs labelled "
         "pixels, and no test scene holds such a band, one reason not to zoom out much further",
    "c": "a warp of this strength imitates another hand's strokes; image and mask move together and the digit "
         "keeps its identity; the strip it pulls in at the edges is filled with black and marked 255: "
         "skipped by the loss, but never seen at test time",
    "d": "rotating by 180 degrees turns a 6 into a 9 (and a 9 into a 6) while its mask still says 6: "
         "the transform changes the class, so the label becomes false",
    "e": "brightness changes no pixel's class and the mask is not touched at all; clipping at 1 only "
         "flattens the brightest stroke pixels, which stay far brighter than the dark background, so the "
         "strokes keep their shape",
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
        return right("zoom, warps of this strength and brightness keep a plausible, correctly labelled digit scene "
                     "(apart from the black border a zoom out or a warp fills in and marks 255, skipped by "
                     "the loss but never seen at test time: the more you zoom out, the larger it is); a mirror "
                     "keeps the labels but makes strokes no one writes (implausible scenes), and a half-turn turns "
                     "a 6 into a 9 "
                     "under a mask that still says 6 (a wrong label).")
    misses = [f"{letter} is {'safe' if letter in _SAFE else 'not safe'}: {_WHY[letter]}"
              for letter in sorted(letters ^ _SAFE)]
    return wrong("; ".join(misses) + ".")
