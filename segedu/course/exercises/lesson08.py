"""Checks for the exercises of lesson 08 (does training order change which skip costs FCN-8s more to zero?).

Every check prints ``Correct! ...``, ``Recorded; the result differs: ...`` (a recorded prediction
that missed) or ``Not yet: <hint>``, and returns ``True`` or ``False``. The outcomes are measured
from the model or the stored study the lesson passes in, never typed in here. Exercise 3 and
exercise 5's second part are graded on being right; exercises 1, 2, 4 and exercise 5's first part are predictions
that pass once recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from segedu.analysis.fcn_stages import skip_branches_off
from segedu.course.exercises._verdict import (
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
    "MIRROR_CANNOT_SEPARATE",
    "MIRROR_CHOICES",
    "STAGED_CHOICES",
    "check_control_design",
    "check_control_prediction",
    "check_mirror_prediction",
    "check_mirror_reading",
    "check_staged_prediction",
    "check_switch_prediction",
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
                   "leans on it. Section 3 tests whether zeros are a fair switch and how much of the cost 200 steps of "
                   "re-tuning without the branch win back. Section 2 first asks whether the "
                   "same holds on all 200 test scenes.")
    if prediction["costlier"] == costlier and prediction["both_off_band"] == both_off:
        return right(explanation)
    return recorded_miss(explanation)


STAGED_CHOICES = ("pool4", "pool3", "it differs between seeds")
_STAGED_MEANINGS = {
    "pool4": "in every seed zeroing pool4 costs the staged FCN-8s more mean IoU than zeroing pool3, the reverse of "
             "the FCN-8s trained all at once",
    "pool3": "in every seed zeroing pool3 costs the staged FCN-8s more mean IoU, like the FCN-8s trained all at once",
    "it differs between seeds": "the seeds do not agree on which branch costs the staged FCN-8s more to zero",
}


def _leans_on(record: Mapping[str, Any], arm: str) -> str:
    """Which branch costs the final FCN-8s of one arm of the study more mean IoU to zero, in every seed."""
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
    """Check a prediction of which branch costs the FCN-8s trained in stages more to zero, read from the stored study.

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
    """Why zeroing can cost the two arms differently: what each branch's score layer trained on, from the record."""
    stages = record["results"]["runs"]["staged"][str(record["seeds"][0])]["stages"]
    steps = {name: stage["steps"] for name, stage in stages.items()}
    rates = {name: stage["lr"] for name, stage in stages.items()}
    lr, total = record["settings"]["lr"], record["settings"]["steps"]
    later_peaks = (f"{rates['fcn16s']:g}" if rates["fcn16s"] == rates["fcn8s"]
                   else f"{rates['fcn16s']:g}, then {rates['fcn8s']:g}")
    return ("Why the arms can differ: a switch measures what the rest of a trained network learned to expect from a "
            f"branch. In stages, conv7's path trained alone for {steps['fcn32s']:,} steps under a cosine schedule "
            f"from a peak rate of {lr:g}; pool4's score layer then trained {steps['fcn16s'] + steps['fcn8s']:,} steps "
            f"and pool3's only the last {steps['fcn8s']:,}, each later stage under its own cosine schedule from a peak "
            f"of {later_peaks}, pool3 joining a model that already worked without it. All at once, every branch "
            f"trained all {total:,} steps under one cosine schedule from a peak of {lr:g}, from the first step, and "
            "the network was free to route the map through any of them. The paper zero-initialised each new score "
            "layer \"so that the net starts with unmodified predictions\"; segedu's stages do the same, so at its join "
            "a branch adds nothing, and zeroing it afterwards removes only what it learned after joining. Sections 4 "
            "and 5 say which of these differences the study can and cannot separate.")


CONTROL_SETTINGS: dict[str, tuple[Any, ...]] = {
    "pool3 joins at step": (0, 1000, 2000, 3000),
    "pool4 joins at step": (0, 1000, 2000, 3000),
    "every layer at pool3's join": ("keeps its schedule", "restarts at lr", "restarts at lr / 10", "drops to lr / 10"),
    "pool3's rate once joined": ("as the other layers", "a tenth of theirs"),
}
"""Exercise 3's settings and their allowed values. Every design trains FCN-8s on the same 4,000 steps, starting with
Adam and one cosine schedule from lr; a branch's score layer is held at zero until it joins."""
_CONTROL_RIGHT = {"pool3 joins at step": 3000, "pool4 joins at step": 0,
                  "every layer at pool3's join": "keeps its schedule",
                  "pool3's rate once joined": "as the other layers"}
