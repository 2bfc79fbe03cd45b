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
from segedu.course.exercises._verdict import check_outcome_prediction, choice_hint, recorded_miss, right, wrong
from segedu.models.fcn import FCN
from segedu.training.metrics import boundary_band

__all__ = [
    "BAND_CHOICES",
    "CONTROL_CHOICES",
    "CONTROL_LEAN_CHOICES",
    "COSTLIER_CHOICES",
    "STAGED_CHOICES",
    "check_control_design",
    "check_control_prediction",
    "check_staged_prediction",
    "check_switch_prediction",
    "record_design",
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

    The prediction passes once recorded: the check then measures the share of band pixels right with
    each switch setting and says which guesses the measurement bears out, and why.

    Args:
        prediction: ``{"costlier": "pool4" or "pool3", "both_off_band": "more than half" or "less than half"}``:
            which branch lowers the share of band pixels right more when switched off alone, and whether more or
            less than half of the band pixels are still right with both off.
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
    print("share of band pixels right: " + ", ".join(f"{label} {value:.1%}" for label, value in accuracy.items()))
    explanation = (f"switching {costlier} off lowers the share of band pixels right by {100 * lost[costlier]:.1f} "
                   f"percentage points, the other branch by {100 * lost[COSTLIER_CHOICES[costlier == 'pool4']]:.1f}; "
                   f"with both off {accuracy['both off']:.1%} of the band pixels are still right. This model was "
                   "trained with every branch in place, so its later layers "
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


def _leans_on(record: Mapping[str, Any], arm: str) -> str:
    """Which branch the final FCN-8s of one arm of the study loses more mean IoU without, in every seed."""
    runs = record["results"]["runs"][arm]
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


def _staged_outcome(record: Mapping[str, Any]) -> str:
    return _leans_on(record, "staged")


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


CONTROL_CHOICES = {  # one line each, of similar length: the right one must not stand out by its form
    "a": "run the staged recipe again with each of its three stages twice as long, 8,000 steps instead of 4,000",
    "b": "train FCN-8s all at once, every layer from the first step, with score_pool3 at a tenth of the full rate "
         "throughout",
    "c": "rerun the staged study with five more seeds, keeping its arms, stages, steps and rates as they are",
    "d": "train FCN-8s all at once with score_pool4 frozen at zero for the first 2,000 steps, then every layer at "
         "lr / 10",
    "e": "train FCN-8s all at once with score_pool3 frozen at zero for the first 3,000 steps, then every layer at "
         "lr / 10",
    "f": "switch pool4 off in the staged FCN-8s as well as pool3, on more test scenes, and compare the two losses",
    "g": "run the staged recipe again, its FCN-8s stage given 3,000 steps at the full rate instead of 1,000 at a tenth",
}
_CONTROL_RIGHT = "e"
_CONTROL_WHY = {  # why each candidate does or does not separate the stages from pool3's late, short training
    "a": "longer stages keep both suspects, and both grow with the budget: the coarse-to-fine stages are all there, "
         "each twice as long, and pool3's score layer still joins last, now for 2,000 steps at a tenth of the "
         "rate; a flip back (or none) could come from either",
    "b": "it drops the stages, but it also changes how pool3's score layer trains: from the first "
         "step, for all 4,000 steps instead of the last 1,000 only, so both candidate causes change together and "
         "a flip back (or none) could come from either",
    "c": "more seeds narrow the spread of the same comparison, but every seed changes the stages and pool3's "
         "training together, so no number of seeds separates them",
    "d": "it drops the FCN-32s stage, but it also moves pool3's training: its score layer now trains from the "
         "first step, and for the first 2,000 steps conv7's and pool3's branches train together, an order the "
         "staged arm never had. Both suspects change together, so whatever it shows could come from either",
    "e": "it drops the earlier stages (no FCN-32s stage, pool4's branch not added late, no final upsampler thrown "
         "away: pool4's branch and every other layer train from the first step) and keeps pool3's late, short "
         "training as in the staged arm: its score layer joins only for the last 1,000 steps, at a tenth of the "
         "rate. If this model leans on pool4 like the staged one, no FCN-32s stage is needed for the flip; if it "
         "leans on pool3, something in the earlier stages is needed. It keeps "
         "the third difference as well: at pool3's join it starts a fresh optimizer and schedule, as the staged "
         "arm's last stage does (and its first phase, a run of its own, has brought its rate to 0 there, as the "
         "staged arm's FCN-16s stage has), so this control does not test the restart; the stored study's second "
         "control drops it",
    "f": "a switch measures what an already trained model depends on; it changes no training, so it cannot tell "
         "which difference in the training produced that dependence (section 4 already ran these switches)",
    "g": "it keeps the stages and changes pool3's training, but not only that: the run grows from 4,000 to 6,000 "
         "steps, so every other layer also trains 2,000 more steps, at ten times the rate, and pool3's branch "
         "still joins a model that trained 3,000 steps without it. A flip back to pool3 could come from its longer "
         "training or from the extra training of everything else; no flip could come from the stages or from "
         "pool3's still late start. Neither result points to one suspect",
}


def record_design(design: Any) -> bool:
    """Record the learner's own design of the control, in words, before the candidates show. Not graded.

    Args:
        design: One or two sentences: what to keep as in the staged arm, and what to change.

    Returns:
        Whether a text other than the placeholder was recorded.
    """
    if not isinstance(design, str) or design.strip() in ("", "...", "\u2026"):
        print('Not recorded yet (not graded): replace the "..." with one or two sentences: what would you keep as '
              "in the staged arm, and what would you change?")
        return False
    print(f"Recorded (not graded): {design.strip()!r}. As you read the candidates below, look for the one that "
          "keeps and changes what you wrote, and ask what each other one changes as well.")
    return True


def check_control_design(choice: Any) -> bool:
    """Check the learner's choice of the control that separates the stages from pool3's late, short training.

    A wrong choice gets why that experiment cannot separate the two and a question, never the right letter;
    a right one gets why it separates them.

    Args:
        choice: One of the letters of :data:`CONTROL_CHOICES`.

    Returns:
        Whether the choice is the control.
    """
    hint = choice_hint(choice, tuple(CONTROL_CHOICES))
    if hint is not None:
        return wrong(hint)
    if choice != _CONTROL_RIGHT:
        return wrong(f"{choice}: {_CONTROL_WHY[choice]}. Which candidate changes only one of the two suspected "
                     "causes, and keeps the other as in the arm it starts from?")
    others = " ".join(f"{letter} would not: {_CONTROL_WHY[letter]}." for letter in sorted(CONTROL_CHOICES)
                      if letter != _CONTROL_RIGHT)
    return right(f"{_CONTROL_RIGHT}: {_CONTROL_WHY[_CONTROL_RIGHT]}. {others}")


CONTROL_LEAN_CHOICES = ("pool4", "pool3", "it differs between seeds")
_CONTROL_LEAN_MEANINGS = {
    "pool4": "in every seed control 1 loses more mean IoU without pool4 than without pool3, like the staged FCN-8s "
             "and unlike the one trained all at once",
    "pool3": "in every seed control 1 loses more mean IoU without pool3, like the FCN-8s trained all at once and "
             "unlike the staged one",
    "it differs between seeds": "the seeds do not agree on which branch control 1 leans on more",
}
_CONTROL_LEAN_MATTERS = {
    "pool4": "so on this budget a late pool3 branch is enough to flip which branch costs more to zero, and no "
             "FCN-32s stage is needed for it. Control 1 is not free of stages, though: holding a branch at zero for "
             "most of the training and then adding it is itself a late join, one coarse-to-fine step (in effect an "
             "FCN-16s, then pool3 added)",
    "pool3": "so a late pool3 branch alone does not flip which branch costs more to zero; something in the earlier "
             "stages (the FCN-32s stage, pool4's late join) is needed for it",
    "it differs between seeds": "so this control does not settle, on this budget, whether a late pool3 branch "
                                "is enough to flip which branch costs more to zero",
}


def check_control_prediction(prediction: Any, record: Mapping[str, Any]) -> bool:
    """Check a prediction of which branch control 1 (``late_pool3``) depends on more, read from the stored study.

    The prediction passes once recorded; a match says ``Correct!``, a miss says what the record shows. Either way
    the check then says why the answer matters for the two suspects of exercise 3.

    Args:
        prediction: One of :data:`CONTROL_LEAN_CHOICES`.
        record: The ``fcn_staged_study`` record (``load_experiment("fcn_staged_study")``).

    Returns:
        ``True`` once a prediction among the choices is recorded.
    """
    outcome = _leans_on(record, "late_pool3")
    passed = check_outcome_prediction(prediction, outcome, _CONTROL_LEAN_MEANINGS,
                                      happened="in the stored study, the answer is")
    if passed:
        print(_control_why(record, outcome))
    return passed


def _control_why(record: Mapping[str, Any], outcome: str) -> str:
    """Why control 1's lean matters: what it shares with the staged arm, and what it drops, from the record."""
    run = record["results"]["runs"]["late_pool3"][str(record["seeds"][0])]
    held, total = run["pool3_held_at_zero"]["steps"], record["settings"]["steps"]
    late_lr = record["results"]["runs"]["staged"][str(record["seeds"][0])]["stages"]["fcn8s"]["lr"]
    return ("Why it matters: control 1 has no FCN-32s stage (pool4's branch and every other layer train "
            f"from the first step). What it shares with the staged arm is pool3's late, short training: its score "
            f"layer held at zero for {held:,} steps, then {total - held:,} steps at {late_lr:g}, with a fresh "
            f"optimizer and schedule at the join (its first {held:,} steps ran a cosine schedule of their own, "
            f"down to 0 at the join); {_CONTROL_LEAN_MATTERS[outcome]}. The second control, next, drops that "
            f"restart: one optimizer and one schedule throughout.{_mirror_result(record, outcome)}")


def _mirror_result(record: Mapping[str, Any], control_outcome: str) -> str:
    """What the mirror of control 2 (``joined_pool4``: pool4's branch joins late, pool3's from the start) leans on,
    read from the record; empty where the record holds no mirror. ``control_outcome``: what control 1 leans on."""
    if "joined_pool4" not in record["results"]["runs"]:
        return ""
    lean = _leans_on(record, "joined_pool4")
    if lean == "it differs between seeds":
        found = "the seeds do not agree on which branch it leans on more"
    else:
        found = f"it leans on {lean} in every seed"
    if lean == "pool3" and control_outcome == "pool4":
        found += (", and control 1 on pool4: whichever branch joins late is the one the model leans on less when "
                  "zeroed (partly built in: that branch starts at zero, so zeroing restores what the rest of the "
                  "model trained with until the join)")
    joined = {run["pool4_joined_at"]["step"] for run in record["results"]["runs"]["joined_pool4"].values()}
    return (" The second control's mirror, also stored (pool4's output detached until step "
            f"{min(joined):,}, pool3's branch trained from the start): {found}.")
