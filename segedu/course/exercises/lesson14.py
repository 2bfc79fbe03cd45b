"""Checks for the exercises of lesson 14 (augmentation and overfitting).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``. The two
letter-set checks do not give the key away: while two or more letters are judged wrongly they say only
how many, with the principle to apply; once a single letter is off, they name it and say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from segedu.course.exercises._verdict import (
    check_outcome_prediction,
    choice_hint,
    read_letters,
    right,
    wrong,
)
from segedu.course.experiments import paired_t_interval  # re-exported: the lesson compares its own with it
from segedu.course.verdict_tables import two_test_verdict

__all__ = [
    "AUGMENTATIONS",
    "EXPLANATIONS",
    "GAP_OUTCOMES",
    "arm_settings",
    "check_apply_field",
    "check_gap_prediction",
    "check_ruled_out_explanations",
    "check_safe_augmentations",
    "classify_gap_narrowing",
    "field_test_case",
    "final_scores",
    "learning_curves",
    "paired_t_interval",
    "record_line",
    "run_cpu_seconds",
    "sweep_scores",
]


def _letter_feedback(letters: set[str], key: set[str], total: int, principle: str, why: dict[str, str],
                     judged: tuple[str, str]) -> bool:
    """``Not yet``: how many letters are judged wrongly and the principle; the letter and why once only one is off."""
    misjudged = sorted(letters ^ key)
    if len(misjudged) > 1:
        return wrong(f"{len(misjudged)} of the {total} letters are judged wrongly (chosen but should not be, or left "
                     f"out but should be). {principle} Once only one letter is off, the check names it and says why.")
    letter = misjudged[0]
    return wrong(f"{letter} is {judged[0] if letter in key else judged[1]}: {why[letter]}.")


# --- 1 · which augmentations keep a digit scene plausible and correctly labelled ----------------

AUGMENTATIONS = {
    "a": "mirror image and mask left-right (the same flip for both)",
    "b": "rotate image and mask by the same 10 degrees (the mask resampled by nearest neighbour, the corners "
         "filled with 0 in the image and 255 in the mask)",
    "c": "add random noise of standard deviation 0.02 to every pixel of the image, clipped to 0-1 (the mask untouched)",
    "d": "rotate image and mask by 180 degrees",
    "e": "multiply every pixel of the image by one random factor between 0.9 and 1.1 (clipped to 1)",
    "f": "zoom image and mask by the same random factor between 0.8 and 1.2 (the mask resampled by nearest neighbour), "
         "then crop back to 64 x 64 (padding 0 in the image, 255 in the mask; a zoom in can cut a digit at the border)",
}
_SAFE = {"b", "c", "e", "f"}
_SAFE_PRINCIPLE = ("Take each item in turn and ask two things: could a person have written every digit, and is it still "
                   "the same digit? Does any pixel the loss counts change class, other than where a class boundary moves "
                   "by at most one pixel? A pixel changes class when it shows another class than its label says, "
                   "whether the label moved or a whole digit became another digit; a digit cut at the picture's edge "
                   "keeps its label, since its visible pixels are still part of that digit.")
_WHY = {
    "a": "the mask is mirrored with the image, so no label becomes wrong, but a mirrored 2, 3, 4, 5, 6, 7 "
         "or 9 is not a digit anyone writes: the scene is no longer plausible, and the network would spend its "
         "training on shapes no writer produces (flips suit shapes, cells or street scenes, not text)",
    "b": "a digit written 10 degrees slanted is still that digit (people slant their writing more than that), "
         "and the mask turns with the image, resampled by nearest neighbour: pixels inside strokes and background "
         "keep their labels, and a pixel changes class only where a class boundary moves by at most one pixel (any "
         "resampling does this); the corners brought in are marked 255 and skipped by the loss. Unlike a half-turn (d), a small rotation changes no digit into another. The "
         "question is about the labels and whether the digits stay plausible; what fills the corners is a separate "
         "choice: black (0) corners are darker than the scenes' grey backgrounds (0 to 0.3), a difference the "
         "network could learn from, which a background grey would avoid",
    "c": "the generator already adds pixel noise (standard deviation up to 0.05) to every scene, and draws "
         "stroke cores at a grey level of 0.7 to 1.0 on backgrounds of 0 to 0.3; a little more noise changes no "
         "pixel's class and leaves every stroke far brighter than its background, and the mask is untouched",
    "d": "the mask turns with the image, yet a 6 turned by 180 degrees reads as a 9 (and a 9 as a 6) while its "
         "mask still says 6: those pixels now show another class than their label, so the label becomes false",
    "e": "a brightness change is what another pen or scanner produces: no pixel changes its class and the mask "
         "is not touched. The generator draws backgrounds at a grey level from 0 to 0.3 and stroke cores at a "
         "level from 0.7 to 1.0, then adds pixel noise (standard deviation up to 0.05); a factor of 0.9 to 1.1 puts "
         "backgrounds at up to 0.33 and stroke cores at 0.63 or more, still far apart; clipping at 1 only flattens "
         "the brightest stroke pixels, which stay far brighter than the background, so the strokes keep their shape",
    "f": "a digit 0.8 to 1.2 times its size is one a person could have written (people write larger and smaller "
         "than that), and it stays the same digit; a digit the crop cuts at the border is still part of a written "
         "digit, as in any crop of a page, and its visible pixels keep their label; the mask is zoomed with the image by the same factor, resampled "
         "by nearest neighbour on the image's pixel grid, so pixels inside strokes and background keep their labels "
         "and a pixel changes class only where a class boundary moves by at most one pixel; the padding a zoom out "
         "brings in is marked 255 and skipped by the loss",
}


def check_safe_augmentations(answer: Any) -> bool:
    """Check the letters of :data:`AUGMENTATIONS` that keep every scene a plausible, correctly labelled digit scene.

    Args:
        answer: A set (or list, or string such as ``"ab"``) of letters.

    Returns:
        ``True`` for exactly the augmentations that keep scenes plausible and their labels correct. A wrong
        answer with two or more letters misjudged gets their count and the principle; one with a single
        letter misjudged gets that letter and why.
    """
    if answer is ... or answer is None:
        return wrong("record your answer first: replace the `...` with a set of letters, e.g. {'a', 'b'}.")
    letters, hint = read_letters(answer, AUGMENTATIONS, "are not among the augmentations")
    if hint is not None:
        return wrong(hint)
    if letters == _SAFE:
        return right("a zoom of 0.8 to 1.2, a small rotation, a little noise and a small brightness change are what "
                     "another hand, pen or scanner produces: the digits stay plausible and no counted pixel changes "
                     "class, except where the zoom or the rotation resamples and a class boundary moves by at most one "
                     "pixel. A mirror keeps the "
                     "labels but makes digits no one writes (implausible scenes), and a half-turn turns a 6 into a 9 "
                     "under a mask that still says 6 (false labels). Item b's black corners are a separate choice "
                     "from the rotation (a background grey would match the scenes better): the question asks only "
                     "about labels and plausible digits; a digit the zoom's crop cuts at the border still counts, as "
                     "in any crop of a page. Safe is not free: such a chain still changes how the images look (softer "
                     "edges, black padding, cut digits); what it does to the scores, sections 2 and 3 measure.")
    return _letter_feedback(letters, _SAFE, len(AUGMENTATIONS), _SAFE_PRINCIPLE, _WHY, ("safe", "not safe"))


# --- 1b · apply the warp's displacement field with grid_sample --------------------------------------

def field_test_case(seed: int = 0) -> dict[str, torch.Tensor]:
    """A fixed scene, a field of the study's warp, and segedu's warp of both (the reference), by seed.

    The scene is validation scene 30 (section 1's figures); the field is one draw of the warp that ends
    section 2's chain, ``training_transforms(..., elastic=(40.0, 4.0))``; the global random state is left as it was.

    Returns:
        ``image`` (1, 64, 64), ``mask`` (64, 64), ``field`` (1, 64, 64, 2) in grid units (x, then y), and
        segedu's warp of them: ``warped_image`` (1, 64, 64) and ``warped_mask`` (64, 64).
    """
    from torchvision import tv_tensors

    from segedu.datasets import DigitScenes
    from segedu.datasets.transforms import training_transforms

    image, mask = DigitScenes("val", length=100)[30]
    warp = training_transforms(64, scale=(0.8, 1.2), flip=False, elastic=(40.0, 4.0)).transform.transforms[-1]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        field = warp.make_params([tv_tensors.Image(image)])["displacement"]  # (1, 64, 64, 2)
    params = {"displacement": field}
    warped_image = warp.transform(tv_tensors.Image(image), params).as_subclass(torch.Tensor)
    warped_mask = warp.transform(tv_tensors.Mask(mask), params).as_subclass(torch.Tensor)
    return {"image": image, "mask": mask, "field": field, "warped_image": warped_image, "warped_mask": warped_mask}


def _sample(picture: torch.Tensor, field: torch.Tensor, mode: str) -> torch.Tensor:
    """``picture`` (C, H, W) read at each pixel's centre plus ``field`` (1, H, W, 2), by ``grid_sample`` (0 outside)."""
    height, width = picture.shape[-2:]
    identity = F.affine_grid(torch.eye(2, 3)[None], (1, 1, height, width), align_corners=False)  # (1, H, W, 2)
    return F.grid_sample(picture[None].float(), identity + field, mode=mode, align_corners=False)[0]


def _pulled_in(field: torch.Tensor, height: int = 64, width: int = 64) -> torch.Tensor:
    """(H, W) bool: the pixels whose nearest read lies outside the image (segedu marks them 255 in the mask)."""
    return _sample(torch.ones(1, height, width), field, "nearest")[0] < 0.5


def _read_inside(field: torch.Tensor, height: int = 64, width: int = 64) -> torch.Tensor:
    """(H, W) bool: the pixels whose bilinear read lies wholly inside the image (all four neighbours in it).

    Only there is the image compared: where a read falls partly outside, ``grid_sample`` already counts the
    outside as 0, and torchvision's warp (segedu's) then multiplies the result once more by the share read from
    inside, a detail of its implementation that the exercise does not ask for.
    """
    identity = F.affine_grid(torch.eye(2, 3)[None], (1, 1, height, width), align_corners=False)  # (1, H, W, 2)
    read = (identity + field)[0]  # (H, W, 2): x, then y, in grid units
    column = ((read[..., 0] + 1) * width - 1) / 2  # pixels: 0 is the first pixel's centre (align_corners=False)
    row = ((read[..., 1] + 1) * height - 1) / 2
    return (column >= 0) & (column <= width - 1) & (row >= 0) & (row <= height - 1)


def check_apply_field(my_apply_field: Any, seed: int = 0) -> bool:
    """Check a function that warps an image and its mask by one displacement field, against segedu's warp.

    Args:
        my_apply_field: ``(image (1, H, W), mask (H, W), field (1, H, W, 2)) -> (image, mask)``; the field
            in ``grid_sample``'s units (x, then y; -1 to 1 across the image).
        seed: Which field of the study's warp to test on (:func:`field_test_case`).

    Returns:
        ``True`` if the image equals segedu's warp within 1e-5 on every pixel whose bilinear read lies wholly
        inside the image (near the border torchvision's warp darkens the image a second time, which the
        exercise does not ask for), and the mask equals it exactly on all 64 x 64 pixels, the pixels pulled in
        from outside marked 255. Known mistakes (pulled-in pixels labelled 0, a bilinear mask, a nearest image,
        x and y swapped, a mask left unwarped) get their own feedback.
    """
    if not callable(my_apply_field):
        return wrong("pass your function itself, my_apply_field, not its result.")
    case = field_test_case(seed)
    image, mask, field = case["image"], case["mask"], case["field"]
    try:
        result = my_apply_field(image.clone(), mask.clone(), field.clone())
    except Exception as error:  # noqa: BLE001 - the learner's code may raise anything; say what
        return wrong(f"my_apply_field raised {type(error).__name__}: {error}")
    if result is None:
        return wrong("my_apply_field returns nothing yet: write its body, returning (new_image, new_mask).")
    if not isinstance(result, (tuple, list)) or len(result) != 2 or not all(isinstance(part, torch.Tensor)
                                                                           for part in result):
        return wrong("return two tensors, (new_image, new_mask).")
    new_image, new_mask = result
    if tuple(new_image.shape) != tuple(image.shape) or tuple(new_mask.shape) != tuple(mask.shape):
        return wrong(f"return the image as (1, 64, 64) and the mask as (64, 64), as they came in; got "
                     f"{tuple(new_image.shape)} and {tuple(new_mask.shape)}.")
    new_image, new_mask = new_image.detach().float(), new_mask.detach()
    reference_image, reference_mask = case["warped_image"], case["warped_mask"]
    outside = _pulled_in(field)  # (64, 64)
    inside = ~outside
    compared = _read_inside(field)  # (64, 64): the image is compared where its read stays inside the image

    def same_image(candidate: torch.Tensor) -> bool:
        return torch.allclose(new_image[:, compared], candidate[:, compared], atol=1e-5, rtol=0)

    image_right = same_image(reference_image)
    fractional = bool((new_mask.float() != new_mask.float().round()).any())
    labels_right = not fractional and torch.equal(new_mask.long()[inside], reference_mask[inside])
    mask_right = labels_right and torch.equal(new_mask.long(), reference_mask)
    if image_right and mask_right:
        return right(f"your warp equals segedu's: the image within 1e-5 on the {int(compared.sum()):,} pixels whose "
                     f"read stays inside the image, the mask exactly on all {mask.numel():,}. One field moves both, "
                     "so every label stays on its pixel; the image is read bilinearly "
                     "(grey levels may blend) and the mask by nearest neighbour (each pixel copies one existing "
                     f"label). The {int(outside.sum())} pixels pulled in from outside carry 255 (ignored) in the "
                     "mask: a 0 there would call them background, a label no scene gave them.")
    swapped = field.flip(-1)  # the field read as (y, x)
    if not image_right and same_image(_sample(image, swapped, "bilinear")):
        return wrong("the image moved along the wrong axes: grid_sample reads the last dimension of the grid as (x, "
                     "y), x the column and y the row, and the field is stored in that order, like the identity grid. "
                     "Add the field as it is, without swapping or transposing it.")
    if not image_right and same_image(_sample(image, field, "nearest")):
        return wrong("the image was read by nearest neighbour: for the image use mode='bilinear', which blends the "
                     "four neighbouring grey levels as torchvision's warp does; nearest is for the mask only.")
    if not image_right:
        largest = float((new_image - reference_image)[:, compared].abs().max())
        return wrong(f"the image differs from segedu's warp by up to {largest:.3f} on pixels whose read stays inside "
                     "the image. Read it at each pixel's own position plus the field (identity + field), with "
                     "mode='bilinear' and align_corners=False.")
    blended = _sample(mask[None], field, "bilinear")[0]  # (64, 64): the mask warped as a picture
    if fractional or any(torch.equal(new_mask.long()[inside], rounded(blended).long()[inside])
                         for rounded in (torch.round, torch.trunc)):
        invented = set(new_mask[inside].round().long().unique().tolist()) - set(mask.unique().tolist())
        blend = "fractions between class indices" if fractional else f"{len(invented)} labels the scene does not hold"
        return wrong(f"the image is right, but the mask was read bilinearly: where a stroke meets the background it "
                     f"blends class indices into values no pixel had ({blend}). A mask holds class indices, not grey "
                     "levels: read it with mode='nearest', so each pixel copies one existing label.")
    if labels_right:
        given = sorted(set(new_mask.long()[outside].unique().tolist()))
        return wrong(f"the image and the labels inside are right, but the {int(outside.sum())} mask pixels pulled in "
                     f"from outside carry {given}, not 255. grid_sample reads 0 there, which calls them background: a "
                     "false label on pixels no scene labelled. Read a picture of ones with mode='nearest' at the same "
                     "positions, and set the mask to 255 where it reads 0.")
    if torch.equal(new_mask.long()[inside], mask.long()[inside]):
        return wrong("the image is right, but the mask was left where it was: the labels no longer lie on the strokes "
                     "they name. Warp the mask by the same field as the image.")
    wrong_pixels = int((new_mask.long()[inside] != reference_mask[inside]).sum())
    return wrong(f"the image is right, but {wrong_pixels} mask pixels read from inside the image differ from segedu's "
                 "warp. Read the mask at the same positions as the image (identity + field), with mode='nearest' and "
                 "align_corners=False, and return it as whole-number labels.")


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
        By the course's two-test rule (:func:`~segedu.course.verdict_tables.two_test_verdict`: the 95%
        t-interval leaves out 0 and the exact sign-flip p is at most 0.05) on the paired differences (augmented
        minus plain): ``"by lowering training"`` if it places the training differences below 0,
        ``"by raising validation"`` if it places the validation differences above 0, ``"both"`` if both hold,
        ``"neither"`` if neither does.
    """
    if not len(plain_train) == len(augmented_train) == len(plain_val) == len(augmented_val):
        raise ValueError("pass one score per seed for every arm and split")
    train_change = [after - before for before, after in zip(plain_train, augmented_train)]
    val_change = [after - before for before, after in zip(plain_val, augmented_val)]
    lowered = two_test_verdict(train_change, ("higher", "lower")) == "lower"
    raised = two_test_verdict(val_change, ("higher", "lower")) == "higher"
    if lowered and raised:
        return "both"
    if lowered:
        return "by lowering training"
    if raised:
        return "by raising validation"
    return "neither"


_GAP_MEANINGS = {
    "by lowering training": (
        "by the two-test rule the augmented version's final training score is lower than plain's, while the "
        "validation change is not distinguishable: the gap "
        "narrowed from the training side only, and a smaller gap is not by itself a better model"
    ),
    "by raising validation": (
        "by the two-test rule the validation score rose while the fall of the training score is not "
        "distinguishable: the augmented scenes taught the network something about unseen scenes "
        "without costing it its own"
    ),
    "both": (
        "the training score fell and the validation score rose, both by the two-test rule (each 95% t-interval "
        "leaves out 0 and each sign-flip p is at most 0.05): "
        "the gap narrowed from both sides, and on validation augmentation paid. Without augmentation the network "
        "learns its 32 scenes almost by heart; with it, it scores lower on them and carries more over to new scenes. "
        "Why the training score falls is not measured here: that is exercise 3's question"
    ),
    "neither": "by the two-test rule neither the training change nor the validation change is distinguishable "
               "from 0",
}

_Interval = tuple[float, float, float]  # mean of the paired differences, and its 95% t-interval


def _measured(train: _Interval | None, val: _Interval | None) -> str:
    """The measured paired differences, quoted after the verdict (empty if not given)."""
    if train is None or val is None:
        return ""
    return (f". Measured, augmented minus plain per seed: final training {train[0]:+.3f} (95% t-interval "
            f"{train[1]:+.3f} to {train[2]:+.3f}), final validation {val[0]:+.3f} ({val[1]:+.3f} to {val[2]:+.3f})")


def check_gap_prediction(prediction: Any, outcome: str | None = None, *, train: _Interval | None = None,
                         val: _Interval | None = None) -> bool:
    """Record a prediction of what augmentation does to the final scores; with ``outcome``, compare it.

    The lesson calls it twice: first without ``outcome``, before anything is measured (so nothing the
    learner can print before answering holds the result), then with the outcome it measured after that.

    Args:
        prediction: The learner's guess, one of :data:`GAP_OUTCOMES`, recorded before the figure.
        outcome: What happened, from :func:`classify_gap_narrowing` (measured in the lesson), or ``None``
            to only check that a prediction is recorded.
        train, val: The measured paired differences (augmented minus plain), each as (mean, low, high) of
            its 95% t-interval, quoted in the feedback.

    Returns:
        ``True`` once a prediction is recorded, whether it names the outcome or not.
    """
    meanings = {name: meaning + _measured(train, val) for name, meaning in _GAP_MEANINGS.items()}
    return _record_then_compare(prediction, outcome, meanings, measuring="what happened",
                                happened="at the one learning rate tested (0.003, chosen without augmentation), "
                                         "the measured outcome is")


# --- 3 · which explanations of the fall the outputs printed before the controls rule out -------

EXPLANATIONS = {
    "a": "the chain invents classes on the training masks (label values a scene does not hold), so the augmented "
         "network learns from false labels and fits its scenes less well",
    "b": "augmentation makes a weaker segmenter overall (the zoomed and warped scenes are a harder task for a width-8 "
         "U-Net), so it scores lower on every kind of scene, seen or new",
    "c": "the chain smooths the scenes' pixel noise, so the augmented network, trained on smoother images, fits the "
         "noisier training scenes it is scored on less well",
    "d": "the network sees a new variant of each scene at every pass (fresh variety), so it cannot learn any one "
         "image by heart and fits all of them more loosely (augmentation as a regulariser)",
    "e": "the augmented network learns its scenes more slowly and has not caught up by step 1,500",
    "f": "the processed images differ from the originals (softer stroke edges, black padding after a zoom out, digits "
         "resized or cut at the border), so the augmented network, trained only on processed images, fits the "
         "untransformed scenes it is scored on less well",
}
_RULED_OUT = {"a", "b"}
_RULED_OUT_PRINCIPLE = ("An explanation is ruled out only if something printed in sections 1 or 2 contradicts it; one "
                        "that nothing printed so far measures stays open, however likely it sounds.")
_EVIDENCE = {
    "a": "the cell just after exercise 1b ran the study's own chain 160 times on its 32 training scenes and it "
         "invented no label (nearest "
         "neighbour only copies labels that are there): the augmented network never trains on a class its scene does "
         "not hold, so false labels of this kind cannot cause the fall",
    "b": "section 2 printed that the augmented version's final validation score is higher than plain's, its "
         "seed-by-seed 95% t-interval above 0 (exercise 2's outcome): a network weaker on every kind of scene would "
         "also score lower on the new scenes, so the fall on the training scenes is not a general loss of skill",
    "c": "the chain resamples every scene (section 1: zoom and warp), but nothing printed before this exercise "
         "measures the noise or what losing it does to the training score, so nothing rules it out. After this "
         "exercise, section 3 reads a stored control that puts pixel noise back after the chain: if losing the "
         "noise caused the fall, putting the noise back should bring the training score back to plain's",
    "d": "it is the usual account (augmentation regularises), and section 1 printed its premise: the chain never "
         "gives a scene back unchanged. But nothing printed measures how closely either network fits what it "
         "trained on, so nothing rules it out, and nothing here confirms it either: it stays open",
    "e": "section 2 stops at 1,500 steps, and a learning curve that ends there cannot tell a slower climb from a "
         "lower ceiling, so nothing printed before this exercise rules it out. After this exercise, section 3 reads "
         "stored runs of both versions on to 4,000 steps (three seeds): they show whether the training gap closes "
         "and whether the augmented network is still climbing, a description rather than a test",
    "f": "section 1's figure shows these changes (a padded zoom out, bent strokes), but nothing printed before this "
         "exercise measures what training only on processed images costs on untransformed scenes. The validation rise "
         "does not rule it out either: such a cost could fall on every untransformed scene while the variety gains "
         "more than that on new ones. After this exercise, section 3 reads a stored control with processed images but "
         "without fresh variety: a network trained on one fixed processed copy of each scene. It is scored only on "
         "the original scenes and on validation, never on the copies it trained on, so it cannot separate d from f "
         "either",
}


def check_ruled_out_explanations(answer: Any) -> bool:
    """Check the letters of :data:`EXPLANATIONS` that the outputs printed before the exercise rule out.

    Args:
        answer: A set (or list, or string such as ``"ab"``) of letters; an empty set says none is ruled out.

    Returns:
        ``True`` for exactly the explanations that sections 1 and 2 rule out (the controls come after it).
        Wrong answers get feedback as in :func:`check_safe_augmentations`.
    """
    if answer is ... or answer is None:
        return wrong("record your answer first: replace the `...` with a set of letters, or set() if none.")
    letters, hint = read_letters(answer, EXPLANATIONS, "are not among the explanations")
    if hint is not None:
        return wrong(hint)
    if letters == _RULED_OUT:
        return right(f"a is ruled out: {_EVIDENCE['a']}; b is ruled out: {_EVIDENCE['b']}. c, d, e and f are not: "
                     f"c, {_EVIDENCE['c']}; d, {_EVIDENCE['d']}; e, {_EVIDENCE['e']}; f, {_EVIDENCE['f']}.")
    return _letter_feedback(letters, _RULED_OUT, len(EXPLANATIONS), _RULED_OUT_PRINCIPLE, _EVIDENCE,
                            ("ruled out", "not ruled out"))


def _record_then_compare(
    prediction: Any, outcome: str | None, meanings: dict[str, str], *, measuring: str, happened: str
) -> bool:
    """Record a prediction before the experiment (``outcome`` None), or compare it with the measured outcome."""
    if outcome is None:
        hint = choice_hint(prediction, meanings)
        if hint is not None:
            return wrong(hint)
        print(f"Recorded: {prediction!r}. The cells below measure {measuring} and compare it with your prediction.")
        return True
    return check_outcome_prediction(prediction, outcome, meanings, happened=happened)


# --- reading the stored records (the lesson's cells show the experiment, these the JSON) --------

def record_line(record: dict[str, Any]) -> str:
    """The command that remakes a stored record, then its machine and date in parentheses, on two lines."""
    return f"{record['results']['reproduce']}\n({record['ran_on']}, {record['date']})"


def arm_settings(record: dict[str, Any]) -> dict[str, Any]:
    """A record's training settings (``settings["augmentation"]``) without the transforms of arms it did not run.

    The records keep a ``<arm>_transform`` entry for every arm the study script knows; the arms a record ran
    are its ``arms`` entry, or ``plain`` and ``augmented`` when it has none.
    """
    settings = record["settings"]["augmentation"]
    arms = set(settings.get("arms", ("plain", "augmented")))
    return {key: value for key, value in settings.items()
            if not (key.endswith("_transform") and key.removesuffix("_transform") not in arms)}


def learning_curves(record: dict[str, Any], arm: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """One arm's scores on one split, every seed of the record.

    Args:
        record: A stored augmentation record (``load_experiment("augmentation_study...")``).
        arm: ``"plain"``, ``"augmented"`` or the record's own arm (e.g. ``"fixed_copy"``).
        split: ``"train"`` or ``"val"``.

    Returns:
        The scoring steps, shape ``(points,)``, and the scores, shape ``(seeds, points)``, one row per seed
        in the order of ``record["seeds"]``.
    """
    runs = record["results"]["augmentation"]
    seeds = record["seeds"]
    steps = np.array(runs[str(seeds[0])][arm]["steps"])
    if any(runs[str(seed)][arm]["steps"] != runs[str(seeds[0])][arm]["steps"] for seed in seeds):
        raise ValueError(f"the seeds of arm {arm!r} were scored at different steps")
    return steps, np.array([runs[str(seed)][arm][split] for seed in seeds], dtype=float)


def final_scores(record: dict[str, Any], arm: str, split: str, *, until_step: int | None = None,
                 last: int = 3) -> np.ndarray:
    """Each seed's final score: the mean of its last ``last`` scorings up to ``until_step`` (default: the end).

    Returns:
        Shape ``(seeds,)``, in the order of ``record["seeds"]``.
    """
    steps, scores = learning_curves(record, arm, split)
    if until_step is None:
        end = len(steps)
    elif until_step in steps:
        end = int(np.flatnonzero(steps == until_step)[0]) + 1
    else:
        raise ValueError(f"step {until_step} was not scored; scored steps: {steps.tolist()}")
    if not 1 <= last <= end:
        raise ValueError(f"last must be 1 to {end}; got {last}")
    return scores[:, end - last:end].mean(axis=1)


def sweep_scores(record: dict[str, Any]) -> dict[float, float]:
    """The learning-rate sweep: each rate's validation score after the sweep's last step, the mean of the seeds."""
    sweep = record["results"]["learning_rate"]
    return {rate: float(np.mean([sweep[str(seed)][f"{rate:g}"]["val"][-1] for seed in record["seeds"]]))
            for rate in record["settings"]["learning_rate"]["learning_rates"]}


def run_cpu_seconds(record: dict[str, Any], prefix: str = "augmentation") -> list[float]:
    """The CPU seconds of the record's runs whose name starts with ``prefix`` (the sweep's runs start otherwise)."""
    return [seconds for name, seconds in record["results"]["cpu_seconds_per_run"].items() if name.startswith(prefix)]