_CONTROL_RIGHT_WHY = (
    "it differs from the all-at-once arm in one thing only: pool3's branch joins where the staged arm's did, "
    "after 2,000 + 1,000 steps (the table's first row taken from the staged arm, every other setting from all at "
    "once, where every layer trains at the one rate of one schedule: so pool3, once joined, trains at the other "
    "layers' rate, not a tenth of it), while every other layer keeps the same optimizer, schedule, steps and "
    "rates. If "
    "zeroing pool4 costs it more, like the staged FCN-8s, a late pool3 join is enough for the flip and no earlier "
    "stage is needed; if zeroing pool3 costs more, something else in the staged recipe (its earlier stages, its "
    "restarts or its lower rates) is needed. The staged arm's restart at lr / 10 is then a separate question: the "
    "study ran it as a second control")
_CONTROL_PRINCIPLE = ("Compare each setting with the all-at-once arm in the table above the exercise: the control "
                      "should copy the staged arm only in the suspect, pool3 joining where it joined there, and keep "
                      "every other setting as all at once. Why: if the run differs from all at once in anything else "
                      "(a restart, a rate, another branch held back, another join step), a flip could come from that "
                      "difference, and the run could not say whether the late join alone is enough.")


def _read_step(value: Any) -> Any:
    """A join step as the learner may write it: 3000, 3_000 or "3,000" -> 3000; anything else unchanged."""
    if isinstance(value, str) and value.replace(",", "").strip().isdigit():
        return int(value.replace(",", ""))
    return value


def check_control_design(design: Any) -> bool:
    """Check a design, setting by setting, of the control that isolates pool3's late join from the earlier stages.

    A design with any setting off gets only the principle (not which setting, nor how many), so the feedback
    cannot be searched setting by setting; a right design says why it isolates the late join.

    Args:
        design: ``{setting: value}`` with one value per setting of :data:`CONTROL_SETTINGS`.

    Returns:
        Whether every setting isolates the late join.
    """
    if not isinstance(design, Mapping):
        return wrong("fill in the dict of settings: replace each `...` with one of the values beside it.")
    unknown = sorted(set(design) - set(CONTROL_SETTINGS), key=str)
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
        return wrong(f"the design lets something other than pool3's late join differ from the all-at-once arm. "
                     f"{_CONTROL_PRINCIPLE}")
    return right(_CONTROL_RIGHT_WHY + ".")


CONTROL_LOSS_CHOICES = ("under 0.15", "0.15-0.4", "over 0.4")
_CONTROL_LOSS_MEANINGS = {
    "under 0.15": "zeroing pool3 costs control 1 little of its score",
    "0.15-0.4": "zeroing pool3 costs control 1 a fair part of its score, not most of it",
    "over 0.4": "zeroing pool3 costs control 1 most of its score",
}
_CONTROL_LOSS_MATTERS = {
    "under 0.15": "a branch that joins a working network late, from zero, with little training left, costs little "
                  "to zero: for 3,000 steps the rest of the network learned to make the map without it, and zeroing "
                  "removes only what the last steps added. That does not show that pool3 carries little: after the "
                  "table, section 5 reads what FCN-8s scores when trained without each branch",
    "0.15-0.4": "even a branch that joins late, from zero, becomes part of the map the network makes, though "
                "zeroing it costs less than zeroing a branch trained from the first step",
    "over 0.4": "even a branch that joins late, from zero, becomes a large part of the map the network makes",
}


def _pool3_losses(record: Mapping[str, Any], arm: str) -> list[float]:
    """What zeroing pool3 costs the final FCN-8s of one arm of the study, in mean IoU, per seed."""
    runs = record["results"]["runs"][arm]
    readouts = [runs[str(seed)]["fcn8s_readout"] for seed in record["seeds"]]
    return [readout["all on"]["mean_iou"] - readout["pool3 off"]["mean_iou"] for readout in readouts]


def _loss_bin(loss: float) -> str:
    """The choice of :data:`CONTROL_LOSS_CHOICES` a mean IoU loss falls in."""
    return "under 0.15" if loss < 0.15 else "over 0.4" if loss > 0.4 else "0.15-0.4"


