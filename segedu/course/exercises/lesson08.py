"""Checks for the exercises of lesson 08 (does training order change which skip costs FCN-8s more to zero?).

Every check prints ``Correct! ...``, ``Recorded; the result differs: ...`` (a recorded prediction
that missed) or ``Not yet: <hint>``, and returns ``True`` or ``False``. The outcomes are measured
from the model or the stored study the lesson passes in, never typed in here. Exercise 1's
zeroing hook and exercises 2, 3 and 5 are graded on being right (exercise 2 is a reasoning question:
:func:`check_staged_reading`); exercise 1's prediction and exercise 4 are predictions that pass once recorded.
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
    "CAUSE_CHOICES",
    "CAUSE_RUNS",
    "STAGED_READINGS",
    "STAGED_RIGHT",
    "check_control_design",
    "check_cause_reading",
    "check_control_prediction",
    "check_staged_reading",
    "check_switch_prediction",
    "check_zeroing_hook",
    "mirror_evidence",
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
                   "leans on it. Section 2 first asks whether the same holds on all 200 test scenes; section 4 ends by "
                   "setting this cost beside how far a model trained without the branch falls behind.")
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


def _leans_on(record: Mapping[str, Any], arm: str) -> str:
    """Which branch costs the final FCN-8s of one arm of the study more mean IoU to zero, in every seed."""
    runs = record["results"]["runs"][arm]
    more_on_pool4 = []
    for seed in _arm_seeds(record, arm):
        readout = runs[seed]["fcn8s_readout"]
        full = readout["all on"]["mean_iou"]
        more_on_pool4.append(full - readout["pool4 off"]["mean_iou"] > full - readout["pool3 off"]["mean_iou"])
    if all(more_on_pool4):
        return "pool4"
    if not any(more_on_pool4):
        return "pool3"
    return "it differs between seeds"


STAGED_READINGS = (
    "it suggests that, on these scenes, pool4 carries more of what the task needs, since the staged model loses "
    "most without it in every seed",
    "it fits a role for the join order, but the staged arm also changes other things at each join, so it cannot "
    "single the order out",
    "it suggests a role for the join order, but three seeds are too few for the rule to call it, so more seeds of "
    "these two arms would settle it",
)
"""Exercise 2's readings of the staged arm's result, each hedged; the middle one is right. The last one sounds as
careful as the right one (a role for the order, a stated limit) but names the wrong limit."""
STAGED_RIGHT = STAGED_READINGS[1]
_STAGED_READING_WHY = {
    STAGED_READINGS[0]: "zeroing a branch measures how much one trained model relies on it, not what the branch "
                        "carries or what the task needs.",
    STAGED_READINGS[2]: "more seeds would tell whether the flip is more than chance, not what causes it: if the two "
                        "arms differ in more than the order, any number of seeds of these two arms could not single "
                        "the order out.",
}


def check_staged_reading(reading: Any, record: Mapping[str, Any]) -> bool:
    """Check a reasoning answer: what the staged arm's zeroing result can and cannot say, with the record's reasons.

    Args:
        reading: One of :data:`STAGED_READINGS`.
        record: The ``fcn_staged_study`` record, or it with ``fcn_staged_study_moreseeds`` joined (its
            ``results["runs"]`` from ``merge_runs``); each arm is read over the seeds it ran.

    Returns:
        ``True`` only for :data:`STAGED_RIGHT`: the staged arm changes more than the join order.
    """
    if reading is ...:
        return wrong("record your reading first: replace the `...` with one of "
                     + ", ".join(repr(choice) for choice in STAGED_READINGS) + ".")
    if reading not in STAGED_READINGS:
        return wrong(f"{reading!r} is not one of the readings: " + ", ".join(repr(choice) for choice in STAGED_READINGS) + ".")
    staged, once = _leans_on(record, "staged"), _leans_on(record, "all_at_once")
    observed = (f"In the stored study, zeroing {staged} costs the staged FCN-8s more"
                if staged in COSTLIER_CHOICES else "The seeds disagree on which branch costs the staged FCN-8s more")
    observed += (f"; trained all at once, zeroing {once} costs more" if once in COSTLIER_CHOICES
                 else "; trained all at once, the seeds disagree") + ". "
    if reading != STAGED_RIGHT:
        opposite = (" The two arms rank the branches oppositely, so neither ranking is a property of the branches "
                    "alone." if {staged, once} == set(COSTLIER_CHOICES) else "")
        return wrong(observed + "That reading goes further than the evidence: " + _STAGED_READING_WHY[reading] + opposite
                     + " Ask what else differs between the two arms besides the order in which the skips join.")
    stages = record["results"]["runs"]["staged"][_arm_seeds(record, "staged")[0]]["stages"]
    calls = [(stage["steps"], stage["lr"] / record["settings"]["lr"]) for stage in stages.values()]
    staged_sum = summed_learning_rate(calls)
    once_sum = summed_learning_rate([(record["settings"]["steps"], 1.0)])
    return right(observed + "The staged arm differs from all at once in more than the order: each join restarts "
                 "the optimizer and schedule at a lower rate, so its layers sum less learning rate "
                 f"({staged_sum:,.0f} x lr against {once_sum:,.0f} x lr), and each join discards the learned final "
                 "upsampler. Any of these could move which branch the model relies on, so the flip motivates a "
                 "control (section 4) and ranks nothing by itself.")


CONTROL_SETTINGS: dict[str, tuple[Any, ...]] = {
    "pool3 joins at step": (0, 1000, 2000, 3000),
    "pool4 joins at step": (0, 1000, 2000, 3000),
    "every layer at pool3's join": ("keeps its schedule", "restarts at lr", "restarts at lr / 10", "drops to lr / 10"),
    "pool3's rate once joined": ("as the other layers", "a tenth of theirs", "ten times theirs"),
}
"""Exercise 3's settings and their allowed values. Every design trains FCN-8s on the same 4,000 steps, starting with
Adam and one cosine schedule from lr; a branch's score layer is held at zero until it joins (the prompt does not
say so: the table shows what the two arms did)."""
DESIGN_IN_ONE_LINE = "in one line"
"""Exercise 3's first key: the learner's design in their own words, written before the settings; echoed, not graded."""
_CONTROL_RIGHT = {"pool3 joins at step": 3000, "pool4 joins at step": 0,
                  "every layer at pool3's join": "keeps its schedule",
                  "pool3's rate once joined": "as the other layers"}
_CONTROL_RIGHT_WHY = (
    "it differs from the all-at-once arm only in when pool3's branch joins, and so, unavoidably, in how much pool3 "
    "trains: pool3's branch joins where the staged arm's did, after 2,000 + 1,000 steps (the table's first row taken from the staged arm, every other setting from all at "
    "once, where every layer trains at the one rate of one schedule: so pool3, once joined, trains at the other "
    "layers' rate, not a tenth of it nor ten times it, either of which would be a second difference), while every other layer keeps the same optimizer, schedule, steps and "
    "rates. If "
    "zeroing pool4 costs it more, like the staged FCN-8s, a late pool3 join (with the shorter training it brings) "
    "is enough for the flip and no earlier stage is needed; if zeroing pool3 costs more, something else in the "
    "staged recipe (its earlier stages, its restarts or its lower rates) is needed. The staged arm's restart at "
    "lr / 10 is a separate question, which this control leaves out. So this control changes two things that come "
    "together, not one: a branch that joins late trains fewer steps, so it sums less learning rate, and this run "
    "cannot say which of the two matters")
_CONTROL_PRINCIPLE = ("Change only the suspect: a control differs from the run it is compared with in the suspect "
                      "and in what cannot be separated from it, and in nothing else. Why: if the run differs in "
                      "anything more (a restart, a rate, another branch held back, another join step), a flip could "
                      "come from that difference, and the run could not say whether the late join is enough.")


def _read_step(value: Any) -> Any:
    """A join step as the learner may write it: 3000, 3_000 or "3,000" -> 3000; anything else unchanged."""
    if isinstance(value, str) and value.replace(",", "").strip().isdigit():
        return int(value.replace(",", ""))
    return value


def check_control_design(design: Any) -> bool:
    """Check a design, setting by setting, of the control that isolates pool3's late join from the earlier stages.

    The learner's own one-line design (key :data:`DESIGN_IN_ONE_LINE`) comes first and is echoed back, not
    graded. A design with any setting off gets only the principle (not which setting, nor how many), so the
    feedback cannot be searched setting by setting; a right design says why it isolates the late join.

    Args:
        design: ``{"in one line": a non-empty string, setting: value, ...}`` with one value per setting of
            :data:`CONTROL_SETTINGS`.

    Returns:
        Whether every setting isolates the late join.
    """
    if not isinstance(design, Mapping):
        return wrong("fill in the dict of settings: replace each `...` with one of the values beside it.")
    line = design.get(DESIGN_IN_ONE_LINE, ...)
    if line is ... or line is None:
        return wrong(f'"{DESIGN_IN_ONE_LINE}": fill in your design in your own words first, as a string: which run, '
                     "differing from which arm in what, would tell whether pool3's late join alone flips the costs?")
    if not isinstance(line, str) or not line.strip():
        return wrong(f'"{DESIGN_IN_ONE_LINE}": fill it in as one line of text, in quotes; got {line!r}.')
    print(f'your design: "{" ".join(line.split())}"')
    unknown = sorted(set(design) - set(CONTROL_SETTINGS) - {DESIGN_IN_ONE_LINE}, key=str)
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
    if any(read[setting] != _CONTROL_RIGHT[setting] for setting in CONTROL_SETTINGS):
        return wrong(f"the design is not yet the control this question needs. {_CONTROL_PRINCIPLE}")
    return right(_CONTROL_RIGHT_WHY + ".")


CONTROL_LOSS_CHOICES = ("under 0.15", "0.15-0.4", "over 0.4")
_CONTROL_LOSS_MEANINGS = {
    "under 0.15": "zeroing pool3 costs the control little of its score",
    "0.15-0.4": "zeroing pool3 costs the control a fair part of its score, not most of it",
    "over 0.4": "zeroing pool3 costs the control most of its score",
}
_CONTROL_LOSS_MATTERS = {
    "under 0.15": "A branch that joins late, from zero, with little training left, costs little to zero: zeroing "
                  "removes only what the last steps added. That does not show that pool3 carries little: the end of "
                  "section 4 sets zeroing's cost beside how far FCN-16s, trained without pool3, falls behind FCN-8s",
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
    the check then says why, against the all-at-once arm, whose pool3 branch trained from the first step.

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
    """Why the control's loss came out as it did: what it changes against the all-at-once arm (the record)."""
    joined = record["results"]["runs"]["joined_pool3"][_arm_seeds(record, "joined_pool3")[0]]["pool3_joined_at"]
    total, lr = record["settings"]["steps"], record["settings"]["lr"]
    once = _pool3_losses(record, "all_at_once")
    return ("Why: the control differs from the all-at-once arm in when pool3 joins and, with it, in how much "
            "learning rate pool3 sums: one optimizer and one "
            f"schedule over all {total:,} steps, every other layer trained from the first step, and pool3's score "
            f"layer held at zero until step {joined['step']:,}, then joining at the rate the schedule had reached "
            f"there ({joined['lr']:.2g}, against {lr:g} at the start). All at once, where pool3's branch trained from "
            f"the first step, zeroing it costs {min(once):.2f} to {max(once):.2f}. {_CONTROL_LOSS_MATTERS[outcome]}.")


