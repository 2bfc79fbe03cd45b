"""Each lesson-13 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

import pytest
import torch

from segedu.course.exercises.lesson13 import (
    BACKGROUND_OUTCOMES,
    CLOSE_CASE_TOLERANCE,
    EARLY_OUTCOMES,
    EARLY_RECORDS,
    EARLY_TIE,
    EIGHT,
    LATE_RECORDS,
    MEAN_IOU_TOLERANCE,
    all_eights_scores,
    check_all_eights_mean_iou,
    check_background_prediction,
    check_early_dice_prediction,
    digit_pixel_fates,
    early_dice_against_cross_entropy,
)
from segedu.course.experiments import load_experiment
from segedu.training.metrics import mean_iou


def test_background_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_background_prediction("smaller", 3.4, 0.9)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "weighted mean" in out and "ratio 0.265" in out
    assert not check_background_prediction("larger", 3.4, 0.9)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "you predicted 'larger'" in out and "weighted mean" in out


def test_background_prediction_follows_the_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_background_prediction("larger", 1.0, 2.0)
    assert "ratio 2.000" in capsys.readouterr().out
    assert check_background_prediction("about the same", 1.0, 1.05)
    capsys.readouterr()
    assert not check_background_prediction("about the same", 1.0, 0.5)
    assert "smaller" in capsys.readouterr().out


@pytest.mark.parametrize("prediction", [..., None, "doubles"])
def test_background_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_background_prediction(prediction, 3.4, 0.9)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(repr(choice) in out for choice in BACKGROUND_OUTCOMES)
    assert "measured" not in out and "0.9" not in out  # no answer before a prediction


@pytest.mark.parametrize("answer", [0.103, 0.1, 0.106, torch.tensor(0.103)])
def test_all_eights_mean_iou_right(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_all_eights_mean_iou(answer)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "(1 + that share) / 11" in out and "mean IoU 0.103" in out
    assert "all-background model's mean IoU 0.086" in out


@pytest.mark.parametrize(("answer", "hint"), [(2 / 11, "IoU of 1"), (1 / 11, "IoU of 0"), (0.091, "IoU of 0"),
                                              (0.092, "share of all pixels"), (0.0916, "share of all pixels"),
                                              (0.95, "weighted by pixel counts"), (0.3, "eleven per-class IoUs"),
                                              (0.109, "eleven per-class IoUs")])  # 0.006 off: outside the 0.005
def test_all_eights_mean_iou_wrong_answers_say_why(answer, hint, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_all_eights_mean_iou(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "0.103" not in out  # the answer is not given away


@pytest.mark.parametrize("answer", [..., None, "ten percent", 3, True])
def test_all_eights_mean_iou_unreadable_answers(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_all_eights_mean_iou(answer)
    assert capsys.readouterr().out.startswith("Not yet:")


def test_all_eights_scores_follow_from_the_class_shares() -> None:
    from segedu.datasets import DIGIT_CLASS_NAMES, DigitScenes, class_frequencies

    assert DIGIT_CLASS_NAMES[EIGHT] == "8"
    scores = all_eights_scores()
    shares = class_frequencies(DigitScenes("test"))  # (11,)
    # background stays right and every digit pixel becomes an 8: right pixels = background + the true 8s
    assert scores["pixel_accuracy"] == pytest.approx(float(shares[0] + shares[EIGHT]), abs=1e-6)
    assert scores["iou_per_class"][0] == pytest.approx(1.0)
    assert scores["iou_per_class"][EIGHT] == pytest.approx(float(shares[EIGHT] / shares[1:].sum()), abs=1e-6)
    assert scores["mean_accuracy"] == pytest.approx(2 / 11)


def test_all_eights_iou_is_the_eights_share_of_the_strokes() -> None:
    """By hand from the masks: the 8s are right, every other stroke pixel is a false positive of class 8."""
    from segedu.datasets import DigitScenes

    scenes = DigitScenes("test")
    masks = torch.stack([scenes[index][1] for index in range(len(scenes))])  # (N, H, W)
    eights, strokes, background = int((masks == 9).sum()), int((masks > 0).sum()), int((masks == 0).sum())
    scores = all_eights_scores()
    assert scores["iou_per_class"][9] == pytest.approx(eights / strokes, abs=1e-6)
    assert scores["pixel_accuracy"] == pytest.approx((background + eights) / masks.numel(), abs=1e-6)
    assert all(iou == 0 for index, iou in enumerate(scores["iou_per_class"]) if index not in (0, 9))


def test_all_eights_mean_iou_is_one_plus_the_eights_share_over_eleven() -> None:
    from segedu.datasets import DigitScenes

    scenes = DigitScenes("test")
    masks = torch.stack([scenes[index][1] for index in range(len(scenes))])  # (N, H, W)
    share = int((masks == EIGHT).sum()) / int((masks > 0).sum())
    assert all_eights_scores()["mean_iou"] == pytest.approx((1 + share) / 11, abs=1e-6)
    assert MEAN_IOU_TOLERANCE < share / 11  # an 8 IoU of 0 or 1 is never accepted


def test_the_two_close_wrong_answers_are_told_apart() -> None:
    """1/11 (an 8 IoU of 0) and (1 + the 8s' share of all pixels) / 11 each get their own hint at three decimals."""
    share_of_all = all_eights_scores()["eight_share_of_all_pixels"]
    assert round((1 + share_of_all) / 11, 3) != round(1 / 11, 3)
    for mine, other in ((1 / 11, (1 + share_of_all) / 11), ((1 + share_of_all) / 11, 1 / 11)):
        assert abs(round(mine, 3) - mine) <= CLOSE_CASE_TOLERANCE < abs(round(mine, 3) - other)


def test_early_dice_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_early_dice_prediction("win in every seed")
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "outcome after 400 steps was win in every seed" in out
    assert "0.08 to 0.34 over 12 seeds" in out and "ahead by more than 0.005 in only 2 of 6 seeds" in out
    for outcome in set(EARLY_OUTCOMES) - {"win in every seed"}:
        assert not check_early_dice_prediction(outcome)
        out = capsys.readouterr().out
        assert out.startswith("Not yet:") and f"you predicted {outcome!r}" in out and "0.08 to 0.34" in out


def test_early_outcome_follows_the_records_in_every_seed() -> None:
    """Soft Dice beats plain cross-entropy of the same seed by more than a tie, from the stored matrices."""
    scores = early_dice_against_cross_entropy()
    assert scores["seeds"] == [str(seed) for seed in range(12)]
    runs = {}
    for name in EARLY_RECORDS:
        record = load_experiment(name)
        assert record["settings"]["steps"] == 400
        for seed in record["seeds"]:
            runs[str(seed)] = {loss: record["results"]["runs"][loss][str(seed)]["confusion"]
                               for loss in ("cross_entropy", "dice")}
    for index, seed in enumerate(scores["seeds"]):
        iou = {loss: mean_iou(torch.tensor(matrix, dtype=torch.float64)) for loss, matrix in runs[seed].items()}
        assert scores["gain"][index] == pytest.approx(iou["dice"] - iou["cross_entropy"])
        for loss, matrix in runs[seed].items():  # digit pixels given a wrong digit, counted cell by cell
            wrong_digit = sum(matrix[true][predicted] for true in range(1, 11) for predicted in range(1, 11)
                              if true != predicted)
            digits = sum(sum(matrix[true]) for true in range(1, 11))
            assert scores["misnamed"][loss][index] == pytest.approx(wrong_digit / digits)
    assert (scores["gain"] > EARLY_TIE).all()
    late = {}  # seed -> loss -> mean IoU after 1,600 steps
    for name in LATE_RECORDS:
        record = load_experiment(name)
        assert record["settings"]["steps"] == 1600
        for seed in record["seeds"]:
            late[seed] = {loss: mean_iou(torch.tensor(record["results"]["runs"][loss][str(seed)]["confusion"],
                                                      dtype=torch.float64)) for loss in ("cross_entropy", "dice")}
    assert sorted(late) == list(range(6))
    assert scores["late_gain"] == pytest.approx([late[seed]["dice"] - late[seed]["cross_entropy"] for seed in range(6)])


@pytest.mark.parametrize("answer", [..., None, "win", "Win in every seed", 0.2])
def test_early_dice_prediction_must_be_recorded_first(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_early_dice_prediction(answer)
    assert capsys.readouterr().out.startswith("Not yet:")


def test_digit_pixel_fates_on_a_hand_made_matrix() -> None:
    # 3 classes (background, digit a, digit b); rows true, columns predicted.
    matrix = [[50, 3, 2],  # background
              [2, 6, 2],   # digit a: 2 missed, 6 right, 2 called b
              [1, 4, 3]]   # digit b: 1 missed, 4 called a, 3 right
    fates = digit_pixel_fates([matrix, torch.tensor(matrix)])
    assert fates["to background"] == pytest.approx([3 / 18] * 2)
    assert fates["to a wrong digit"] == pytest.approx([6 / 18] * 2)
    assert fates["to the right digit"] == pytest.approx([9 / 18] * 2)
    assert fates["misnamed among found"] == pytest.approx([6 / 15] * 2)
    assert fates["to background"] + fates["to a wrong digit"] + fates["to the right digit"] == pytest.approx([1, 1])
