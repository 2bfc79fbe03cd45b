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
    assert "Recorded; the result differs" in out and f"switching {answer['costlier']} off costs" in out


@pytest.mark.parametrize("prediction", [..., {"costlier": "pool5", "both_off_band": "less than half"},
                                        {"costlier": "pool3"}, ["pool3", "less than half"]])
def test_switch_prediction_not_recorded(small_fcn, prediction, capsys: pytest.CaptureFixture[str]) -> None:
    image, mask = _scene()
    assert lesson08.check_switch_prediction(prediction, small_fcn("8s"), image, mask) is False
    assert "Not yet" in capsys.readouterr().out


def _record(pool4_costs: list[float], pool3_costs: list[float]) -> dict:
    stages = {"fcn32s": {"steps": 2000, "lr": 0.003}, "fcn16s": {"steps": 1000, "lr": 0.0003},
              "fcn8s": {"steps": 1000, "lr": 0.0003}}
    runs = {str(seed): {"fcn8s_readout": {"all on": {"mean_iou": 0.8}, "pool4 off": {"mean_iou": 0.8 - four},
                                          "pool3 off": {"mean_iou": 0.8 - three}}, "stages": stages}
            for seed, (four, three) in enumerate(zip(pool4_costs, pool3_costs))}
    return {"seeds": list(range(len(pool4_costs))), "settings": {"lr": 0.003, "steps": 4000},
            "results": {"runs": {"staged": runs}}}


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


def test_ablation_statements(capsys: pytest.CaptureFixture[str]) -> None:
    record = _shipped_record()
    assert lesson08.check_ablation_statements({"c"}, record) is True
    out = capsys.readouterr().out
    assert "Correct!" in out and all(f"{letter} is" in out for letter in "abcde")
    assert "seed 0: gain +0.247, cost 0.405" in out  # statement d is read from the record
    assert lesson08.check_ablation_statements("c", record) is True
    capsys.readouterr()
    assert lesson08.check_ablation_statements({"a", "c"}, record) is False
    out = capsys.readouterr().out
    assert "1 of the 5 letters is wrong" in out
    assert " is true" not in out and " is false" not in out and "0.405" not in out  # no verdicts, no numbers
    assert all(f"{letter}: " in out for letter in "abcde")
    assert lesson08.check_ablation_statements({"a", "b", "d", "e"}, record) is False
    assert "5 of the 5 letters are wrong" in capsys.readouterr().out
    assert lesson08.check_ablation_statements(..., record) is False
    assert lesson08.check_ablation_statements({"z"}, record) is False
    assert "not among the statements" in capsys.readouterr().out


def test_ablation_statement_d_follows_the_record(capsys: pytest.CaptureFixture[str]) -> None:
    """Were the switch cost equal to the stage's gain, d would be true and the answer would change."""
    record = _shipped_record()
    for run in record["results"]["runs"]["staged"].values():
        gain = run["stages"]["fcn16s"]["test"]["mean_iou"] - run["stages"]["fcn32s"]["test"]["mean_iou"]
        run["fcn8s_readout"]["pool4 off"]["mean_iou"] = run["fcn8s_readout"]["all on"]["mean_iou"] - gain
    assert lesson08.check_ablation_statements({"c", "d"}, record) is True
    assert "d is true" in capsys.readouterr().out
    assert lesson08.check_ablation_statements({"c"}, record) is False


def test_hints_point_at_the_right_sections() -> None:
    questions = lesson08._ABLATION_QUESTIONS
    assert "section 4" in questions["d"] and "section 2" in questions["a"]
    assert "section 3" not in questions["b"] and "Section 4" in questions["b"]


def test_statement_c_scales_the_weight_term_not_the_bias(capsys: pytest.CaptureFixture[str]) -> None:
    """c is true only of the weight term: a biased 1 x 1 convolution's bias and its gradient are not scaled."""
    statement = lesson08.ABLATION_STATEMENTS["c"]
    assert "weight term W x" in statement and "so is the branch's output" not in statement
    conv = torch.nn.Conv2d(3, 2, 1)
    torch.nn.init.constant_(conv.bias, 0.5)
    features = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    outputs, gradients = [], []
    for scale in (1.0, 1e-4):
        conv.zero_grad()
        output = conv(scale * features)
        output.sum().backward()
        outputs.append(output.detach() - conv.bias.detach()[None, :, None, None])  # the weight term W x
        gradients.append((conv.weight.grad.clone(), conv.bias.grad.clone()))
    torch.testing.assert_close(outputs[1], 1e-4 * outputs[0])  # the weight term is 10,000 times smaller
    torch.testing.assert_close(gradients[1][0], 1e-4 * gradients[0][0])  # and so is the weights' gradient
    torch.testing.assert_close(gradients[1][1], gradients[0][1])  # the bias's gradient is not
    lesson08.check_ablation_statements({"c"}, _shipped_record())
    out = capsys.readouterr().out
    assert "Its bias is not scaled" in out and "per-class constant" in out
    lesson08.check_ablation_statements({"a", "c"}, _shipped_record())
    out = capsys.readouterr().out
    assert "none turns on wording" not in out and "where does it not?" in out


def test_no_feedback_holds_a_placeholder(capsys: pytest.CaptureFixture[str]) -> None:
    record = _shipped_record()
    texts = [*lesson08.ABLATION_STATEMENTS.values(), *lesson08._ABLATION_REASONS.values(),
             *lesson08._ABLATION_QUESTIONS.values(), *lesson08._STAGED_MEANINGS.values(), lesson08._staged_why(record)]
    for prediction in ({"c"}, {"a"}, ...):
        lesson08.check_ablation_statements(prediction, record)
    for prediction in lesson08.STAGED_CHOICES:
        lesson08.check_staged_prediction(prediction, record)
    texts.append(capsys.readouterr().out)
    assert not any("XX" in text for text in texts)
    assert "0.003; pool4's score layer then trained 2,000 steps at 0.0003" in lesson08._staged_why(record)
