"""Lesson 08's exercise checks: outcomes measured from the model or the record, right and wrong answers."""

from __future__ import annotations

import copy

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
    """A small study record: the staged arm's switch costs, and control 1's (``joined_pool3``) if given."""
    stages = {"fcn32s": {"steps": 2000, "lr": 0.003}, "fcn16s": {"steps": 1000, "lr": 0.0003},
              "fcn8s": {"steps": 1000, "lr": 0.0003}}
    runs = {seed: dict(run, stages=stages) for seed, run in _readouts(pool4_costs, pool3_costs).items()}
    control_runs = {seed: dict(run, pool3_joined_at={"step": 3000, "lr": 0.00044})
                    for seed, run in _readouts(*(control or (pool4_costs, pool3_costs))).items()}
    once_runs = _readouts([0.05] * len(pool4_costs), [0.65] * len(pool4_costs))  # the all-at-once arm
    return {"seeds": list(range(len(pool4_costs))), "settings": {"lr": 0.003, "steps": 4000},
            "results": {"runs": {"staged": runs, "joined_pool3": control_runs, "all_at_once": once_runs}}}


def _three_seed_record() -> dict:
    from segedu.course.experiments import load_experiment

    return copy.deepcopy(load_experiment("fcn_staged_study"))


def _shipped_record() -> dict:
    """The study as the lesson reads it: fcn_staged_study (seeds 0-2, five arms) joined with
    fcn_staged_study_moreseeds (seeds 3-5 of all_at_once, joined_pool3 and joined_pool4) by merge_runs."""
    from segedu.course.experiments import load_experiment, merge_runs

    first, more = _three_seed_record(), copy.deepcopy(load_experiment("fcn_staged_study_moreseeds"))
    return dict(first, seeds=sorted({*first["seeds"], *more["seeds"]}), results={"runs": merge_runs([first, more])})


def _design(**changes) -> dict:
    """Exercise 3's right design, with some settings changed (keyword: the setting with spaces as underscores)."""
    design = {lesson08.DESIGN_IN_ONE_LINE: "all at once, but pool3 joins at 3,000", lesson08.FLIP_PREDICTION: "yes",
              **lesson08._CONTROL_RIGHT}
    names = {setting.replace(" ", "_").replace("'", ""): setting for setting in design}
    design.update({names[key]: value for key, value in changes.items()})
    return design


def test_control_design_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    right_design = {"in one line": "all at once except pool3's join", "flips": "no", "pool3 joins at step": 3000, "pool4 joins at step": 0,
                    "every layer at pool3's join": "keeps its schedule",
                    "pool3's rate once joined": "as the other layers"}
    assert lesson08.check_control_design(right_design) is True
    out = capsys.readouterr().out
    assert out.startswith('your design: "all at once except pool3\'s join"\nCorrect!') and "only in when pool3's branch joins" in out and "trains far less" not in out
    assert "last 1,000 steps" not in out and "already lowered" not in out  # exercise 3 predicts what this would give away
    assert "two things that come together, when pool3 starts and how long it trains: it tells" in out and "in one setting only" not in out and "no earlier stage is needed" in out
    assert "separate question" in out and "late_pool3" not in out  # the restart: named, the record's arm not read
    assert 'Your prediction ("flips": "no") is recorded, not graded: exercise 3 and the table after it answer it.' in out
    assert lesson08.check_control_design(dict(right_design, **{"pool3 joins at step": "3,000"})) is True
    capsys.readouterr()
    wrong_design = dict(right_design, **{"every layer at pool3's join": "restarts at lr / 10"})
    assert lesson08.check_control_design(wrong_design) is False
    out = capsys.readouterr().out
    assert out.startswith('your design: "all at once except pool3\'s join"\nNot yet: the design is not yet the '
                          "control this question needs.")
    assert "all-at-once" not in out and "staged" not in out  # the principle only: no arm named
    assert "Change only the suspect" in out and "Correct" not in out


