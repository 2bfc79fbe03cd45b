"""Checks for the exercises of lesson 12 (train your own segmenter).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from segedu.course.exercises._verdict import check_outcome_prediction, read_letters, right, wrong

__all__ = [
    "AUGMENTATIONS",
    "LEARNS_BELOW",
    "RATE_OUTCOMES",
    "TAMPER_OUTCOMES",
    "check_rate_prediction",
    "check_safe_augmentations",
    "check_tamper_prediction",
    "classify_rate_run",
]

# --- 2 · predict, then run: a constant learning rate of 0.3 -----------------------------------

RATE_OUTCOMES = ("blows up", "stalls", "learns")

LEARNS_BELOW = 0.95  # "learns": the last 5 losses average below this share of the start's on those batches

_RATE_MEANINGS = {
    "learns": (
        "'learns' means only that the training loss fell below what the starting network scores on the same "
        "batches. 0.3 is sixty times the three-minute recipe's peak (5e-3), and Adam's first step moves every "
        "weight by about the rate itself, yet nothing blew up. The reason is batch norm: 18 of this U-Net's 19 "
        "convolutions are followed by it, and it makes the output all but blind to the length of their weights. A "
        "huge step cannot blow the output up; it makes those weights longer instead (the folded control after "
        "this exercise trains the same network without batch norm at 0.3: its loss explodes). A large rate is not "
        "the same as too large a rate, here because of the architecture, not because of the number"
    ),
    "blows up": (
        "some loss jumped to more than 3 times the starting network's loss on its batch, and the last five "
        "still averaged above the start's: the steps overshot and the network did not find its way back"
    ),
    "stalls": "the run neither learned (its last five losses averaged 0.95 times the starting network's loss on "
              "the same batches or more) nor blew up (no loss above 3 times the start's on its batch with the last "
              "five still above the start's): the steps neither helped nor hurt much",
}


def classify_rate_run(losses: Sequence[float], start_losses: Sequence[float]) -> str:
    """Name what a short run did to its training loss: one of :data:`RATE_OUTCOMES`.

    Every batch has a difficulty of its own (one easy first batch can make a whole run look stalled),
    so each loss is compared with the loss of the *starting* network, before any update, on the same batch.

    Args:
        losses: The loss of every step, in order (at least 6 values).
        start_losses: The starting network's loss on the same batches, in the same order.

    Returns:
        ``"learns"`` if the mean of the last 5 losses is below :data:`LEARNS_BELOW` (0.95) times the
        starting network's mean on those 5 batches; otherwise ``"blows up"`` if some loss exceeded 3 times
        the starting network's on its batch and the mean of the last 5 is still above the start's (it
        jumped far up and stayed up); otherwise ``"stalls"``.
    """
    if len(losses) < 6:
        raise ValueError(f"pass the loss of at least 6 steps; got {len(losses)}")
    if len(start_losses) != len(losses):
        raise ValueError(f"pass the starting network's loss on the same {len(losses)} batches; "
                         f"got {len(start_losses)} values")
    run = [float(value) for value in losses]
    start = [float(value) for value in start_losses]
    last, start_last = sum(run[-5:]) / 5, sum(start[-5:]) / 5
    if last < LEARNS_BELOW * start_last:
        return "learns"
    if any(value > 3 * reference for value, reference in zip(run, start)) and last > start_last:
        return "blows up"
    return "stalls"


def check_rate_prediction(prediction: Any, outcome: str) -> bool:
    """Compare a recorded prediction with what a constant learning rate of 0.3 did to the loss.

    Args:
        prediction: The learner's guess, one of :data:`RATE_OUTCOMES`, recorded before the run.
        outcome: What happened, from :func:`classify_rate_run` (measured in the lesson).

    Returns:
        ``True`` if the prediction names the outcome.
    """
    return check_outcome_prediction(prediction, outcome, _RATE_MEANINGS, happened="the run")


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
    "a": "mirror image and mask left-right (the same flip for both)",
    "b": "warp image and mask with the same elastic draw (alpha 40, sigma 4), but resample the mask bilinearly and "
         "round it to whole classes",
    "c": "add random noise of standard deviation 0.02 to every pixel of the image, clipped to 0-1 (the mask untouched)",
    "d": "rotate image and mask by 180 degrees",
    "e": "multiply every pixel of the image by one random factor between 0.9 and 1.1 (clipped to 1)",
}
_SAFE = {"c", "e"}
_WHY = {
    "a": "the mask is mirrored with the image, so no label becomes wrong, but a mirrored 2, 3, 4, 5, 6, 7 "
         "or 9 is not a digit anyone writes: the scene is no longer plausible, and the network would spend its "
         "training on shapes no writer produces (flips suit shapes, cells or street scenes, not text)",
    "b": "the digits are warped plausibly, but the mask is not a picture: bilinear resampling blends neighbouring "
         "class indices, so where a 9's stroke (class 10) meets the background (0) the rounded mask holds classes "
         "1 to 9, digits that are not there, on pixels the loss counts. Section 2's control did exactly this and "
         "invented labels in the 100 scenes, while the paired transform (nearest neighbour) invented none: the "
         "labels become false",
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
        return right("a little noise and a small brightness change are what another pen or scanner produces: the "
                     "digits stay plausible and no pixel changes its class. A mirror keeps the labels but makes digits "
                     "no one writes (implausible scenes); a mask resampled bilinearly invents classes at the edges of "
                     "strokes, and a half-turn turns a 6 into a 9 under a mask that still says 6 (false labels). "
                     "Section 2's paired zoom and warp, with the mask resampled by nearest neighbour, keep the labels "
                     "true as well; whether they help is section 3's question.")
    misses = [f"{letter} is {'safe' if letter in _SAFE else 'not safe'}: {_WHY[letter]}"
              for letter in sorted(letters ^ _SAFE)]
    return wrong("; ".join(misses) + ".")
