"""Checks for the exercises of lesson 08 (switching FCN's skips off: what the cost measures).

Every check prints ``Correct! ...``, ``Recorded; the result differs: ...`` (a recorded prediction
that missed) or ``Not yet: <hint>``, and returns ``True`` or ``False``. The outcomes are measured
from the model or the stored study the lesson passes in, never typed in here. The lesson's exercises:
1a, the zeroing hook (:func:`check_zeroing_hook`), and 2, the control's design (:func:`check_control_design`),
are graded on being right; 1b (:func:`check_switch_prediction`), 3 (:func:`check_control_prediction`) and 4
(:func:`check_late_join_prediction`) are predictions that pass once recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from segedu.analysis.fcn_stages import skip_branches_off
from segedu.analysis.summed_rate import summed_learning_rate
from segedu.course.exercises._verdict import (
    NOT_WRITTEN,
    RETURNS_NOTHING,
    check_outcome_prediction,
    choice_hint,
    recorded_miss,
    right,
    wrong,
)
from segedu.models.fcn import FCN
from segedu.training.metrics import boundary_band

__all__ = [
    "BAND_CHOICES",
    "CONTROL_LOSS_CHOICES",
    "CONTROL_SETTINGS",
    "COSTLIER_CHOICES",
    "DESIGN_IN_ONE_LINE",
    "FLIP_CHOICES",
    "FLIP_PREDICTION",
    "SEED_COUNT_CHOICES",
    "check_control_design",
    "check_control_prediction",
    "check_late_join_prediction",
    "check_switch_prediction",
    "check_zeroing_hook",
    "switch_outcome",
]

COSTLIER_CHOICES = ("pool4", "pool3")
BAND_CHOICES = ("more than half", "less than half")
_SWITCHES = {"all on": (), "pool4 off": ("pool4",), "pool3 off": ("pool3",), "both off": ("pool4", "pool3")}


@torch.no_grad()
def _two_choice_problem(recorded: Any, parts: dict[str, tuple[str, ...]], noun: str) -> str | None:
    """What is wrong with a recorded dict of choices (``parts``: key -> allowed values), or ``None``.

    ``noun`` ("prediction" or "answer") names the record in the message.
    """
    if not isinstance(recorded, Mapping):
        keys = ", ".join(f'"{key}": ...' for key in parts)
        return f"record your {noun} as a dict: {{{keys}}}; got {type(recorded).__name__}."
    for key, choices in parts.items():
        hint = choice_hint(recorded.get(key, ...), choices)
        if hint is not None:
            return f'"{key}": {hint.replace("prediction", noun)}'
    return None


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
    problem = _two_choice_problem(prediction, {"costlier": COSTLIER_CHOICES, "both_off_band": BAND_CHOICES},
                                  "prediction")
    if problem is not None:
        return wrong(problem)
    accuracy = switch_outcome(model, image, mask)
    lost = {branch: accuracy["all on"] - accuracy[f"{branch} off"] for branch in COSTLIER_CHOICES}
    costlier = max(lost, key=lost.__getitem__)
    both_off = "more than half" if accuracy["both off"] > 0.5 else "less than half"
    print("share of band pixels right: " + ", ".join(f"{label} {value:.1%}" for label, value in accuracy.items()))
    explanation = (f"switching {costlier} off lowers the share of band pixels right by {100 * lost[costlier]:.1f} "
                   f"percentage points, the other branch by {100 * lost[COSTLIER_CHOICES[costlier == 'pool4']]:.1f}; "
                   f"with both off {accuracy['both off']:.1%} of the band pixels are still right. This model was "
                   "trained with every branch in place: switching one off measures how much this model, as trained, "
                   "leans on it. Section 2 asks whether the same holds on all 200 test scenes.")
    if prediction["costlier"] == costlier and prediction["both_off_band"] == both_off:
        return right(explanation)
    return recorded_miss(explanation)


def _hook_hint(hook: Callable[..., Any], layer: torch.nn.Module, features: Tensor) -> str:
    """Why a zeroing hook does not switch its branch off, read from what it returns for one real output."""
    with torch.no_grad():
        output = layer(features)
        returned = hook(layer, (features,), output.clone())
    if returned is None:
        return ("your hook returns None, and a forward hook that returns None leaves the layer's output as it was, "
                "so the branch stays on. Return the tensor that should replace the output.")
    if not isinstance(returned, Tensor):
        return f"your hook must return a tensor to replace the output; it returns {type(returned).__name__}."
    if returned.shape != output.shape:
        return (f"your hook returns shape {tuple(returned.shape)}, the layer's output is {tuple(output.shape)}: the "
                "replacement is added to the coarser scores, so it must keep the output's shape.")
    bias = layer.bias.detach().view(1, -1, 1, 1).expand_as(output) if layer.bias is not None else None
    if bias is not None and bool(bias.abs().max() > 0) and torch.allclose(returned, bias, atol=1e-6):
        return ("your hook keeps the score layer's bias: switching a branch off means it adds nothing at all, so its "
                "whole output, bias included, must become zeros.")
    return (f"your hook's output is not all zeros (largest |value| {float(returned.abs().max()):.3g}): a branch "
            "switched off adds zeros to the coarser scores, whatever its input.")


def check_zeroing_hook(hook: Any, model: FCN, image: Tensor) -> bool:
    """Check a forward hook that switches one skip branch off, against segedu's ``skip_branches_off``.

    PyTorch calls a forward hook as ``hook(module, inputs, output)`` after the layer's forward pass; a return value
    other than None replaces the output. The check registers the learner's hook on ``score_pool4``, then on
    ``score_pool3``, runs the model on one scene and compares its logits with those under ``skip_branches_off``; it
    also checks that the hook leaves the weights untouched. A miss says what the hook returns and why that does not
    switch the branch off.

    Args:
        hook: The learner's ``zero_scores(module, inputs, output)``.
        model: A trained FCN-8s.
        image: ``(C, H, W)`` scene.

    Returns:
        Whether the hook switches each branch off exactly as ``skip_branches_off`` does.
    """
    if not callable(hook):
        return wrong("define `zero_scores(module, inputs, output)` as a function that returns what the score "
                     "layer should output instead.")
    was_training = model.training
    model.eval()
    weights = {name: value.clone() for name, value in model.state_dict().items()}
    try:
        for branch in COSTLIER_CHOICES:
            layer = getattr(model, f"score_{branch}")
            with torch.no_grad(), skip_branches_off(model, [branch]):
                expected = model(image[None])  # (1, K, H, W)
            features = []  # what the score layer reads on this scene
            grab = layer.register_forward_pre_hook(lambda module, inputs: features.append(inputs[0]))
            try:
                with torch.no_grad():
                    model(image[None])
            finally:
                grab.remove()
            try:
                with torch.no_grad():
                    returned = hook(layer, (features[0],), layer(features[0]))
                if returned is ...:
                    return wrong(RETURNS_NOTHING)
                if isinstance(returned, Tensor) and returned.shape != layer(features[0]).shape:
                    return wrong(_hook_hint(hook, layer, features[0]))
                handle = layer.register_forward_hook(hook)
                try:
                    with torch.no_grad():
                        found = model(image[None])
                finally:
                    handle.remove()
            except NotImplementedError:
                return wrong(NOT_WRITTEN)
            except Exception as error:  # the learner's code: report any error as a hint
                return wrong(f"with your hook on score_{branch}, running the model raised {type(error).__name__}: "
                             f"{error}. The hook gets (module, inputs, output) and returns the replacement output.")
            if not torch.allclose(found, expected, atol=1e-5):
                return wrong(f"on score_{branch}, the model's logits differ from skip_branches_off's: "
                             + _hook_hint(hook, layer, features[0]))
        if any(not torch.equal(value, weights[name]) for name, value in model.state_dict().items()):
            return wrong("the logits match, but your hook changed the model's weights or statistics: switching a "
                         "branch off must leave every weight as it was, so that switching it back on restores the model.")
    finally:
        model.load_state_dict(weights)
        model.train(was_training)
    return right("on both branches the model's logits match skip_branches_off's: the score layer still runs, but "
                 "its whole output, bias included, is replaced by zeros, so the branch adds nothing to the coarser "
                 "scores and no weight changes. A hook that returned None would leave the layer's output as it was "
                 "(PyTorch keeps the output when a forward hook returns None), so the branch would stay on; one that "
                 "zeroed the layer's input would still add the score layer's bias at every position.")


def _arm_seeds(record: Mapping[str, Any], arm: str) -> list[str]:
    """The seeds one arm of the study ran, in order: an arm of records joined by ``merge_runs`` may hold more seeds
    than another (fcn_staged_study has seeds 0-2 of every arm, fcn_staged_study_moreseeds seeds 3-5 of three)."""
    return sorted(record["results"]["runs"][arm], key=int)


CONTROL_SETTINGS: dict[str, tuple[Any, ...]] = {
    "pool3 joins at step": (0, 1000, 2000, 3000),
    "pool4 joins at step": (0, 1000, 2000, 3000),
    "every layer at pool3's join": ("keeps its schedule", "restarts at lr", "restarts at lr / 10", "drops to lr / 10"),
    "pool3's rate once joined": ("as the other layers", "a tenth of theirs", "ten times theirs"),
}
"""Exercise 2's settings and their allowed values. Every design trains FCN-8s on the same 4,000 steps, starting with
Adam and one cosine schedule from lr; a branch's score layer is held at zero until it joins. The prompt names
neither recipe's settings: section 3 of the lesson says what each recipe did."""
DESIGN_IN_ONE_LINE = "in one line"
"""Exercise 2's first key: the learner's design in their own words, written before the settings; echoed, not graded."""
FLIP_PREDICTION = "flips"
"""Exercise 2's prediction key: will zeroing pool4 cost more than zeroing pool3 in the designed run? Recorded, not
graded; exercise 3 and the table after it answer it."""
FLIP_CHOICES = ("yes", "no")
_CONTROL_RIGHT = {"pool3 joins at step": 3000, "pool4 joins at step": 0,
                  "every layer at pool3's join": "keeps its schedule",
                  "pool3's rate once joined": "as the other layers"}
