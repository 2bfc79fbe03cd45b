"""Lesson 08's exercise checks: outcomes measured from the model or the record, right and wrong answers."""

from __future__ import annotations

import copy
import re

import pytest
import torch

from segedu.analysis.fcn_stages import skip_branches_off
from segedu.course.exercises import lesson08
from segedu.training.metrics import boundary_band


def _scene(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(3, 32, 32, generator=generator)
    mask = torch.zeros(32, 32, dtype=torch.long)
    mask[8:20, 6:18] = 1
    mask[20:28, 18:30] = 3
    return image, mask


def test_switch_outcome_matches_a_direct_count(small_fcn) -> None:
    image, mask = _scene()
    model = small_fcn("8s")
    outcome = lesson08.switch_outcome(model, image, mask)
    band = boundary_band(mask[None], 2)[0]
    with torch.no_grad(), skip_branches_off(model, ("pool3",)):
        labels = model(image[None]).argmax(1)[0]
    expected = float((labels == mask)[band].float().mean())
    assert outcome["pool3 off"] == pytest.approx(expected)
    assert set(outcome) == {"all on", "pool4 off", "pool3 off", "both off"}


def test_switch_outcome_keeps_the_model_mode_and_refuses_a_batch(small_fcn) -> None:
    image, mask = _scene()
    model = small_fcn("8s").train()
    lesson08.switch_outcome(model, image, mask)
    assert model.training
    with pytest.raises(ValueError, match="one scene"):
        lesson08.switch_outcome(model, image[None], mask)


def _outcome_answer(model, image, mask) -> dict[str, str]:
    outcome = lesson08.switch_outcome(model, image, mask)
    lost = {branch: outcome["all on"] - outcome[f"{branch} off"] for branch in ("pool4", "pool3")}
    return {"costlier": max(lost, key=lost.__getitem__),
            "both_off_band": "more than half" if outcome["both off"] > 0.5 else "less than half"}


def test_switch_prediction_right_and_wrong(small_fcn, capsys: pytest.CaptureFixture[str]) -> None:
    image, mask = _scene()
    model = small_fcn("8s")
    answer = _outcome_answer(model, image, mask)
    assert lesson08.check_switch_prediction(answer, model, image, mask) is True
    assert "Correct!" in capsys.readouterr().out
    other = dict(answer, costlier="pool4" if answer["costlier"] == "pool3" else "pool3")
    assert lesson08.check_switch_prediction(other, model, image, mask) is True  # recorded, so it passes
    out = capsys.readouterr().out
    assert "Recorded; the result differs" in out and f"switching {answer['costlier']} off lowers" in out
    assert "share of band pixels right: all on" in out


@pytest.mark.parametrize("prediction", [..., {"costlier": "pool5", "both_off_band": "less than half"},
                                        {"costlier": "pool3"}, ["pool3", "less than half"]])
def test_switch_prediction_not_recorded(small_fcn, prediction, capsys: pytest.CaptureFixture[str]) -> None:
    image, mask = _scene()
    assert lesson08.check_switch_prediction(prediction, small_fcn("8s"), image, mask) is False
    assert "Not yet" in capsys.readouterr().out


def _readouts(pool4_costs: list[float], pool3_costs: list[float]) -> dict:
    return {str(seed): {"fcn8s_readout": {"all on": {"mean_iou": 0.8}, "pool4 off": {"mean_iou": 0.8 - four},
                                          "pool3 off": {"mean_iou": 0.8 - three}}}
            for seed, (four, three) in enumerate(zip(pool4_costs, pool3_costs))}


def _record(pool4_costs: list[float], pool3_costs: list[float], *,
            control: tuple[list[float], list[float]] | None = None) -> dict:
    """A small study record: the staged arm's switch costs, and control 1's (``late_pool3``) if given."""
    stages = {"fcn32s": {"steps": 2000, "lr": 0.003}, "fcn16s": {"steps": 1000, "lr": 0.0003},
              "fcn8s": {"steps": 1000, "lr": 0.0003}}
    runs = {seed: dict(run, stages=stages) for seed, run in _readouts(pool4_costs, pool3_costs).items()}
    control_runs = {seed: dict(run, pool3_held_at_zero={"steps": 3000, "lr": 0.003})
                    for seed, run in _readouts(*(control or (pool4_costs, pool3_costs))).items()}
    return {"seeds": list(range(len(pool4_costs))), "settings": {"lr": 0.003, "steps": 4000},
            "results": {"runs": {"staged": runs, "late_pool3": control_runs}}}


@pytest.mark.parametrize(("pool4", "pool3", "outcome"), [
    ([0.4, 0.45], [0.2, 0.3], "pool4"),
    ([0.1, 0.05], [0.6, 0.7], "pool3"),
    ([0.4, 0.05], [0.2, 0.7], "it differs between seeds"),
])
def test_staged_prediction_reads_the_record(pool4, pool3, outcome, capsys: pytest.CaptureFixture[str]) -> None:
    record = _record(pool4, pool3)
    assert lesson08.check_staged_prediction(outcome, record) is True
    assert "Correct!" in capsys.readouterr().out
    wrong = next(choice for choice in lesson08.STAGED_CHOICES if choice != outcome)
    assert lesson08.check_staged_prediction(wrong, record) is True
    assert f"the answer is {outcome}" in capsys.readouterr().out
    assert lesson08.check_staged_prediction("pool5", record) is False
    assert lesson08.check_staged_prediction(..., record) is False


def test_staged_prediction_on_the_shipped_record(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.experiments import load_experiment

    record = load_experiment("fcn_staged_study")
    assert lesson08.check_staged_prediction("pool4", copy.deepcopy(record)) is True
    assert "Correct!" in capsys.readouterr().out


def _shipped_record() -> dict:
    from segedu.course.experiments import load_experiment

    return copy.deepcopy(load_experiment("fcn_staged_study"))


def test_staged_prediction_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    record = _shipped_record()
    assert lesson08.check_staged_prediction("pool3", record) is True
    out = capsys.readouterr().out
    assert "Recorded; the result differs" in out and "Why the arms can differ" in out
    assert "2,000 steps at 0.003" in out and "only the last 1,000 at 0.0003" in out


def test_control_design_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson08.check_control_design("e") is True
    out = capsys.readouterr().out
    assert "Correct!" in out and "no FCN-32s stage is needed for the flip" in out
    assert all(f"{letter} would not:" in out for letter in "abcdfg")  # a right answer explains every candidate
    for letter in "abcdfg":
        assert lesson08.check_control_design(letter) is False
        out = capsys.readouterr().out
        assert out.startswith("Not yet:") and f"{letter}: " in out and "changes only one" in out
        assert not re.search(r"\be:", out) and "zero start" not in out  # a miss never names the control
    assert lesson08.check_control_design(...) is False
    assert "record your prediction first" in capsys.readouterr().out
    assert lesson08.check_control_design("z") is False
    assert "must be one of" in capsys.readouterr().out


def test_record_design_records_words_and_refuses_the_placeholder(capsys: pytest.CaptureFixture[str]) -> None:
    """The learner's own design is recorded, not graded; the placeholder (or no text) is not recorded."""
    design = "Keep pool3's late start; drop the FCN-32s and FCN-16s phases."
    assert lesson08.record_design(design) is True
    out = capsys.readouterr().out
    assert out.startswith("Recorded (not graded):") and design in out
    for placeholder in ("...", "", "   ", ..., None, 3):
        assert lesson08.record_design(placeholder) is False
        out = capsys.readouterr().out
        assert out.startswith("Not recorded yet (not graded)") and "Correct" not in out


def test_control_right_answer_names_the_restart_it_keeps(capsys: pytest.CaptureFixture[str]) -> None:
    """e drops the stages and keeps pool3's late training, and with it the restart at the join, the third difference."""
    assert lesson08.check_control_design("e") is True
    out = capsys.readouterr().out
    assert "drops the earlier stages" in out and "keeps pool3's late, short training" in out
    assert "third difference" in out and "does not test the restart" in out and "second control" in out
    assert "brought its rate to 0 there" in out  # its first phase's own schedule, as the staged FCN-16s stage's
    assert "itself a late join" not in out  # exercise 4's reasoning is told in exercise 4's feedback, not here


def test_control_tempting_distractor_says_both_causes_change(capsys: pytest.CaptureFixture[str]) -> None:
    """b drops the stages but also trains pool3's branch from the first step: it cannot separate the two."""
    assert lesson08.check_control_design("b") is False
    out = capsys.readouterr().out
    assert "from the first step, for all 4,000 steps" in out and "both candidate causes change together" in out


def test_control_look_alike_distractor_says_why_it_fails(capsys: pytest.CaptureFixture[str]) -> None:
    """g echoes pool3's step counts and keeps the stages, but grows the budget and keeps pool3's late start."""
    assert "3,000 steps" in lesson08.CONTROL_CHOICES["g"] and "staged recipe" in lesson08.CONTROL_CHOICES["g"]
    assert lesson08.check_control_design("g") is False
    out = capsys.readouterr().out
    assert "6,000 steps" in out and "still late start" in out and "Neither result points to one suspect" in out


def test_control_candidates_hold_the_study_and_the_distractors() -> None:
    """The right candidate is the one-change control; the distractors are the brief's alternatives."""
    choices = lesson08.CONTROL_CHOICES
    assert tuple(choices) == ("a", "b", "c", "d", "e", "f", "g")
    control = choices["e"]
    assert "all at once" in control and "score_pool3 frozen at zero for the first 3,000 steps" in control
    assert "then every layer at lr / 10" in control
    # not suspect 2's wording ("its score layer trains only in the last 1,000 steps, at a tenth of the rate")
    assert not any(words in control for words in ("last", "late", "short", "a tenth of the rate", "trains only",
                                                  "stage"))
    assert "all at once" in choices["b"] and "a tenth of the full rate" in choices["b"] and "throughout" in choices["b"]
    assert "staged recipe" in choices["a"] and "five more seeds" in choices["c"] and "switch pool4 off" in choices["f"]
    assert set(lesson08._CONTROL_WHY) == set(choices)


def test_control_twin_has_the_right_candidates_shape() -> None:
    """d is e's twin in form (pool4 frozen for the staged arm's first 2,000 steps): words alone cannot pick e."""
    twin, control = lesson08.CONTROL_CHOICES["d"], lesson08.CONTROL_CHOICES["e"]
    assert twin.replace("pool4", "pool3").replace("2,000", "3,000") == control
    assert abs(len(twin) - len(control)) <= 2


def test_control_twin_says_both_causes_change(capsys: pytest.CaptureFixture[str]) -> None:
    """d drops the FCN-32s stage but trains pool3's branch from the first step: both suspects change."""
    assert lesson08.check_control_design("d") is False
    out = capsys.readouterr().out
    assert "trains from the first step" in out and "Both suspects change together" in out


def test_control_candidates_do_not_give_the_answer_away_by_form() -> None:
    """Every candidate is one line of similar length: the right one is neither the longest nor far from the rest."""
    lengths = {letter: len(text) for letter, text in lesson08.CONTROL_CHOICES.items()}
    assert max(lengths.values()) <= 1.25 * min(lengths.values()), lengths
    assert lengths["e"] < max(lengths.values())
    assert sum(text.startswith("train FCN-8s all at once") for text in lesson08.CONTROL_CHOICES.values()) >= 3
    assert not any("\n" in text or ";" in text or "(" in text for text in lesson08.CONTROL_CHOICES.values())


def test_control_text_matches_the_stored_control() -> None:
    """The right candidate is what the stored control ran: pool3 held at zero until the staged last stage begins."""
    record = _shipped_record()
    runs, staged = record["results"]["runs"]["late_pool3"], record["results"]["runs"]["staged"]
    for seed, run in runs.items():
        stages = staged[seed]["stages"]
        assert run["pool3_held_at_zero"]["steps"] == stages["fcn32s"]["steps"] + stages["fcn16s"]["steps"]
        assert run["pool3_held_at_zero"]["steps"] + stages["fcn8s"]["steps"] == record["settings"]["steps"]
        assert stages["fcn8s"]["lr"] == pytest.approx(record["settings"]["lr"] / 10)
    assert "then every layer 25% at lr / 10" in record["settings"]["late_pool3"]  # as the staged last stage
    assert "new cosine schedule and optimizer" in record["settings"]["late_pool3"]


@pytest.mark.parametrize(("pool4", "pool3", "outcome"), [
    ([0.78, 0.71], [0.12, 0.16], "pool4"),
    ([0.05, 0.06], [0.6, 0.7], "pool3"),
    ([0.78, 0.05], [0.12, 0.7], "it differs between seeds"),
])
def test_control_prediction_reads_the_record(pool4, pool3, outcome, capsys: pytest.CaptureFixture[str]) -> None:
    record = _record([0.4, 0.45], [0.2, 0.3], control=(pool4, pool3))
    assert lesson08.check_control_prediction(outcome, record) is True
    out = capsys.readouterr().out
    assert "Correct!" in out and "Why it matters" in out
    wrong = next(choice for choice in lesson08.CONTROL_LEAN_CHOICES if choice != outcome)
    assert lesson08.check_control_prediction(wrong, record) is True  # recorded, so it passes
    out = capsys.readouterr().out
    assert "Recorded; the result differs" in out and f"the answer is {outcome}" in out
    assert lesson08._CONTROL_LEAN_MATTERS[outcome] in out  # what happened, and why it matters


def test_control_prediction_on_the_shipped_record(capsys: pytest.CaptureFixture[str]) -> None:
    record = _shipped_record()
    assert lesson08.check_control_prediction("pool4", record) is True
    out = capsys.readouterr().out
    assert "Correct!" in out and "a late pool3 branch is enough to flip which branch costs more to zero" in out
    assert "no FCN-32s stage is needed" in out and "itself a late join, one coarse-to-fine step" in out
    assert "has no FCN-32s stage" in out and "no coarse-to-fine" not in out
    assert "held at zero for 3,000 steps, then 1,000 steps at 0.0003" in out
    assert "its first 3,000 steps ran a cosine schedule of their own, down to 0 at the join" in out
    assert "drops that restart" in out
    assert "close to what one would expect" not in out and "not run" not in out
    assert "mirror, also stored" in out and "it leans on pool3 in every seed, and control 1 on pool4" in out
    assert lesson08.check_control_prediction("pool3", record) is True
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs: you predicted 'pool3'") and "the answer is pool4" in out


def test_control_prediction_reads_the_mirror_from_the_record(capsys: pytest.CaptureFixture[str]) -> None:
    """The mirror's lean (joined_pool4) is read from the record, and left out where the record has no mirror."""
    record = _record([0.4, 0.45], [0.2, 0.3], control=([0.78, 0.71], [0.12, 0.16]))
    assert lesson08.check_control_prediction("pool4", record) is True
    assert "mirror" not in capsys.readouterr().out
    joined = {"step": 3000, "lr": 0.00044}
    for lean_pool3, found in ((True, "it leans on pool3 in every seed, and control 1 on pool4: whichever branch "
                                     "joins late is the one the model leans on less when zeroed (partly built in: "
                                     "that branch starts at zero"),
                              (False, "it leans on pool4 in every seed.")):
        pool4, pool3 = ([0.01, 0.02], [0.8, 0.7]) if lean_pool3 else ([0.8, 0.7], [0.01, 0.02])
        record["results"]["runs"]["joined_pool4"] = {seed: dict(run, pool4_joined_at=joined)
                                                     for seed, run in _readouts(pool4, pool3).items()}
        assert lesson08.check_control_prediction("pool4", record) is True
        out = capsys.readouterr().out
        assert "mirror, also stored (pool4's output detached until step 3,000" in out and found in out
        assert lean_pool3 or "whichever" not in out


@pytest.mark.parametrize("prediction", [..., None, "pool5", "e"])
def test_control_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson08.check_control_prediction(prediction, _shipped_record()) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "Why it matters" not in out and "the answer is" not in out


def test_no_feedback_holds_a_placeholder(capsys: pytest.CaptureFixture[str]) -> None:
    record = _shipped_record()
    texts = [*lesson08.CONTROL_CHOICES.values(), *lesson08._CONTROL_WHY.values(),
             *lesson08._STAGED_MEANINGS.values(), lesson08._staged_why(record),
             *lesson08._CONTROL_LEAN_MEANINGS.values(), *lesson08._CONTROL_LEAN_MATTERS.values()]
    for choice in (*lesson08.CONTROL_CHOICES, ...):
        lesson08.check_control_design(choice)
    for prediction in lesson08.STAGED_CHOICES:
        lesson08.check_staged_prediction(prediction, record)
    for prediction in lesson08.CONTROL_LEAN_CHOICES:
        lesson08.check_control_prediction(prediction, record)
    texts.append(capsys.readouterr().out)
    assert not any("XX" in text for text in texts)
    assert "0.003; pool4's score layer then trained 2,000 steps at 0.0003" in lesson08._staged_why(record)