@pytest.mark.parametrize("design", [..., None, "d", {}, {setting: ... for setting in lesson08.CONTROL_SETTINGS}])
def test_control_design_must_be_filled_in_first(design, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson08.check_control_design(design) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and ("fill in" in out or "choose one of" in out) and "isolate" not in out


def test_control_design_refuses_values_and_settings_not_offered(capsys: pytest.CaptureFixture[str]) -> None:
    for design in (_design(pool3_joins_at_step=2500), _design(pool4_joins_at_step=False),
                   _design(pool3s_rate_once_joined="a half")):
        assert lesson08.check_control_design(design) is False
        assert "is not allowed: choose one of" in capsys.readouterr().out
    assert lesson08.check_control_design(dict(_design(), pool5=0)) is False
    assert "'pool5' is not a setting" in capsys.readouterr().out


@pytest.mark.parametrize("changes", [
    {"pool3_joins_at_step": 0}, {"pool3_joins_at_step": 2000, "pool4_joins_at_step": 1000}, {"pool4_joins_at_step": 3000},
    {"every_layer_at_pool3s_join": "restarts at lr"}, {"pool3s_rate_once_joined": "a tenth of theirs"},
    {"pool4_joins_at_step": 2000, "every_layer_at_pool3s_join": "restarts at lr / 10"},
])
def test_any_wrong_design_gets_the_principle_only(changes, capsys: pytest.CaptureFixture[str]) -> None:
    """However many settings are off, the feedback is the same principle: no count and no setting named, so a
    learner cannot find the answer by changing one setting at a time."""
    assert lesson08.check_control_design(_design(**changes)) is False
    out = capsys.readouterr().out
    assert out == ('your design: "all at once, but pool3 joins at 3,000"\n'
                   f"Not yet: the design is not yet the control this question needs. {lesson08._CONTROL_PRINCIPLE}\n")
    for giveaway in ("of the 4 settings", *(f'"{setting}"' for setting in lesson08.CONTROL_SETTINGS),
                     "one thing only", "does not isolate"):
        assert giveaway not in out


@pytest.mark.parametrize("changes", [{}, {"pool4_joins_at_step": 3000}])
def test_ten_times_the_rate_is_told_why_it_is_a_second_change(changes, capsys: pytest.CaptureFixture[str]) -> None:
    """Pool3 at ten times the others' rate tries to make up for the training a late join takes away: it gets its own
    feedback (it changes a second thing, pool3's rate, as run B does), whatever the other settings, and
    still does not pass."""
    assert lesson08.check_control_design(_design(pool3s_rate_once_joined="ten times theirs", **changes)) is False
    out = capsys.readouterr().out
    assert "Not yet: pool3 at ten times the other layers' rate would make up part of the training" in out
    assert "and it changes a second thing, pool3's rate" in out and "run B, later in section 4" in out
    assert "Change only the suspect" in out and "Correct" not in out
    for giveaway in ('"pool4 joins at step"', "all-at-once", "staged"):
        assert giveaway not in out


@pytest.mark.parametrize("pool4_join", [2000, "2,000"])
def test_the_staged_join_steps_are_told_why_they_ask_another_question(pool4_join, capsys: pytest.CaptureFixture[str]) -> None:
    """pool4 at 2,000 and pool3 at 3,000 (the staged recipe's joins, without its restarts) is a fair run of another
    question: it holds pool4 back too, so it cannot say whether holding pool3 back is enough; it does not pass."""
    assert lesson08.check_control_design(_design(pool4_joins_at_step=pool4_join)) is False
    out = capsys.readouterr().out
    assert "Not yet: pool4 at step 2,000 and pool3 at step 3,000 are the staged recipe's join steps" in out
    assert "a different question" in out and "holds pool4 back too" in out
    assert "Change only the suspect" in out and "Correct" not in out
    assert lesson08.check_control_design(_design(pool4_joins_at_step=2000, pool3_joins_at_step=2000)) is False
    assert "a different question" not in capsys.readouterr().out  # other join steps: the principle only


@pytest.mark.parametrize("pool3_join", [1000, 2000, "2,000"])
def test_an_earlier_hold_back_of_pool3_is_right_too(pool3_join, capsys: pytest.CaptureFixture[str]) -> None:
    """pool3 held back until step 1,000 or 2,000, every other setting the control's, tests the same thing: it passes,
    and the feedback says that the stored control uses 3,000, the staged recipe's join."""
    assert lesson08.check_control_design(_design(pool3_joins_at_step=pool3_join)) is True
    out = capsys.readouterr().out
    step = f"{int(str(pool3_join).replace(',', '')):,}"
    assert f"Correct! pool3 held back until step {step} tests the same thing" in out
    assert "The stored control, below, uses step 3,000, the staged recipe's join" in out
    assert 'Your prediction ("flips": "yes") is recorded, not graded' in out
    assert lesson08.check_control_design(_design(pool3_joins_at_step=pool3_join, pool4_joins_at_step=2000)) is False
    assert "Change only the suspect" in capsys.readouterr().out


def test_the_right_design_is_among_the_offered_values() -> None:
    for setting, values in lesson08.CONTROL_SETTINGS.items():
        assert lesson08._CONTROL_RIGHT[setting] in values


def test_control_design_matches_the_stored_controls() -> None:
    """The right design is what joined_pool3 ran: pool3 joining where the staged arm's last stage began, one Adam
    optimizer and one cosine schedule; the staged arm's restart at lr / 10 is late_pool3, which the lesson does not read."""
    record = _shipped_record()
    staged = record["results"]["runs"]["staged"]
    for seed, run in record["results"]["runs"]["joined_pool3"].items():
        stages = staged[seed if seed in staged else "0"]["stages"]  # the staged arm ran seeds 0-2 only
        assert run["pool3_joined_at"]["step"] == stages["fcn32s"]["steps"] + stages["fcn16s"]["steps"]
        assert run["pool3_joined_at"]["step"] == lesson08._CONTROL_RIGHT["pool3 joins at step"]
    assert "one Adam optimizer and one cosine schedule over all the steps" in record["settings"]["joined_pool3"]
    assert "score_pool3's output detached" in record["settings"]["joined_pool3"]
    for run in record["results"]["runs"]["late_pool3"].values():
        assert run["pool3_held_at_zero"]["steps"] == 3000
    assert "then every layer 25% at lr / 10" in record["settings"]["late_pool3"]
    assert "new cosine schedule and optimizer" in record["settings"]["late_pool3"]


@pytest.mark.parametrize(("pool3", "outcome"), [
    ([0.12, 0.16, 0.10], "under 0.15"),
    ([0.14, 0.16, 0.17], "0.15-0.4"),  # the seed mean decides: 0.157, though one seed is under 0.15
    ([0.15, 0.15, 0.15], "0.15-0.4"),
    ([0.45, 0.50, 0.38], "over 0.4"),
])
def test_control_prediction_reads_the_record(pool3, outcome, capsys: pytest.CaptureFixture[str]) -> None:
    record = _record([0.4, 0.45, 0.42], [0.2, 0.3, 0.25], control=([0.7, 0.7, 0.7], pool3))
    assert lesson08.check_control_prediction(outcome, record) is True
    out = capsys.readouterr().out
    assert out.startswith("Correct! the control loses") and f"the answer is {outcome}" in out and "Why:" in out
    assert lesson08._CONTROL_LOSS_MATTERS[outcome] in out and "zeroing it costs 0.65 to 0.65" in out
    wrong = next(choice for choice in lesson08.CONTROL_LOSS_CHOICES if choice != outcome)
    assert lesson08.check_control_prediction(wrong, record) is True  # recorded, so it passes
    out = capsys.readouterr().out
    assert out.startswith(f"Recorded; the result differs: you predicted {wrong!r}")
    assert f"the answer is {outcome}" in out
    assert lesson08._CONTROL_LOSS_MATTERS[outcome] in out  # what happened, and why


def test_control_prediction_on_the_shipped_record(capsys: pytest.CaptureFixture[str]) -> None:
    record = _shipped_record()
    assert lesson08.check_control_prediction("under 0.15", record) is True
    out = capsys.readouterr().out
    assert "Correct! the control loses 0.071 to 0.118 with pool3 zeroed (mean 0.097 over 6 seeds)" in out
    assert "zeroing it costs 0.61 to 0.77" in out and "optional part" not in out and "FCN-16s" not in out
    assert "runs A and B (below) each keep one of the two" in out
    assert "learned to make the map without it" not in out  # exercise 5's question, not told here
    assert "section 4 reads what FCN-8s scores when trained without" not in out
    assert "0.77. A branch that joins" in out  # sentences start with a capital
    assert "in when pool3 joins and, with it, in how much learning rate pool3 sums" in out and "held at zero until step 3,000" in out
    assert "(0.00044, against 0.003 at the start)" in out
    assert lesson08.check_control_prediction("over 0.4", record) is True
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs: you predicted 'over 0.4'")
    assert "the answer is under 0.15" in out


def test_control_prediction_says_nothing_of_the_mirror(capsys: pytest.CaptureFixture[str]) -> None:
    """Exercise 3's feedback reports neither the mirror (joined_pool4, in the record but not in the lesson) nor what
    zeroing pool4 costs the control (the table's first news)."""
    record = _shipped_record()
    assert "joined_pool4" in record["results"]["runs"]
    for prediction in lesson08.CONTROL_LOSS_CHOICES:
        assert lesson08.check_control_prediction(prediction, record) is True
        out = capsys.readouterr().out
        assert "mirror" not in out and "pool4's output detached" not in out and "pool4 zeroed" not in out


@pytest.mark.parametrize("prediction", [..., None, "pool4", 0.1, "under 0.1"])
def test_control_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson08.check_control_prediction(prediction, _shipped_record()) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "Why:" not in out and "the answer is" not in out


def test_no_feedback_holds_a_placeholder(capsys: pytest.CaptureFixture[str]) -> None:
    record = _shipped_record()
    texts = [lesson08._CONTROL_RIGHT_WHY, lesson08._CONTROL_PRINCIPLE,
             *lesson08._CONTROL_LOSS_MEANINGS.values(), *lesson08._CONTROL_LOSS_MATTERS.values()]
    for design in (_design(), _design(pool3_joins_at_step=0), ...):
        lesson08.check_control_design(design)
    for prediction in lesson08.CONTROL_LOSS_CHOICES:
        lesson08.check_control_prediction(prediction, record)
    texts.append(capsys.readouterr().out)
    assert not any("XX" in text for text in texts)


def test_checks_read_each_arm_over_its_own_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    """Joined records hold six seeds of three arms and three of the others: each arm is read over the seeds it ran."""
    joined, three = _shipped_record(), _three_seed_record()
    assert [len(joined["results"]["runs"][arm]) for arm in ("all_at_once", "joined_pool3", "joined_pool4",
                                                            "staged", "late_pool3")] == [6, 6, 6, 3, 3]
    assert lesson08.check_control_prediction("under 0.15", three) is True  # seeds 0-2 alone: the old numbers
    assert "0.071 to 0.105 with pool3 zeroed (mean 0.089 over 3 seeds)" in capsys.readouterr().out


def test_wrong_design_feedback_states_only_the_principle(capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong design is told the principle (change only the suspect) and why, without naming which arm to copy."""
    assert lesson08.check_control_design(_design(every_layer_at_pool3s_join="restarts at lr / 10")) is False
    out = capsys.readouterr().out
    assert "Change only the suspect" in out and "Why:" in out and "whether holding pool3 back is enough" in out
    for giveaway in ("all-at-once", "all at once", "staged", "in stages", "keep every other setting"):
        assert giveaway not in lesson08._CONTROL_PRINCIPLE


def test_right_design_says_why_pool3s_rate_matches() -> None:
    """Exercise 3's table no longer lists pool3's rate: the right design's feedback says why it is the others' rate."""
    assert "so pool3, once joined, trains at the other layers' rate, not a tenth of it" in lesson08._CONTROL_RIGHT_WHY
    assert "it tells whether a held-back pool3 flips the costs, not which of the two does it" in lesson08._CONTROL_RIGHT_WHY


def test_control_design_names_the_restart_as_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    """The lesson no longer reads the record's fifth arm (the control with the staged restart): the right design's
    feedback names the restart as a separate question this control leaves out, and points to no aside."""
    assert lesson08.check_control_design(_design()) is True
    out = capsys.readouterr().out
    assert "restart at lr / 10 is a separate question, which this control leaves out" in out
    assert "aside" not in out


@pytest.mark.parametrize("line", [..., None, "", "   ", 3, ["pool3 late"]])
def test_control_design_asks_for_a_line_first(line, capsys: pytest.CaptureFixture[str]) -> None:
    """Exercise 3 asks for the learner's own one-line design before the settings: without it even the right
    settings do not pass, and nothing about the settings is said."""
    design = {**_design(), lesson08.DESIGN_IN_ONE_LINE: line}
    assert lesson08.check_control_design(design) is False
    out = capsys.readouterr().out
    assert out.startswith('Not yet: "in one line":') and "Correct!" not in out and "all-at-once recipe" not in out
    assert lesson08.check_control_design(dict(lesson08._CONTROL_RIGHT)) is False
    assert capsys.readouterr().out.startswith('Not yet: "in one line": fill in your design in your own words first')


def test_the_graded_cell_reads_the_design_without_the_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    """The solution leaves "flips" out (the learner's own call, not the key): the graded cell passes
    ask_prediction=False, so the right settings pass and the feedback echoes no prediction; wrong settings still fail,
    and by default the prediction is still asked for."""
    design = {key: value for key, value in _design().items() if key != lesson08.FLIP_PREDICTION}
    assert lesson08.check_control_design(design, ask_prediction=False) is True
    out = capsys.readouterr().out
    assert "Correct!" in out and "Your prediction" not in out
    assert lesson08.check_control_design(dict(design, **{"pool4 joins at step": 3000}), ask_prediction=False) is False
    assert "Change only the suspect" in capsys.readouterr().out
    assert lesson08.check_control_design(design) is False
    assert "record your prediction first" in capsys.readouterr().out


@pytest.mark.parametrize("flips", [..., None, "", "maybe", True])
def test_control_design_asks_for_the_prediction_before_the_settings(flips, capsys: pytest.CaptureFixture[str]) -> None:
    """Exercise 2 records a prediction ("flips": "yes" or "no") before the settings are read: without it even the
    right settings do not pass; with either value they do, and the feedback says where the answer comes."""
    design = {**_design(), lesson08.FLIP_PREDICTION: flips}
    assert lesson08.check_control_design(design) is False
    out = capsys.readouterr().out
    assert 'Not yet: "flips": record your prediction first, "yes" or "no"' in out and "Correct!" not in out
    assert lesson08.check_control_design({key: value for key, value in design.items() if key != "flips"}) is False
    assert "record your prediction first" in capsys.readouterr().out
    for value in lesson08.FLIP_CHOICES:  # recorded, not graded
        assert lesson08.check_control_design(_design(flips=value)) is True
        assert f'("flips": "{value}") is recorded, not graded' in capsys.readouterr().out
        assert lesson08.check_control_design(_design(flips=value, pool4_joins_at_step=3000)) is False
        assert "Change only the suspect" in capsys.readouterr().out


def test_control_design_echoes_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    """The line is echoed back (spaces tidied), right settings or wrong; it is required, never graded."""
    for design, passes in ((_design(), True), (_design(pool3s_rate_once_joined="a tenth of theirs"), False)):
        design[lesson08.DESIGN_IN_ONE_LINE] = "  pool3\n late "
        assert lesson08.check_control_design(design) is passes
        out = capsys.readouterr().out
        assert out.startswith('your design: "pool3 late"\n') and out.count("Correct!") == int(passes)


def test_no_control_setting_names_the_summed_rate() -> None:
    """No offered value of exercise 2 (the design) names the summed learning rate, and none points at a run that
    evens it (run A or run B, which section 4 reads after the control)."""
    assert not any("summed" in str(value) for values in lesson08.CONTROL_SETTINGS.values() for value in values)
    assert "ten times theirs" in lesson08.CONTROL_SETTINGS["pool3's rate once joined"]
    assert "not a tenth of it nor ten times it, either of which would be a second difference" in lesson08._CONTROL_RIGHT_WHY


def test_zeroing_hook_right_and_wrong(small_fcn, capsys: pytest.CaptureFixture[str]) -> None:
    """Exercise 1's hook is checked against skip_branches_off; a miss says why, and no weight changes either way."""
    image, _ = _scene()
    model = small_fcn("8s")
    with torch.no_grad():  # a trained score layer has a bias; the tiny model's starts at zero
        for layer in (model.score_pool4, model.score_pool3):
            layer.bias.fill_(0.5)
    before = copy.deepcopy(model.state_dict())
    assert lesson08.check_zeroing_hook(lambda module, inputs, output: torch.zeros_like(output), model, image) is True
    out = capsys.readouterr().out
    assert "Correct!" in out and "returned None would leave the layer's output as it was" in out and "bias" in out
    keeps_bias = lambda module, inputs, output: output * 0 + module.bias.view(1, -1, 1, 1)  # noqa: E731
    assert lesson08.check_zeroing_hook(keeps_bias, model, image) is False
    assert "bias" in capsys.readouterr().out
    assert lesson08.check_zeroing_hook(lambda module, inputs, output: None, model, image) is False
    assert "leaves the layer's output as it was" in capsys.readouterr().out
    assert lesson08.check_zeroing_hook(lambda module, inputs, output: torch.zeros(1), model, image) is False
    assert "keep the output's shape" in capsys.readouterr().out
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items())


@pytest.mark.parametrize("hook", [..., None, lambda module, inputs, output: ...])
def test_zeroing_hook_must_be_written_first(small_fcn, hook, capsys: pytest.CaptureFixture[str]) -> None:
    image, _ = _scene()
    assert lesson08.check_zeroing_hook(hook, small_fcn("8s"), image) is False
    assert capsys.readouterr().out.startswith("Not yet:")


def _with_runs_a_and_b() -> dict:
    """The study as exercise 4 reads it: the shipped record with runs A (slow_pool3) and B (fast_pool3) merged in."""
    from segedu.course.experiments import load_experiment, merge_runs

    record = _shipped_record()
    runs = merge_runs([load_experiment("fcn_staged_study_runa"), load_experiment("fcn_staged_study_runb")])
    return dict(record, results={"runs": {**record["results"]["runs"], **runs}})


def _late(costlier: str, seeds: str, why: str = "pool3 trains as much, only later") -> dict:
    return {"costlier": costlier, "seeds": seeds, "why": why}


def test_late_join_prediction_right_and_wrong_on_the_shipped_record(capsys: pytest.CaptureFixture[str]) -> None:
    """Exercise 4 passes once recorded; the feedback reads run B and the control from the record."""
    record = _with_runs_a_and_b()
    assert lesson08.check_late_join_prediction(_late("pool4", "6 of 6"), record) is True
    out = capsys.readouterr().out
    assert out.startswith('your reason: "pool3 trains as much, only later"\nCorrect! zeroing pool4 costs run B '
                          "0.465-0.521, zeroing pool3 0.203-0.265: the costlier branch is pool4, in 6 of 6 seeds.")
    assert "at 40 times the other layers' rate (about 6 × lr at its join)" in out
    assert "its summed learning rate is 1,997 × lr, against 2,000 × lr for pool4" in out
    assert "still left pool3 the cheaper to zero; zeroing pool3 costs the control, whose pool3 also trains less, 0.071-0.118" in out
    assert "a late start at 40 times the rate, with the summed rate made up, still left" in out  # not the late start alone
    for wrong in (_late("pool3", "6 of 6"), _late("pool4", "4-5 of 6"), _late("pool4", "3 or fewer")):
        assert lesson08.check_late_join_prediction(wrong, record) is True  # recorded, so it passes
        out = capsys.readouterr().out
        assert "Recorded; the result differs: you predicted" in out and "the costlier branch is pool4, in 6 of 6" in out


def test_late_join_prediction_reads_the_record(capsys: pytest.CaptureFixture[str]) -> None:
    """With run B's costs swapped in the record, the same answers flip: the checker computes, it types nothing in."""
    record = copy.deepcopy(_with_runs_a_and_b())
    for index, run in enumerate(record["results"]["runs"]["fast_pool3"].values()):
        readout = run["fcn8s_readout"]
        readout["pool4 off"], readout["pool3 off"] = readout["pool3 off"], readout["pool4 off"]
        if index == 0:  # one seed back as it was: pool3 the costlier in 5 of 6
            readout["pool4 off"], readout["pool3 off"] = readout["pool3 off"], readout["pool4 off"]
    assert lesson08.check_late_join_prediction(_late("pool3", "4-5 of 6"), record) is True
    out = capsys.readouterr().out
    assert "Correct!" in out and "the costlier branch is pool3, in 5 of 6 seeds" in out and "did not leave pool3 the cheaper" in out
    assert lesson08.check_late_join_prediction(_late("pool4", "6 of 6"), record) is True
    assert "Recorded; the result differs" in capsys.readouterr().out


def test_late_join_prompt_and_feedback_hold_no_placeholder(capsys: pytest.CaptureFixture[str]) -> None:
    record = _with_runs_a_and_b()
    for costlier in lesson08.COSTLIER_CHOICES:
        for seeds in lesson08.SEED_COUNT_CHOICES:
            lesson08.check_late_join_prediction(_late(costlier, seeds), record)
    assert "XX" not in capsys.readouterr().out


@pytest.mark.parametrize("prediction", [..., None, {"costlier": "pool3"}, _late("pool5", "6 of 6"), _late("pool4", "6"),
                                        _late("pool4", "6 of 6", why=...), _late("pool4", "6 of 6", why="  ")])
def test_late_join_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson08.check_late_join_prediction(prediction, _with_runs_a_and_b()) is False
    out = capsys.readouterr().out
    assert "Not yet:" in out and "costs run B" not in out