_CONTROL_RIGHT_WHY = (
    "it differs from the all-at-once recipe only in when pool3's branch joins: at step 3,000, where the staged recipe's did "
    "(after 2,000 + 1,000 steps). Every other setting is the all-at-once recipe's: pool4 trains from step 0 and every "
    "layer keeps one optimizer and one cosine schedule, so pool3, once joined, trains at the other layers' rate, not "
    "a tenth of it nor ten times it, either of which would be a second difference. What comes with a late join "
    "cannot be left out, so this control changes two things that come together, when pool3 starts and how long it "
    "trains: it tells whether a held-back pool3 flips the costs, not which of the two does it (runs A and B, below, "
    "each keep one of them). If zeroing "
    "pool4 costs it more, like the staged FCN-8s, holding pool3 back (a late join with less training) is enough for the "
    "flip and no "
    "earlier stage is needed; if zeroing pool3 costs more, something else in the staged recipe (its earlier stages, "
    "its restarts or its lower rates) is needed. The staged recipe's restart at lr / 10 is a separate question, which "
    "this control leaves out")
_TEN_TIMES_WHY = (
    "pool3 at ten times the other layers' rate would make up part of the training a late join takes away, and it "
    "changes a second thing, pool3's rate; run B, later in section 4, does this at 40 times to make up the summed "
    "rate. The control this question needs keeps pool3 at the other layers' rate, so that it changes only when pool3 "
    "joins and what comes with a late join.")
