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
    outcome = _staged_outcome(record)
    passed = check_outcome_prediction(prediction, outcome, _STAGED_MEANINGS, happened="in the stored study, the answer is")
    if passed:
        print(_staged_why(record))
    return passed


def _staged_why(record: Mapping[str, Any]) -> str:
    """Why the two arms can lean on different branches: what each branch's score layer trained on, from the record."""
    stages = record["results"]["runs"]["staged"][str(record["seeds"][0])]["stages"]
    steps = {name: stage["steps"] for name, stage in stages.items()}
    rates = {name: stage["lr"] for name, stage in stages.items()}
    lr, total = record["settings"]["lr"], record["settings"]["steps"]
    return ("Why the arms can differ: a switch measures what the rest of a trained network learned to expect from a "
            f"branch. In stages, conv7's path trained alone for {steps['fcn32s']:,} steps at {lr:g}; pool4's score "
            f"layer then trained {steps['fcn16s'] + steps['fcn8s']:,} steps at {rates['fcn16s']:g} and pool3's only the last {steps['fcn8s']:,} at {rates['fcn8s']:g}, joining a "
            f"model that already worked without it. All at once, every branch trained all {total:,} steps at {lr:g} "
            "from the first step, and the network was free to route the map through any of them. Section 4 says "
            "which of these differences the study can and cannot separate.")


ABLATION_STATEMENTS = {
    "a": "with both skips switched off, the shipped FCN-8s is in effect an FCN-32s trained with the same recipe, "
         "so it should score close to the shipped FCN-32s",
    "b": "the shipped FCN-8s loses far more without pool3 than without pool4, so pool3's features hold more "
         "information about the shapes than pool4's",
    "c": "in the FCN paper's TPAMI version, FCN-8s is trained all at once with pool3's features multiplied by "
         "0.0001 before score_pool3: for the same features and the same upstream gradient, the gradient reaching "
         "score_pool3's weights is then 10,000 times smaller, and so is the weight term W x of the branch's output "
         "for the same weights",
    "d": "in the staged study, switching pool4 off the final FCN-8s costs about what the FCN-16s stage gained when "
         "pool4 was added (within 0.05 mean IoU in every seed)",
    "e": "to tell whether the stages themselves or the short training of pool3's score layer flip the dependence, "
         "rerunning the staged study with more seeds would do",
}
_ABLATION_REASONS = {
    "a": "the switched model's later layers and its conv7 path were trained with both branches in place, and "
         "nothing asked conv7's scores to be a map on their own (section 3 finds them nearly constant); "
         "an FCN-32s trained alone had to make that path a map. Section 2 prints 0.020 with both off against "
         "the FCN-32s's 0.528",
    "b": "dependence is not information: the staged FCN-8s, the same architecture on the same scenes, loses more "
         "without pool4; what a trained model leans on says how it was trained, not what pool3 holds",
    "c": "a 1 x 1 convolution's weight gradient is the upstream gradient times its input, and the weight term of "
         "its output is the weights times its input: scaling the input by 0.0001 scales both by 0.0001. Its bias "
         "is not scaled: the output is W (0.0001 x) + b, and the bias's gradient (the upstream gradient summed "
         "over positions) multiplies no input, so the branch can still add a per-class constant at full speed; "
         "what it loses at first is its spatial detail, which the coarse path must then carry, a little as in "
         "the first stage of staged training (whether such a model ends up leaning on pool4 was not measured "
         "here; with Adam, whose steps do not grow with the gradient's size, the slowdown of the weights would "
         "differ from the paper's SGD)",
    "e": "more seeds narrow the spread but every seed changes the stages, the rates and pool3's training time "
         "together; a control must change one of them, e.g. all at once with score_pool3 held at zero for the "
         "first 3,000 steps and then trained 1,000 steps at a tenth of the rate (untested here)",
}
_ABLATION_QUESTIONS = {
    "a": "what were the switched model's later layers trained to expect, and what was an FCN-32s's conv7 path "
         "trained to do? Compare section 2's both-off row with the shipped FCN-32s.",
    "b": "which model would tell 'depends on' apart from 'carries information'? Section 4 has one.",
    "c": "write a 1 x 1 convolution's output as W x + b and its weight gradient as a product (lesson 07, "
         "exercise 3): where does the 0.0001 enter each term, and where does it not?",
    "d": "find both numbers for each seed in section 4's outputs: the FCN-16s stage's gain, and the mean IoU lost "
         "with pool4 off. What had each of the two models been trained with?",
    "e": "which things differ between the two arms, and does running more seeds change any of them?",
}


def _cost_matches_gain(record: Mapping[str, Any]) -> tuple[bool, str]:
    """Statement d, read from the staged study: does pool4's switch cost match the FCN-16s stage's gain per seed?"""
    runs = record["results"]["runs"]["staged"]
    pairs = []
    for seed in record["seeds"]:
        run = runs[str(seed)]
        gain = run["stages"]["fcn16s"]["test"]["mean_iou"] - run["stages"]["fcn32s"]["test"]["mean_iou"]
        readout = run["fcn8s_readout"]
        pairs.append((gain, readout["all on"]["mean_iou"] - readout["pool4 off"]["mean_iou"]))
    holds = all(abs(gain - cost) <= 0.05 for gain, cost in pairs)
    numbers = "; ".join(f"seed {seed}: gain {gain:+.3f}, cost {cost:.3f}"
                        for seed, (gain, cost) in zip(record["seeds"], pairs))
    reason = (f"{numbers}. The gain is measured against an FCN-32s trained to work without pool4; the cost against "
              "a model whose later stage was trained with pool4 in place, so the two measure different things")
    return holds, reason


def check_ablation_statements(prediction: Any, record: Mapping[str, Any]) -> bool:
    """Check which statements of :data:`ABLATION_STATEMENTS` hold.

    Statement d is read from the staged study's record; the others follow from the mechanism and the
    lesson's outputs. A miss says how many of the five letters are wrong (a true one left out or a false
    one marked), never which, and asks one question about each; a right answer explains every statement.

    Args:
        prediction: The letters of the true statements, as a set, list or string; ``...`` means not recorded.
        record: The ``fcn_staged_study`` record (``load_experiment("fcn_staged_study")``).

    Returns:
        Whether the letters are exactly the true statements.
    """
    if prediction is ... or prediction is None:
        return wrong("record your answer first: replace the `...` with the set of letters of the true statements, "
                     "e.g. {'a', 'b'} (or set() for none).")
    letters, hint = read_letters(prediction, ABLATION_STATEMENTS, "are not among the statements")
    if hint is not None:
        return wrong(hint)
    d_holds, d_reason = _cost_matches_gain(record)
    true = {"c"} | ({"d"} if d_holds else set())
    misses = len(letters ^ true)
    if misses:
        questions = " ".join(f"{letter}: {question}" for letter, question in _ABLATION_QUESTIONS.items())
        return wrong(f"{misses} of the 5 letters {'is' if misses == 1 else 'are'} wrong (a true statement left out "
                     f"or a false one marked). Reason each out. {questions}")
    reasons = dict(_ABLATION_REASONS, d=d_reason)
    return right(" ".join(f"{letter} is {'true' if letter in true else 'false'}: {reasons[letter]}."
                          for letter in sorted(ABLATION_STATEMENTS)))
