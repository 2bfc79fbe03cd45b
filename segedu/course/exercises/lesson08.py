"""Checks for the exercises of lesson 08 (which skip FCN-8s needs).

Every check prints ``Correct! ...``, ``Recorded; the result differs: ...`` (a recorded prediction
that missed) or ``Not yet: <hint>``, and returns ``True`` or ``False``. The outcomes are measured
from the model or the stored study the lesson passes in, never typed in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from segedu.analysis.fcn_stages import skip_branches_off
from segedu.course.exercises._verdict import check_outcome_prediction, choice_hint, read_letters, recorded_miss, right, wrong
from segedu.models.fcn import FCN
from segedu.training.metrics import boundary_band

__all__ = [
    "ABLATION_STATEMENTS",
    "BAND_CHOICES",
    "COSTLIER_CHOICES",
    "STAGED_CHOICES",
    "check_ablation_statements",
    "check_staged_prediction",
    "check_switch_prediction",
    "switch_outcome",
]

COSTLIER_CHOICES = ("pool4", "pool3")
BAND_CHOICES = ("more than half", "less than half")
_SWITCHES = {"all on": (), "pool4 off": ("pool4",), "pool3 off": ("pool3",), "both off": ("pool4", "pool3")}


@torch.no_grad()
def switch_outcome(model: FCN, image: Tensor, mask: Tensor, band_width: int = 2) -> dict[str, float]:
    """The share of one scene's boundary-band pixels that FCN-8s labels right, with each skip switch setting.

    Args:
        model: A trained FCN-8s.
        image: ``(C, H, W)`` scene.
        mask: ``(H, W)`` integer labels.
        band_width: Half-width of the boundary band in pixels (lesson 07 uses 2).

    Returns:
        ``{"all on": ..., "pool4 off": ..., "pool3 off": ..., "both off": ...}``, each in [0, 1].
    """
    if image.dim() != 3 or mask.shape != image.shape[-2:]:
        raise ValueError(f"pass one scene: image (C, H, W) and mask (H, W); got {tuple(image.shape)} and "
                         f"{tuple(mask.shape)}")
    was_training = model.training
    model.eval()
    band = boundary_band(mask[None], band_width)[0]  # (H, W) bool
    accuracy = {}
    for label, off in _SWITCHES.items():
        with skip_branches_off(model, off):
            labels = model(image[None]).argmax(1)[0]  # (H, W)
        accuracy[label] = float((labels == mask)[band].float().mean())
    model.train(was_training)
    return accuracy


def check_switch_prediction(prediction: Any, model: FCN, image: Tensor, mask: Tensor) -> bool:
    """Check a prediction, recorded before running, of what switching FCN-8s's skips off does on one scene.

    The prediction passes once recorded: the check then measures the boundary band's accuracy with
    each switch setting and says which guesses the measurement bears out, and why.

    Args:
        prediction: ``{"costlier": "pool4" or "pool3", "both_off_band": "more than half" or "less than half"}``:
            which branch costs more band accuracy when switched off alone, and how much of the band is still
            right with both off.
        model: The trained FCN-8s the lesson uses.
        image: ``(C, H, W)`` scene.
        mask: ``(H, W)`` labels.

    Returns:
        ``True`` once both parts are recorded with allowed values.
    """
    if not isinstance(prediction, Mapping):
        return wrong('record your prediction as a dict: {"costlier": ..., "both_off_band": ...}; '
                     f"got {type(prediction).__name__}.")
    for key, choices in (("costlier", COSTLIER_CHOICES), ("both_off_band", BAND_CHOICES)):
        hint = choice_hint(prediction.get(key, ...), choices)
        if hint is not None:
            return wrong(f'"{key}": {hint}')
    accuracy = switch_outcome(model, image, mask)
    lost = {branch: accuracy["all on"] - accuracy[f"{branch} off"] for branch in COSTLIER_CHOICES}
    costlier = max(lost, key=lost.__getitem__)
    both_off = "more than half" if accuracy["both off"] > 0.5 else "less than half"
    print("band pixels right: " + ", ".join(f"{label} {value:.1%}" for label, value in accuracy.items()))
    explanation = (f"switching {costlier} off costs {lost[costlier]:.1%} of the band, the other branch "
                   f"{lost[COSTLIER_CHOICES[costlier == 'pool4']]:.1%}; with both off {accuracy['both off']:.1%} of "
                   "the band is still right. This model was trained with every branch in place, so its later layers "
                   "expect each branch's scores: switching one off measures how much the model leans on it. "
                   "Section 2 asks whether the same holds on all 200 test scenes.")
    if prediction["costlier"] == costlier and prediction["both_off_band"] == both_off:
        return right(explanation)
    return recorded_miss(explanation)


STAGED_CHOICES = ("pool4", "pool3", "it differs between seeds")
_STAGED_MEANINGS = {
    "pool4": "in every seed the staged FCN-8s loses more mean IoU without pool4 than without pool3, the reverse of "
             "the FCN-8s trained all at once",
    "pool3": "in every seed the staged FCN-8s loses more mean IoU without pool3, like the FCN-8s trained all at once",
    "it differs between seeds": "the seeds do not agree on which branch the staged FCN-8s leans on more",
}


def _staged_outcome(record: Mapping[str, Any]) -> str:
    runs = record["results"]["runs"]["staged"]
    more_on_pool4 = []
    for seed in record["seeds"]:
        readout = runs[str(seed)]["fcn8s_readout"]
        full = readout["all on"]["mean_iou"]
        more_on_pool4.append(full - readout["pool4 off"]["mean_iou"] > full - readout["pool3 off"]["mean_iou"])
    if all(more_on_pool4):
        return "pool4"
    if not any(more_on_pool4):
        return "pool3"
    return "it differs between seeds"


def check_staged_prediction(prediction: Any, record: Mapping[str, Any]) -> bool:
    """Check a prediction of which branch the FCN-8s trained in stages depends on more, read from the stored study.

    Args:
        prediction: One of :data:`STAGED_CHOICES`.
        record: The ``fcn_staged_study`` record (``load_experiment("fcn_staged_study")``).

    Returns:
        ``True`` once a prediction among the choices is recorded.
    """
    return check_outcome_prediction(prediction, _staged_outcome(record), _STAGED_MEANINGS,
                                    happened="in the stored study, the answer is")


ABLATION_STATEMENTS = {
    "a": "switching a branch off in a trained model measures how much that model's output depends on the branch, "
         "not what the branch's features could carry on their own",
    "b": "the shipped FCN-8s loses far more without pool3 than without pool4, so pool3's features hold more "
         "information about the shapes than pool4's",
    "c": "the same architecture, trained another way, can depend on a different branch",
    "d": "the staged study shows that training FCN-8s in stages is worse than training it all at once",
    "e": "zeroing a branch and replacing it by its mean output remove the same thing, so they must give the same score",
}
_ABLATION_TRUE = frozenset({"a", "c"})
_ABLATION_REASONS = {
    "a": "the rest of the network was trained with the branch in place, so removing it breaks what the other "
         "layers learned to expect; it does not ask what a model built around that branch alone could do",
    "b": "dependence is not information: the staged FCN-8s, the same architecture on the same scenes, loses more "
         "without pool4; what the shipped model leans on says how it was trained, not what pool3 holds",
    "c": "the staged study's FCN-8s leans on pool4 in every seed, the one trained all at once on pool3",
    "d": "it shows only that on this budget, from scratch and with these rates, the staged model ends lower; the "
         "paper staged the fine-tuning of a pretrained VGG-16 with other rates, which the study does not repeat",
    "e": "zeros also remove the branch's per-class offset, its mean keeps it: the scores differ (section 2), and "
         "with pool3 at its mean every pixel is called background",
}
_ABLATION_QUESTIONS = {
    "a": "was the rest of the network trained with the branch in place or without it?",
    "b": "what did the staged FCN-8s, the same architecture, lean on?",
    "c": "compare section 3's two arms: which branch costs each of them more?",
    "d": "what did the study hold fixed that the paper did differently (budget, rates, a pretrained encoder)?",
    "e": "what does a branch's mean output keep that zeros remove? Compare the two columns of section 2's table.",
}


def check_ablation_statements(prediction: Any) -> bool:
    """Check which statements of :data:`ABLATION_STATEMENTS` the lesson's outputs support.

    A miss says how many of the five letters are wrong (a true one left out or a false one marked),
    never which, and asks one question about each; a right answer explains every statement.

    Args:
        prediction: The letters of the true statements, as a set, list or string; ``...`` means not recorded.

    Returns:
        Whether the letters are exactly the true statements.
    """
    if prediction is ... or prediction is None:
        return wrong("record your answer first: replace the `...` with the set of letters of the true statements, "
                     "e.g. {'a', 'b'} (or set() for none).")
    letters, hint = read_letters(prediction, ABLATION_STATEMENTS, "are not among the statements")
    if hint is not None:
        return wrong(hint)
    misses = len(letters ^ _ABLATION_TRUE)
    if misses:
        questions = " ".join(f"{letter}: {question}" for letter, question in _ABLATION_QUESTIONS.items())
        return wrong(f"{misses} of the 5 letters {'is' if misses == 1 else 'are'} wrong (a true statement left out "
                     f"or a false one marked). Settle each from the lesson's outputs. {questions}")
    return right(" ".join(f"{letter} is {'true' if letter in _ABLATION_TRUE else 'false'}: {reason}."
                          for letter, reason in _ABLATION_REASONS.items()))