_STAGED_JOINS = {"pool3 joins at step": 3000, "pool4 joins at step": 2000}
_STAGED_JOINS_WHY = (
    "pool4 at step 2,000 and pool3 at step 3,000 are the staged recipe's join steps without its restarts: a fair run, "
    "but of a different question, whether the staged order of joins alone flips the costs. This question is whether "
    "holding pool3 back is enough, and this run holds pool4 back too, so a flip could come from pool4's late join as "
    "well as from pool3's, and the run could not tell the two apart.")
_EARLIER_JOIN_WHY = (
    "pool3 held back until step {step:,} tests the same thing: the run differs from the all-at-once recipe only in when "
    "pool3's branch joins. The stored control, below, uses step 3,000, the staged recipe's join (after 2,000 + 1,000 "
    "steps)")
_CONTROL_PRINCIPLE = ("Change only the suspect: a control differs from the run it is compared with in the suspect "
                      "and in what cannot be separated from it, and in nothing else. Why: if the run differs in "
                      "anything more (a restart, a rate, another branch held back, another join step), a flip could "
                      "come from that difference, and the run could not say whether holding pool3 back is enough.")


def _read_step(value: Any) -> Any:
    """A join step as the learner may write it: 3000, 3_000 or "3,000" -> 3000; anything else unchanged."""
    if isinstance(value, str) and value.replace(",", "").strip().isdigit():
        return int(value.replace(",", ""))
    return value


