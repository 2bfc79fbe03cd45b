"""Each lesson-12 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

import pytest
import torch

from segedu.course.exercises.lesson13 import (
    RATE_OUTCOMES,
    check_gradient_ratio,
    check_rate_prediction,
    check_validation_mean_iou,
    classify_rate_run,
)
from segedu.training.evaluation import evaluate
from segedu.training.metrics import confusion_matrix, mean_iou


@pytest.mark.parametrize("prediction", [2, 2.0, 2.01])
def test_gradient_ratio_right(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_gradient_ratio(prediction, 2.0) is True
    out = capsys.readouterr().out
    assert "measured: after the second backward(), .grad is 2.000 times" in out
    assert "Correct!" in out and "adds its gradient to what .grad holds" in out and "accumulation" in out


@pytest.mark.parametrize(("prediction", "reason"), [(1, "replaced .grad"), (0, "cleared .grad"),
                                                    (0.5, "does not average"), (4, "replace, average or add")])
def test_gradient_ratio_wrong_answers_say_why(prediction, reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_gradient_ratio(prediction, 2.0) is False
    out = capsys.readouterr().out
    assert "Not yet:" in out and reason in out


def test_gradient_ratio_compares_with_the_measurement(capsys: pytest.CaptureFixture[str]) -> None:
    """The verdict follows the number measured in the lesson, not a number stored in the checker."""
    assert check_gradient_ratio(2, 1.0) is False
    assert check_gradient_ratio(1, 1.0) is True
    capsys.readouterr()
    assert check_gradient_ratio(2, float("nan")) is False
    assert "pass the measured ratio" in capsys.readouterr().out


@pytest.mark.parametrize("prediction", [..., None, "two", True])
def test_gradient_ratio_must_be_a_recorded_number(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_gradient_ratio(prediction, 2.0) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "number" in out and "measured" not in out  # nothing shown before a prediction


def test_backward_adds_to_grad_so_the_ratio_is_two() -> None:
    """The right answer is torch's behaviour: two backward calls leave the sum of both gradients."""
    weight = torch.tensor([1.0, -2.0], requires_grad=True)
    (weight**2).sum().backward()  # gradient 2w
    once = weight.grad.clone()
    (weight**2).sum().backward()  # the same gradient again, no zero_grad in between
    assert torch.equal(weight.grad, 2 * once)
    (3 * weight).sum().backward()  # another gradient: it adds too
    assert torch.equal(weight.grad, 2 * once + 3)