CAUSE_CHOICES = ("the late join", "the smaller summed learning rate", "neither alone")
"""Exercise 5's answers: which of the two causes a late branch carries a result would implicate."""
CAUSE_RUNS = ("if_run_A_is_cheap", "if_run_B_is_cheap")
"""Exercise 5's two keys, two runs each supposed cheap to zero like the control's pool3 (about 0.1); the study ran both
after the exercise (records ``fcn_staged_study_runa`` and ``fcn_staged_study_runb``). Run A:
pool3 from step 0 at lr / 40 (the late branch's summed learning rate, no late join, and a rate 40 times lower, a
second change). Run B: pool3 joining at step
3,000 at 40 times the schedule's rate (the late join, a full branch's summed learning rate, and a rate 40 times the
schedule's, a second change). The lesson names them neutrally so that the names do not give the answer away."""
_CAUSE_RIGHT = {"if_run_A_is_cheap": ("the smaller summed learning rate", "neither alone"),
                "if_run_B_is_cheap": ("the late join", "neither alone")}
"""The readings accepted for each run. Each run reaches its summed learning rate through a 40-fold change of pool3's
rate (run A 40 times lower from step 0, run B 40 times higher from its late join, which may diverge), a change the
control does not have; so for either run "neither alone" is accepted beside the cause it keeps."""
_LATE_ARMS = {"staged": "pool3", "joined_pool3": "pool3", "late_pool3": "pool3", "joined_pool4": "pool4"}
"""The arms of the study in which one branch joins late, and which branch it is (late_pool3: pool3 held back like
joined_pool3, then every layer restarting at lr / 10); the lesson prints all four."""