def check_control_design(design: Any, ask_prediction: bool = True) -> bool:
    """Check a design, setting by setting, of the control that changes only when pool3's branch joins.

    The learner's own one-line design (key :data:`DESIGN_IN_ONE_LINE`) comes first and is echoed back, not
    graded; the prediction (key :data:`FLIP_PREDICTION`, "yes" or "no") must be recorded before the settings are
    read, and is echoed, not graded. A design with any setting off gets only the principle (not which setting, nor how many), so the
    feedback cannot be searched setting by setting. Two thoughtful tries are told why they miss: pool3 at "ten times
    theirs" (making up part of the training a late join takes away) changes a second thing, pool3's rate, as run B
    does at 40 times, and the staged recipe's join steps
    without its restarts (pool4 at 2,000, pool3 at 3,000, every other setting the control's) ask a different
    question. A right design is told what it changes and what comes with a late join; pool3 held back until step
    1,000 or 2,000 (every other setting the control's) is right too, and is told that it tests the same thing and
    that the stored control uses 3,000, the staged recipe's join.

    Args:
        design: ``{"in one line": a non-empty string, "flips": "yes" or "no", setting: value, ...}`` with one
            value per setting of :data:`CONTROL_SETTINGS`.
        ask_prediction: Whether the prediction must be recorded first. The lesson's graded cell passes False: the
            solution leaves the prediction out, as it is the learner's own call, not part of the key.

    Returns:
        Whether every setting is the control's, pool3's join step being 1,000, 2,000 or 3,000.
    """
    if not isinstance(design, Mapping):
        return wrong("fill in the dict of settings: replace each `...` with one of the values beside it.")
    line = design.get(DESIGN_IN_ONE_LINE, ...)
    if line is ... or line is None:
        return wrong(f'"{DESIGN_IN_ONE_LINE}": fill in your design in your own words first, as a string: which run, '
                     "differing from which recipe in what, would tell whether holding pool3 back flips the costs?")
    if not isinstance(line, str) or not line.strip():
        return wrong(f'"{DESIGN_IN_ONE_LINE}": fill it in as one line of text, in quotes; got {line!r}.')
    print(f'your design: "{" ".join(line.split())}"')
    flips = design.get(FLIP_PREDICTION, ...)
    if ask_prediction and flips not in FLIP_CHOICES:
        return wrong(f'"{FLIP_PREDICTION}": record your prediction first, "yes" or "no": in your run, will zeroing '
                     "pool4 cost more than zeroing pool3?")
    unknown = sorted(set(design) - set(CONTROL_SETTINGS) - {DESIGN_IN_ONE_LINE, FLIP_PREDICTION}, key=str)
    if unknown:
        return wrong(f"{', '.join(repr(key) for key in unknown)} is not a setting; the settings are "
                     f"{', '.join(repr(key) for key in CONTROL_SETTINGS)}.")
    read = {setting: _read_step(design.get(setting, ...)) for setting in CONTROL_SETTINGS}
    for setting, values in CONTROL_SETTINGS.items():
        if read[setting] not in values or isinstance(read[setting], bool):
            listed = ", ".join(repr(value) for value in values)
            unset = read[setting] is ... or read[setting] is None
            first = "choose" if unset else f"{read[setting]!r} is not allowed: choose"
            return wrong(f'"{setting}": {first} one of {listed}.')
    if read["pool3's rate once joined"] == "ten times theirs":
        return wrong(f"{_TEN_TIMES_WHY} {_CONTROL_PRINCIPLE}")
    if all(read[setting] == _STAGED_JOINS.get(setting, _CONTROL_RIGHT[setting]) for setting in CONTROL_SETTINGS):
        return wrong(f"{_STAGED_JOINS_WHY} {_CONTROL_PRINCIPLE}")
    held_back = read["pool3 joins at step"] != 0  # 1,000 and 2,000 hold pool3 back as well as 3,000 does
    if not held_back or any(read[setting] != _CONTROL_RIGHT[setting] for setting in CONTROL_SETTINGS
                            if setting != "pool3 joins at step"):
        return wrong(f"the design is not yet the control this question needs. {_CONTROL_PRINCIPLE}")
    why = (_CONTROL_RIGHT_WHY if read["pool3 joins at step"] == _CONTROL_RIGHT["pool3 joins at step"]
           else _EARLIER_JOIN_WHY.format(step=read["pool3 joins at step"]))
    said = (f' Your prediction ("{FLIP_PREDICTION}": "{flips}") is recorded, not graded: exercise 3 and the table '
            "after it answer it." if flips in FLIP_CHOICES else "")
    return right(f"{why}.{said}")