def test_classify_rate_run_names_each_outcome() -> None:
    flat = [1.2] * 9
    assert classify_rate_run([1.29, 19.27, 6.88, 9.21, 2.1, 2.5, 1.92, 1.64, 2.53], [1.29] * 9) == "blows up"
    assert classify_rate_run([1.2, 1.1, 1.0, 0.95, 0.9, 0.9, 0.88], flat[:7]) == "learns"
    assert classify_rate_run([1.2, 1.25, 1.18, 1.22, 1.21, 1.19, 1.2], flat[:7]) == "stalls"
    assert classify_rate_run([1.0, 9.0, 5.0, 0.5, 0.4, 0.4, 0.4, 0.4], [1.0] * 8) == "learns"  # recovered
    # a spike above 3 times the start that comes back down to 0.95-1.0 of it: neither "learns" nor "blows up"
    assert classify_rate_run([1.0, 5.0, 2.0, 1.0, 0.98, 1.0, 0.99, 0.97], [1.0] * 8) == "stalls"
    with pytest.raises(ValueError, match="at least 6"):
        classify_rate_run([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="same 7 batches"):
        classify_rate_run([1.2] * 7, [1.2] * 6)


def test_classify_rate_run_compares_the_same_batches() -> None:
    """The stored study's seed 2 at 0.3: an easy first batch (1.228) made it look stalled against its first loss."""
    run = [1.228, 1.325, 1.248, 1.291, 1.285, 1.327, 1.242, 1.264, 1.336, 1.33, 1.135, 1.271, 1.329, 1.24, 1.24,
           1.208, 1.24, 1.29, 1.147, 1.091]
    start = [1.228, 1.336, 1.322, 1.343, 1.35, 1.361, 1.289, 1.301, 1.408, 1.426, 1.167, 1.352, 1.462, 1.399, 1.414,
             1.331, 1.419, 1.501, 1.319, 1.242]  # the untrained network on the same batches
    assert sum(run[-5:]) / 5 > 0.95 * run[0]  # against the first loss alone it would look stalled
    assert classify_rate_run(run, start) == "learns"
    assert classify_rate_run(start, start) == "stalls"  # no update at all
    # the lesson's constant rate of 0.3 over 20 steps (seed 0), against the untrained network on its batches
    assert classify_rate_run(
        [1.286, 1.3, 1.166, 1.243, 1.05, 1.125, 1.12, 1.101, 1.012, 1.133, 1.174, 1.129, 1.153, 1.049, 1.142,
         1.045, 1.017, 1.086, 1.013, 1.095],
        [1.286, 1.252, 1.258, 1.272, 1.179, 1.214, 1.183, 1.275, 1.246, 1.259, 1.282, 1.273, 1.266, 1.21, 1.316,
         1.195, 1.195, 1.293, 1.219, 1.308]) == "learns"


def test_rate_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_rate_prediction("learns", "learns")
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "Adam" in out and "Batch norm is the likely reason" in out
    assert "18 of this U-Net's 23 convolution layers" in out and "4 transposed" in out
    assert "without it blows up" in out  # the reveal runs that control
    assert "only that the training loss fell" in out and "same batches" in out
    assert "stall" not in out  # the verdict explains "learns"; the stored seeds are the lesson's reveal
    assert check_rate_prediction("blows up", "learns")
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and "you predicted 'blows up'" in out
    assert "over 120 steps 3e-3 leads 0.3 on validation in nine seeds of ten" in out  # the stored study, as claimed
    assert "the study does not say" in out and "does not make a good model" not in out  # 120 steps judge no further
    assert "length of their weights" in out  # the reason, not only the verdict
    assert check_rate_prediction("learns", "blows up")
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and "overshot" in out
    assert check_rate_prediction("learns", "stalls")
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and "0.95 times the starting network's loss" in out
    assert "neither learned" in out and "nor blew up" in out  # "stalls" is what is neither of the others: no gap


@pytest.mark.parametrize("prediction", [..., None, "diverges"])
def test_rate_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_rate_prediction(prediction, "blows up")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(repr(choice) in out for choice in RATE_OUTCOMES)


# --- exercise 3: the validation step ---------------------------------------------------------------


def _pooled(model, scenes, *, eval_mode=True, no_grad=True, restore=True, ignore=True):
    """A validation_mean_iou with the slips the checker names switched on or off."""
    was_training = model.training
    if eval_mode:
        model.eval()
    matrix = torch.zeros(11, 11, dtype=torch.int64)
    with torch.no_grad() if no_grad else torch.enable_grad():
        for index in range(len(scenes)):
            image, mask = scenes[index]
            matrix += confusion_matrix(model(image[None]).argmax(dim=1)[0], mask, 11,
                                       ignore_index=255 if ignore else None)
    if restore:
        model.train(was_training)
    return mean_iou(matrix)


def _per_scene(model, scenes):
    model.eval()
    with torch.no_grad():
        scores = [mean_iou(confusion_matrix(model(scenes[index][0][None]).argmax(dim=1)[0], scenes[index][1], 11,
                                            ignore_index=255)) for index in range(len(scenes))]
    model.train()
    return sum(scores) / len(scores)


def test_validation_mean_iou_right(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_validation_mean_iou(_pooled) is True
    assert capsys.readouterr().out.startswith("Correct! your score equals evaluate's")


@pytest.mark.parametrize(("function", "hint"), [
    (lambda model, scenes: _pooled(model, scenes, eval_mode=False), "training mode"),
    (_per_scene, "one mean IoU per scene"),
    (lambda model, scenes: _pooled(model, scenes, no_grad=False), "torch.no_grad()"),
    (lambda model, scenes: _pooled(model, scenes, restore=False), "model.train()"),
    (lambda model, scenes: _pooled(model, scenes, ignore=False), "255"),  # the checker's masks hold ignored pixels
    (lambda model, scenes: 0.5, "evaluate gives"),
    (lambda model, scenes: ..., "returns nothing"),
    (lambda model, scenes: "high", "one number"),
    (lambda model, scenes: evaluate(model, scenes, num_classes=11)["mean_iou"], "calls segedu's evaluate"),
])
def test_validation_mean_iou_names_the_slip(function, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_validation_mean_iou(function) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