def _switch_costs(record: Mapping[str, Any], arm: str) -> list[dict[str, float]]:
    """What zeroing each branch costs the final FCN-8s of one arm, in mean IoU, per seed (from the record)."""
    runs = record["results"]["runs"][arm]
    costs = []
    for seed in _arm_seeds(record, arm):
        readout = runs[seed]["fcn8s_readout"]
        full = readout["all on"]["mean_iou"]
        costs.append({branch: full - readout[f"{branch} off"]["mean_iou"] for branch in COSTLIER_CHOICES})
    return costs


def mirror_evidence(record: Mapping[str, Any]) -> dict[str, Any]:
    """What exercise 5 reads from the stored study: the late branch's cost to zero against the other branch's.

    Args:
        record: The ``fcn_staged_study`` record, or it with ``fcn_staged_study_moreseeds`` joined (its
            ``results["runs"]`` from ``merge_runs``); each arm is read over the seeds it ran.

    Returns:
        ``late_cheaper`` and ``models`` (in how many of the late-branch models the late branch costs less to zero),
        ``smallest_gap`` (the smallest margin by which it does), ``mirror``, ``control`` and ``once`` (the cost
        range per branch in the mirror, in the control and in the all-at-once arm), ``join`` (the mirror's join step)
        and ``summed`` (the summed learning rate, in units of lr, of the mirror's late and other branch, and of a
        late branch joining where every layer restarts at lr).
    """
    gaps = []
    for arm, late in _LATE_ARMS.items():
        other = COSTLIER_CHOICES[late == "pool4"]
        gaps += [costs[other] - costs[late] for costs in _switch_costs(record, arm)]
    ranges = {arm: {branch: (min(costs[branch] for costs in per_seed), max(costs[branch] for costs in per_seed))
                    for branch in COSTLIER_CHOICES}
              for arm, per_seed in (("mirror", _switch_costs(record, "joined_pool4")),
                                    ("control", _switch_costs(record, "joined_pool3")),
                                    ("once", _switch_costs(record, "all_at_once")))}
    total = record["settings"]["steps"]
    joins = {run["pool4_joined_at"]["step"] for run in record["results"]["runs"]["joined_pool4"].values()}
    return {"late_cheaper": sum(gap > 0 for gap in gaps), "models": len(gaps), "smallest_gap": min(gaps),
            **ranges,
            "join": max(joins), "summed": {"late": summed_learning_rate([(total, 1.0)], first_step=max(joins)),
                                    "other": summed_learning_rate([(total, 1.0)]),
                                    "restarted": summed_learning_rate([(max(joins), 1.0), (total - max(joins), 1.0)],
                                                                      first_step=max(joins))}}