CONTROL_LOSS_CHOICES = ("under 0.15", "0.15-0.4", "over 0.4")
_CONTROL_LOSS_MEANINGS = {
    "under 0.15": "zeroing pool3 costs the control little of its score",
    "0.15-0.4": "zeroing pool3 costs the control a fair part of its score, not most of it",
    "over 0.4": "zeroing pool3 costs the control most of its score",
}
_CONTROL_LOSS_MATTERS = {
    "under 0.15": "A branch that joins late, from zero, with little training left, costs little to zero here; "
                  "whether the late start or the little training is why, runs A and B (below) each keep one of the two",
    "0.15-0.4": "Even a branch that joins late, from zero, becomes part of the map the network makes, though "
                "zeroing it costs less than zeroing a branch trained from the first step",
    "over 0.4": "Even a branch that joins late, from zero, becomes a large part of the map the network makes",
}


def _pool3_losses(record: Mapping[str, Any], arm: str) -> list[float]:
    """What zeroing pool3 costs the final FCN-8s of one arm of the study, in mean IoU, per seed."""
    runs = record["results"]["runs"][arm]
    readouts = [runs[seed]["fcn8s_readout"] for seed in _arm_seeds(record, arm)]
    return [readout["all on"]["mean_iou"] - readout["pool3 off"]["mean_iou"] for readout in readouts]


def _loss_bin(loss: float) -> str:
    """The choice of :data:`CONTROL_LOSS_CHOICES` a mean IoU loss falls in."""
    return "under 0.15" if loss < 0.15 else "over 0.4" if loss > 0.4 else "0.15-0.4"