def check_control_prediction(prediction: Any, record: Mapping[str, Any]) -> bool:
    """Check a prediction of how much mean IoU control 1 (``joined_pool3``) loses with pool3 zeroed (seed mean).

    The prediction passes once recorded; a match says ``Correct!``, a miss says what the record shows. Either way
    the check then says why, against the all-at-once arm, whose pool3 branch trained from the first step.

    Args:
        prediction: One of :data:`CONTROL_LOSS_CHOICES`.
        record: The ``fcn_staged_study`` record (``load_experiment("fcn_staged_study")``).

    Returns:
        ``True`` once a prediction among the choices is recorded.
    """
    losses = _pool3_losses(record, "joined_pool3")
    mean = sum(losses) / len(losses)
    outcome = _loss_bin(mean)
    happened = (f"control 1 loses {min(losses):.3f} to {max(losses):.3f} with pool3 zeroed (mean {mean:.3f} over "
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
    """Why control 1's loss came out as it did: the one thing it changes against the all-at-once arm (the record)."""
    joined = record["results"]["runs"]["joined_pool3"][str(record["seeds"][0])]["pool3_joined_at"]
    total, lr = record["settings"]["steps"], record["settings"]["lr"]
    once = _pool3_losses(record, "all_at_once")
    return ("Why: control 1 differs from the all-at-once arm only in pool3's late join: one optimizer and one "
            f"schedule over all {total:,} steps, every other layer trained from the first step, and pool3's score "
            f"layer held at zero until step {joined['step']:,}, then joining at the rate the schedule had reached "
            f"there ({joined['lr']:.2g}, against {lr:g} at the start). All at once, where pool3's branch trained from "
            f"the first step, zeroing it costs {min(once):.2f} to {max(once):.2f}. {_CONTROL_LOSS_MATTERS[outcome]}.")


MIRROR_CHOICES = ("pool4", "pool3", "it differs between seeds")
_MIRROR_MEANINGS = {
    "pool4": "in every seed zeroing pool4, the late branch, costs the mirror more mean IoU than zeroing pool3",
    "pool3": "in every seed zeroing pool3 costs the mirror more mean IoU: the late branch, pool4, is the cheaper one "
             "to zero",
    "it differs between seeds": "the seeds do not agree on which branch costs the mirror more to zero",
}


def check_mirror_prediction(prediction: Any, record: Mapping[str, Any]) -> bool:
    """Check a prediction of which branch costs the mirror (``joined_pool4``) more to zero, read from the record.

    The prediction passes once recorded; a match says ``Correct!``, a miss says what the record shows. Either way
    the check then says why, against control 1 (``joined_pool3``), the same run with the branches swapped.

    Args:
        prediction: One of :data:`MIRROR_CHOICES`.
        record: The ``fcn_staged_study`` record (``load_experiment("fcn_staged_study")``).

    Returns:
        ``True`` once a prediction among the choices is recorded.
    """
    outcome = _leans_on(record, "joined_pool4")
    costs = _switch_costs(record, "joined_pool4")
    spans = {branch: f"{min(c[branch] for c in costs):.3f} to {max(c[branch] for c in costs):.3f}"
             for branch in COSTLIER_CHOICES}
    happened = (f"in the mirror zeroing pool4 costs {spans['pool4']}, zeroing pool3 {spans['pool3']} "
                f"({len(costs)} seeds), so the answer is")
    return _checked_then_why(prediction, outcome, _MIRROR_MEANINGS, happened, lambda: _mirror_why(record, outcome))


def _mirror_why(record: Mapping[str, Any], outcome: str) -> str:
    """Why the mirror came out as it did: control 1 with the branches swapped (steps and rates from the record)."""
    joined = record["results"]["runs"]["joined_pool4"][str(record["seeds"][0])]["pool4_joined_at"]
    control = _leans_on(record, "joined_pool3")
    setup = ("Why: the mirror is control 1 with the branches swapped: pool4's score layer held at zero until step "
             f"{joined['step']:,}, then joining at the schedule's rate there ({joined['lr']:.2g}), pool3's trained from "
             "the first step. A branch "
             "that joins at zero adds nothing at its join, so zeroing it afterwards removes only what it learned in "
             f"the last steps, while the rest of the network had {joined['step']:,} steps to make the map without "
             f"it. In control 1 zeroing {control} cost more in every seed. ")
    if outcome == "pool3":
        return setup + ("Here too the late branch is the cheaper one to zero: a late branch is cheap whichever "
                        "branch it is, not only a late pool3.")
    if outcome == "pool4":
        return setup + ("Here the late branch still costs more to zero: pool4 is the costlier branch even when it "
                        "joins late.")
    return setup + "Here the seeds disagree, so the mirror does not settle whether a late branch is always cheaper."


MIRROR_CANNOT_SEPARATE: dict[str, str] = {
    "branch or join time": "whether a branch's cost to zero follows which branch it is or when it joins",
    "effect or noise": "whether the late branch's lower cost is real or seed-to-seed noise",
    "trained less or rest adapted": "whether the late branch costs less because its score layer trained less, or "
                                    "because the rest of the network learned to make the map without it",
}
"""Exercise 5, second part: which two explanations the study's arms cannot tell apart (the first part,
:func:`check_mirror_prediction`, asks which branch the mirror costs more to zero)."""
_LATE_ARMS = {"staged": "pool3", "joined_pool3": "pool3", "late_pool3": "pool3", "joined_pool4": "pool4"}
"""The study's arms in which one branch joins late, and which branch it is."""


def _switch_costs(record: Mapping[str, Any], arm: str) -> list[dict[str, float]]:
    """What zeroing each branch costs the final FCN-8s of one arm, in mean IoU, per seed (from the record)."""
    runs = record["results"]["runs"][arm]
    costs = []
    for seed in record["seeds"]:
        readout = runs[str(seed)]["fcn8s_readout"]
        full = readout["all on"]["mean_iou"]
        costs.append({branch: full - readout[f"{branch} off"]["mean_iou"] for branch in COSTLIER_CHOICES})
    return costs


def _summed_from(start: int, total: int) -> float:
    """fit's cosine schedule summed over steps ``start`` to ``total - 1``, in units of the peak rate."""
    return sum(0.5 * (1 + math.cos(math.pi * step / total)) for step in range(start, total))


def mirror_evidence(record: Mapping[str, Any]) -> dict[str, Any]:
    """What exercise 5 reads from the stored study: the late branch's cost to zero against the other branch's.

    Args:
        record: The ``fcn_staged_study`` record (``load_experiment("fcn_staged_study")``).

    Returns:
        ``late_cheaper`` and ``models`` (in how many of the late-branch models the late branch costs less to zero),
        ``smallest_gap`` (the smallest margin by which it does), ``mirror`` and ``once`` (the cost range per branch
        in the mirror and in the all-at-once arm), and ``summed`` (the summed learning rate of the mirror's late
        and other branch, in units of lr).
    """
    gaps = []
    for arm, late in _LATE_ARMS.items():
        other = COSTLIER_CHOICES[late == "pool4"]
        gaps += [costs[other] - costs[late] for costs in _switch_costs(record, arm)]
    ranges = {arm: {branch: (min(costs[branch] for costs in per_seed), max(costs[branch] for costs in per_seed))
                    for branch in COSTLIER_CHOICES}
              for arm, per_seed in (("mirror", _switch_costs(record, "joined_pool4")),
                                    ("once", _switch_costs(record, "all_at_once")))}
    total = record["settings"]["steps"]
    joins = {run["pool4_joined_at"]["step"] for run in record["results"]["runs"]["joined_pool4"].values()}
    return {"late_cheaper": sum(gap > 0 for gap in gaps), "models": len(gaps), "smallest_gap": min(gaps),
            **ranges,
            "summed": {"late": _summed_from(max(joins), total), "other": _summed_from(0, total)}}


def check_mirror_reading(answer: Any, record: Mapping[str, Any]) -> bool:
    """Check what the learner reads from the five arms after the mirror: which two explanations they cannot separate.

    Args:
        answer: ``{"cannot_separate": one of MIRROR_CANNOT_SEPARATE}``.
        record: The ``fcn_staged_study`` record (``load_experiment("fcn_staged_study")``).

    Returns:
        Whether the answer is right; a wrong one is told why it is not.
    """
    problem = _two_choice_problem(answer, {"cannot_separate": MIRROR_CANNOT_SEPARATE}, "answer")
    if problem is not None:
        return wrong(problem)
    seen = mirror_evidence(record)
    mirror = {branch: f"{low:.3f} to {high:.3f}" for branch, (low, high) in seen["mirror"].items()}
    late = f"{seen['late_cheaper']} of {seen['models']}"
    summed = f"{seen['summed']['late']:,.0f} x lr summed, against {seen['summed']['other']:,.0f} x lr"
    reasons = {
        "trained less or rest adapted": f"in every late-branch model the late branch's score layer both trained "
                                        f"least (in the mirror {summed} for the other branch) and joined a "
                                        "network that already worked without it; the two always come together "
                                        "here. A control that could separate them: a late branch given the other "
                                        "branch's summed learning rate (a higher rate after it joins), or a branch "
                                        "trained from the start at a rate low enough to sum to the late one's",
        "branch or join time": f"the mirror separates those: it swaps which branch joins late, and the cheaper "
                               f"branch swaps with it (the late branch is the cheaper one in {late} models)",
        "effect or noise": f"the late branch is the cheaper one to zero in {late} models "
                           f"({len(record['seeds'])} seeds per arm), by at least {seen['smallest_gap']:.3f} mean "
                           "IoU each time: not seed noise",
    }
    print(f"the late branch is the cheaper one to zero in {late} late-branch models; in the mirror, zeroing pool4 "
          f"costs {mirror['pool4']}, zeroing pool3 {mirror['pool3']}.")
    chosen = answer["cannot_separate"]
    if chosen == "trained less or rest adapted":
        return right(f'"cannot_separate": {reasons[chosen]}.')
    return wrong(f'"cannot_separate": {chosen!r} is not it: {reasons[chosen]}.')