def _span(low_high: tuple[float, float]) -> str:
    """A (low, high) range as "0.612-0.766"."""
    return f"{low_high[0]:.3f}-{low_high[1]:.3f}"


def check_cause_reading(answer: Any, record: Mapping[str, Any]) -> bool:
    """Check which cause the learner reads from each of two runs that pull the late branch's two causes apart.

    A late branch both joins late and sums little learning rate (50 x lr against 2,000 x lr from the start). Run A
    (early, slow) keeps the small sum without the late join; run B (late, fast) keeps the late join with a full
    sum. If a run is as cheap to zero as the control's pool3, the cause it keeps is implicated and the one it
    removes is not. Each run also changes pool3's rate 40-fold (run A down from step 0, run B up from its late
    join, which may diverge), a second change the control does not have, so for either run "neither alone" is
    accepted beside the cause it keeps, and the feedback says why. Both keys are graded; the feedback says why, with
    the sums read from the record's schedule.

    Args:
        answer: ``{"if_run_A_is_cheap": one of CAUSE_CHOICES, "if_run_B_is_cheap": one of CAUSE_CHOICES}``.
        record: The ``fcn_staged_study`` record, or it with ``fcn_staged_study_moreseeds`` joined (its
            ``results["runs"]`` from ``merge_runs``); each arm is read over the seeds it ran.

    Returns:
        Whether both readings are right.
    """
    problem = _two_choice_problem(answer, {key: CAUSE_CHOICES for key in CAUSE_RUNS}, "reading")
    if problem is not None:
        return wrong(problem)
    seen = mirror_evidence(record)
    late, full = seen["summed"]["late"], seen["summed"]["other"]
    factor = full / late  # the rate factor that makes the two sums equal
    control = _span(seen["control"]["pool3"])
    why = {"if_run_A_is_cheap": (
               f"run A (pool3 from step 0 at lr / {factor:.0f}) sums {late:,.0f} x lr like a late branch but "
               "does not join late; if it is as cheap to zero as the control's pool3 "
               f"({control}), the late join is not needed, so the smaller summed learning rate is implicated; but "
               f"it trains pool3 at 1/{factor:.0f} of the others' rate, a second change that no late branch has, "
               "so \"neither alone\" is an honest reading too"),
           "if_run_B_is_cheap": (
               f"run B (pool3 from step {seen['join']:,} at {factor:.0f} times the rate) sums {full:,.0f} x lr "
               "like a branch trained from the start but joins late; if it is still as cheap to zero as the control's "
               "pool3, the smaller sum is not needed, so the late join is implicated; but a rate that high may "
               "diverge, a second change, so \"neither alone\" is an honest reading too: this run would not cleanly "
               "separate the two")}
    mistakes = [key for key in CAUSE_RUNS if answer[key] not in _CAUSE_RIGHT[key]]
    if mistakes:  # the principle only: the reasoning for the missed run is shown once both are right
        return wrong(" ".join(f'"{key}": {answer[key]!r} does not follow.' for key in mistakes)
                     + " Ask which cause each run keeps and which it removes: set the run beside the control and "
                     "ask whether it still joins late, and whether it still sums little learning rate. A run that is "
                     "still cheap to zero without a cause shows that cause is not needed; only a cause it keeps can "
                     "be implicated. Count, too, everything else the run changes: a reading that names one cause "
                     "needs a run that changes one thing.")
    return right(f"{why['if_run_A_is_cheap']}; {why['if_run_B_is_cheap']}. Each run removes one "
                 "cause and keeps the other, and each changes pool3's rate. The study ran both after this exercise "
                 "(below).")
