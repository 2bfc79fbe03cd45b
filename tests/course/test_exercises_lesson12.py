"""Each lesson-12 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

import pytest
import torch

from segedu.course.exercises.lesson12 import (
    AUGMENTATIONS,
    GAP_OUTCOMES,
    RATE_OUTCOMES,
    check_gap_prediction,
    check_rate_prediction,
    check_safe_augmentations,
    check_validation_mean_iou,
    classify_gap_narrowing,
    classify_rate_run,
    paired_t_interval,
)
from segedu.training.evaluation import evaluate
from segedu.training.metrics import confusion_matrix, mean_iou


@pytest.mark.parametrize("answer", [{"b", "c", "e"}, "bce", ["e", "C", "b"]])
def test_safe_augmentations_right(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_safe_augmentations(answer)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "implausible" in out and "false labels" in out
    assert "6 into a 9" in out and "small rotation" in out  # each unsafe item named with its reason


def test_safe_augmentations_wrong_answers_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_safe_augmentations({"a", "b", "c", "d", "e"})
    out = capsys.readouterr().out
    assert "a is not safe" in out and "d is not safe" in out and "6 into a 9" in out
    assert "no longer plausible" in out  # a mirror keeps the labels correct; the scene is what breaks
    assert "b is" not in out  # b is safe and chosen: not among the misses
    assert not check_safe_augmentations({"c", "e"})  # a small rotation is safe too
    out = capsys.readouterr().out
    assert "b is safe" in out and "10 degrees" in out and "nearest neighbour" in out and "255" in out
    assert "half-turn" in out  # set against item d
    assert not check_safe_augmentations({"b", "e"})
    out = capsys.readouterr().out
    assert "c is safe" in out and "0.05" in out and "untouched" in out  # the generator's own noise
    assert "e is" not in out  # e is not among the misses here
    assert not check_safe_augmentations({"b", "c"})
    out = capsys.readouterr().out
    assert "e is safe" in out and "clipped to 1" in AUGMENTATIONS["e"] and "clipping at 1" in out
    assert "0.9 and 1.1" in AUGMENTATIONS["e"] and "0.33" in out and "0.63" in out  # ranges from digits.py
    assert not check_safe_augmentations({"b", "c", "d", "e"})
    out = capsys.readouterr().out
    assert "d is not safe" in out and "label becomes false" in out


@pytest.mark.parametrize("answer", [..., None, {"z"}, 3])
def test_safe_augmentations_unreadable_answers(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_safe_augmentations(answer)
    assert capsys.readouterr().out.startswith("Not yet:")
    assert set(AUGMENTATIONS) == {"a", "b", "c", "d", "e"}
    assert "10 degrees" in AUGMENTATIONS["b"] and "nearest neighbour" in AUGMENTATIONS["b"]


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
    assert out.startswith("Correct!") and "Adam" in out and "Batch norm could explain it (not tested here)" in out
    assert "18 of this U-Net's 23 convolution layers" in out and "4 transposed" in out
    assert "without batch norm" not in out  # the lesson no longer runs that control
    assert "only that the training loss fell" in out and "same batches" in out
    assert "stall" not in out  # the verdict explains "learns"; the stored seeds are the lesson's reveal
    assert check_rate_prediction("blows up", "learns")
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and "you predicted 'blows up'" in out
    assert "not a good model" in out and "0.087 to 0.108 over ten seeds, next to the all-background 0.085" in out  # 0.3 validates poorly
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


def test_paired_t_interval_matches_the_lesson() -> None:
    """Section 3's stored differences, augmented minus plain, per seed (0-9): the interval printed in the lesson."""
    low, high = paired_t_interval([0.033, 0.028, -0.052, 0.000, -0.002, -0.022, 0.017, -0.030, 0.013, -0.051])
    assert low == pytest.approx(-0.029, abs=0.001) and high == pytest.approx(0.015, abs=0.001)
    low, high = paired_t_interval([0.033, 0.028, -0.052])  # seeds 0-2 only: 4.3 standard errors either side
    assert low == pytest.approx(-0.115, abs=0.003) and high == pytest.approx(0.121, abs=0.003)
    assert paired_t_interval([1.0, 1.0, 1.0]) == (1.0, 1.0)
    with pytest.raises(ValueError, match="2 to 10"):
        paired_t_interval([0.1])