def check_control_prediction(prediction: Any, record: Mapping[str, Any]) -> bool:
    """Check a prediction of how much mean IoU the control (``joined_pool3``) loses with pool3 zeroed (seed mean).

    The prediction passes once recorded; a match says ``Correct!``, a miss says what the record shows. Either way
    the check then says why, against the all-at-once recipe, whose pool3 branch trained from the first step.

    Args:
        prediction: One of :data:`CONTROL_LOSS_CHOICES`.
        record: The ``fcn_staged_study`` record, or it with ``fcn_staged_study_moreseeds`` joined (its
            ``results["runs"]`` from ``merge_runs``); each arm is read over the seeds it ran.

    Returns:
        ``True`` once a prediction among the choices is recorded.
    """
    losses = _pool3_losses(record, "joined_pool3")
    mean = sum(losses) / len(losses)
    outcome = _loss_bin(mean)
    happened = (f"the control loses {min(losses):.3f} to {max(losses):.3f} with pool3 zeroed (mean {mean:.3f} over "
                f"{len(losses)} seeds), so the answer is")
    return _checked_then_why(prediction, outcome, _CONTROL_LOSS_MEANINGS, happened, lambda: _control_why(record, outcome))


def _checked_then_why(prediction: Any, outcome: str, meanings: Mapping[str, str], happened: str,
                      why: Callable[[], str]) -> bool:
    """Grade a recorded prediction against ``outcome``; once it passes, print ``why()`` (the record's reason)."""
    passed = check_outcome_prediction(prediction, outcome, meanings, happened=happened)
    if passed:
        print(why())
    return passed


def _control_why(record: Mapping[str, Any], outcome: str) -> str:
    """Why the control's loss came out as it did: what it changes against the all-at-once recipe (the record)."""
    joined = record["results"]["runs"]["joined_pool3"][_arm_seeds(record, "joined_pool3")[0]]["pool3_joined_at"]
    total, lr = record["settings"]["steps"], record["settings"]["lr"]
    once = _pool3_losses(record, "all_at_once")
    return ("Why: the control differs from the all-at-once recipe in when pool3 joins and, with it, in how much "
            "learning rate pool3 sums: one optimizer and one "
            f"schedule over all {total:,} steps, every other layer trained from the first step, and pool3's score "
            f"layer held at zero until step {joined['step']:,}, then joining at the rate the schedule had reached "
            f"there ({joined['lr']:.2g}, against {lr:g} at the start). All at once, where pool3's branch trained from "
            f"the first step, zeroing it costs {min(once):.2f} to {max(once):.2f}. {_CONTROL_LOSS_MATTERS[outcome]}.")


def _switch_costs(record: Mapping[str, Any], arm: str) -> list[dict[str, float]]:
    """What zeroing each branch costs the final FCN-8s of one arm, in mean IoU, per seed (from the record)."""
    runs = record["results"]["runs"][arm]
    costs = []
    for seed in _arm_seeds(record, arm):
        readout = runs[seed]["fcn8s_readout"]
        full = readout["all on"]["mean_iou"]
        costs.append({branch: full - readout[f"{branch} off"]["mean_iou"] for branch in COSTLIER_CHOICES})
    return costs


def _span(low_high: tuple[float, float]) -> str:
    """A (low, high) range as "0.612-0.766"."""
    return f"{low_high[0]:.3f}-{low_high[1]:.3f}"


SEED_COUNT_CHOICES = ("6 of 6", "4-5 of 6", "3 or fewer")
"""Exercise 4's second part: in how many of run B's six seeds the branch named as costlier costs more to zero."""
_LATE_JOIN_PARTS = {"costlier": COSTLIER_CHOICES, "seeds": SEED_COUNT_CHOICES}


def _seed_count_bin(count: int, seeds: int) -> str:
    """The choice of :data:`SEED_COUNT_CHOICES` that ``count`` of ``seeds`` (six) falls in."""
    return "6 of 6" if count == seeds else "4-5 of 6" if 2 * count > seeds else "3 or fewer"