def test_paired_t_interval_uses_the_t_distributions_95_percent_points() -> None:
    """Each t point holds 95% of Student's t density between -t and t (integrated numerically with torch)."""
    from segedu.course.exercises.lesson12 import _T_975

    for degrees, point in _T_975.items():
        density = torch.distributions.StudentT(torch.tensor(float(degrees), dtype=torch.float64))
        grid = torch.linspace(-point, point, 200_001, dtype=torch.float64)
        assert torch.trapezoid(density.log_prob(grid).exp(), grid).item() == pytest.approx(0.95, abs=1e-4)
    differences = torch.tensor([0.10, -0.02, 0.05, 0.07], dtype=torch.float64)
    half_width = _T_975[3] * differences.std() / 2  # std with ddof=1, sqrt(4) = 2
    low, high = paired_t_interval(differences.tolist())
    assert (low, high) == pytest.approx(((differences.mean() - half_width).item(), (differences.mean() + half_width).item()))


def test_classify_gap_narrowing_names_each_outcome() -> None:
    """The stored study's final scores per seed (mean of the last three scorings): plain and augmented."""
    plain_train, augmented_train = [0.949, 0.948, 0.950], [0.710, 0.710, 0.724]
    plain_val, augmented_val = [0.278, 0.250, 0.312], [0.310, 0.279, 0.261]
    assert classify_gap_narrowing(plain_train, augmented_train, plain_val, augmented_val) == "by lowering training"
    assert classify_gap_narrowing(plain_train, augmented_train, plain_val, [0.378, 0.355, 0.410]) == "both"
    assert classify_gap_narrowing(plain_train, plain_train, plain_val, [0.378, 0.355, 0.410]) == "by raising validation"
    assert classify_gap_narrowing(plain_train, [0.95, 0.90, 0.99], plain_val, augmented_val) == "neither"
    with pytest.raises(ValueError, match="one score per seed"):
        classify_gap_narrowing(plain_train, augmented_train, plain_val, [0.3, 0.3])


def test_gap_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_gap_prediction("by lowering training", "by lowering training")
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "holds 0" in out and "by heart" in out
    assert "lies below 0" in out and "not by itself a better model" in out
    assert "(-0.029 to +0.015) excludes a loss larger than about 0.03" in out  # an interval, not a measured fact
    assert check_gap_prediction("by raising validation", "by lowering training")
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and "you predicted 'by raising validation'" in out
    assert "the gap narrowed by lowering training" in out and "five seeds and down in five" in out
    assert check_gap_prediction("both", "by lowering training")
    assert capsys.readouterr().out.startswith("Recorded; the result differs:")
    assert check_gap_prediction("by lowering training", "both")
    assert "rose detectably" in capsys.readouterr().out


@pytest.mark.parametrize("prediction", [..., None, "helps"])
def test_gap_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_gap_prediction(prediction, "by lowering training")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(repr(choice) in out for choice in GAP_OUTCOMES)


# --- exercise 3: the validation step ---------------------------------------------------------------


def _pooled(model, scenes, *, eval_mode=True, no_grad=True, restore=True):
    """A validation_mean_iou with the slips the checker names switched on or off."""
    was_training = model.training
    if eval_mode:
        model.eval()
    matrix = torch.zeros(11, 11, dtype=torch.int64)
    with torch.no_grad() if no_grad else torch.enable_grad():
        for index in range(len(scenes)):
            image, mask = scenes[index]
            matrix += confusion_matrix(model(image[None]).argmax(dim=1)[0], mask, 11, ignore_index=255)
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
    (lambda model, scenes: 0.5, "evaluate gives"),
    (lambda model, scenes: ..., "returns nothing"),
    (lambda model, scenes: "high", "one number"),
    (lambda model, scenes: evaluate(model, scenes, num_classes=11)["mean_iou"], "calls segedu's evaluate"),
])
def test_validation_mean_iou_names_the_slip(function, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_validation_mean_iou(function) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