def check_late_join_prediction(prediction: Any, record: Mapping[str, Any]) -> bool:
    """Check a prediction of which branch costs run B (``fast_pool3``) more to zero, and in how many of its seeds.

    Run B holds pool3 back until step 3,000, as the control does, then trains it at 40 times the other layers'
    rate, which makes up its summed learning rate. The learner's one-line reason (key ``"why"``) is echoed, not
    graded. The prediction passes once recorded; the check then reads run B from the record (never typed in here),
    says which parts it bears out, and sets run B beside the control, whose pool3 starts as late but trains less.

    Args:
        prediction: ``{"costlier": "pool4" or "pool3", "seeds": one of SEED_COUNT_CHOICES, "why": a string}``.
        record: The study record whose ``results["runs"]`` holds ``fast_pool3`` (six seeds; ``merge_runs`` of
            ``fcn_staged_study_runb``) and, for the comparison, ``joined_pool3``.

    Returns:
        ``True`` once both parts and a reason are recorded with allowed values.
    """
    problem = _two_choice_problem(prediction, _LATE_JOIN_PARTS, "prediction")
    if problem is not None:
        return wrong(problem)
    why = prediction.get("why", ...)
    if not isinstance(why, str) or not why.strip():
        return wrong('"why": add your reason in one line, as a string (it is echoed, not graded).')
    print(f'your reason: "{" ".join(why.split())}"')
    seeds = _arm_seeds(record, "fast_pool3")
    if len(seeds) != 6:
        raise ValueError(f"exercise 4 reads run B over six seeds; the record holds {len(seeds)}")
    costs = _switch_costs(record, "fast_pool3")
    pool4_more = sum(cost["pool4"] > cost["pool3"] for cost in costs)
    pool3_more = sum(cost["pool3"] > cost["pool4"] for cost in costs)
    costlier = "pool4" if pool4_more > pool3_more else "pool3" if pool3_more > pool4_more else "neither"
    count = max(pool4_more, pool3_more)
    outcome = _seed_count_bin(count, len(seeds))
    span = {branch: _span((min(c[branch] for c in costs), max(c[branch] for c in costs))) for branch in COSTLIER_CHOICES}
    run = record["results"]["runs"]["fast_pool3"][seeds[0]]
    joined, factor, lr = run["pool3_joined_at"], run["pool3_lr_factor"], record["settings"]["lr"]
    schedule = [(record["settings"]["steps"], 1.0)]  # one cosine schedule over every step, in units of lr
    summed = {"pool3": factor * summed_learning_rate(schedule, first_step=joined["step"]),
              "pool4": summed_learning_rate(schedule)}  # the rate summed over the steps each branch trains
    explanation = (f"zeroing pool4 costs run B {span['pool4']}, zeroing pool3 {span['pool3']}: the costlier branch "
                   f"is {costlier}, in {count} of {len(seeds)} seeds. Why: run B's pool3 starts at step "
                   f"{joined['step']:,}, as the control's does, but at {factor:g} times the other layers' rate (about "
                   f"{factor * joined['lr'] / lr:.0f} × lr at its join), so its summed learning rate is "
                   f"{summed['pool3']:,.0f} × lr, against {summed['pool4']:,.0f} × lr for pool4. ")
    if costlier == "pool4":
        explanation += (f"In these runs, a late start at {factor:g} times the rate, with the summed rate made up, "
                        "still left pool3 the cheaper to zero")
    else:
        explanation += "In these runs, with the summed rate made up, a late start did not leave pool3 the cheaper to zero"
    if "joined_pool3" in record["results"]["runs"]:
        control = [cost["pool3"] for cost in _switch_costs(record, "joined_pool3")]
        explanation += (f"; zeroing pool3 costs the control, whose pool3 also trains less, "
                        f"{_span((min(control), max(control)))}")
    explanation += (". Run B also differs in one more way: its pool3 trains at a far higher rate after the join, "
                    "so it separates the late start from less training, not from everything else.")
    if prediction["costlier"] == costlier and prediction["seeds"] == outcome:
        return right(explanation)
    return recorded_miss(f"you predicted {prediction['costlier']!r} in {prediction['seeds']!r}; " + explanation)
