"""Each lesson-15 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segedu.course.exercises.lesson15 import (
    BACKGROUND_SHARE,
    HALO_SIZE,
    background_recall_cost,
    check_background_recall_cost,
    TILT_BELIEF,
    TILT_WEIGHTS,
    check_halo_scores,
    halo_case_scores,
    HALO_CASES,
    HALO_DIGIT_PIXELS,
    check_tilt_prediction,
    check_trained_weights_prediction,
    lower_seed_band,
    check_score_gap_reason,
    SCORE_GAP_REASONS,
    digit_pixel_fates,
    digit_scores_by_seed,
    halo_area,
    tilted_minimiser,
)
from segedu.training.metrics import iou_per_class


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


def test_digit_scores_by_seed_against_sums_by_hand() -> None:
    """Every score of a hand-made 3-class run, counted by hand from its matrix (rows true, columns predicted)."""
    matrix = [[50, 3, 2],  # background
              [2, 6, 2],   # digit a
              [1, 4, 3]]   # digit b
    other = [[55, 0, 0], [0, 10, 0], [0, 0, 8]]  # a perfect run
    scores = digit_scores_by_seed({"0": {"confusion": matrix}, "1": {"confusion": torch.tensor(other)}}, ["0", "1"])
    ious = [50 / (55 + 53 - 50), 6 / (10 + 13 - 6), 3 / (8 + 7 - 3)]  # diagonal / (row + column - diagonal)
    assert scores["mean IoU"] == pytest.approx([sum(ious) / 3, 1.0])
    assert scores["worst digit IoU"] == pytest.approx([min(ious[1:]), 1.0])
    assert scores["pixel accuracy"] == pytest.approx([59 / 73, 1.0])
    assert scores["stroke precision"] == pytest.approx([15 / 20, 1.0])  # digit-called pixels that are digit
    assert scores["stroke recall"] == pytest.approx([15 / 18, 1.0])
    assert scores["to background"] == pytest.approx([3 / 18, 0.0]) and scores["to a wrong digit"] == pytest.approx([6 / 18, 0.0])
    assert scores["halo"] == pytest.approx([5 / 18, 0.0])  # 3 + 2 background pixels called a digit
    assert all(values.shape == (2,) for values in scores.values())


MEASURED = {"inverse weights": 6, "median weights": 5}  # seeds of 6 with mean IoU below plain cross-entropy's


def test_lower_seed_band_covers_every_count() -> None:
    assert [lower_seed_band(count) for count in range(7)] == ["0 or 1"] * 2 + ["2 to 4"] * 3 + ["5 or 6"] * 2
    with pytest.raises(ValueError):
        lower_seed_band(7)


def test_trained_weights_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_trained_weights_prediction({"inverse weights": "5 or 6", "median weights": "5 or 6"}, MEASURED)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "median weights: you predicted '5 or 6', measured lower in 5 of 6 seeds" in out
    assert "can raise" in out and "halo" in out  # it names both kinds of extra digit pixel
    assert "false alarm" not in out  # exercise 3a asks what a halo pixel does to IoU: no spoiler
    assert "two tests" in out and "verdict table" in out and "all six share a sign" in out  # and how the rule reads it
    assert "recall" not in out  # exercise 3 asks why recall and IoU disagree: no spoiler
    assert check_trained_weights_prediction({"inverse weights": "5 or 6", "median weights": "2 to 4"}, MEASURED)  # a recorded miss passes
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and "you predicted '2 to 4', measured lower in 5 of 6 seeds" in out
    assert "halo" in out and "false alarm" not in out
    assert check_trained_weights_prediction({"inverse weights": "0 or 1", "median weights": "0 or 1"}, MEASURED)
    assert capsys.readouterr().out.startswith("Recorded; the result differs:")


def test_trained_weights_prediction_needs_both_measured_counts() -> None:
    with pytest.raises(ValueError, match="lower_counts must give"):
        check_trained_weights_prediction({"inverse weights": "5 or 6", "median weights": "5 or 6"}, {"inverse weights": 6})
    with pytest.raises(ValueError, match="lower_counts must give"):
        check_trained_weights_prediction({"inverse weights": "5 or 6", "median weights": "5 or 6"},
                                         {"inverse weights": 7, "median weights": 5})


@pytest.mark.parametrize("predictions", [{"inverse weights": ..., "median weights": "5 or 6"},
                                         {"inverse weights": "5 or 6", "median weights": None},
                                         {"inverse weights": "behind", "median weights": "5 or 6"},
                                         {"inverse weights": "5 or 6", "median weights": 5},
                                         {"inverse weights": "5 or 6"}, ...])
def test_trained_weights_prediction_must_be_recorded_first(predictions, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_trained_weights_prediction(predictions, MEASURED)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "measured lower" not in out  # no count before both are recorded


def test_tilted_minimiser_is_where_adam_lands() -> None:
    belief = torch.tensor(TILT_BELIEF, dtype=torch.float64)
    weights = torch.tensor(TILT_WEIGHTS, dtype=torch.float64)
    logits = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=0.05)
    for _ in range(500):
        optimizer.zero_grad()
        (-(weights * belief * logits.log_softmax(dim=0)).sum()).backward()
        optimizer.step()
    assert np.allclose(logits.softmax(dim=0).detach().numpy(), tilted_minimiser(), atol=1e-4)
    assert np.allclose(tilted_minimiser(), [0.28, 0.32, 0.40])


@pytest.mark.parametrize("minimiser", [[0.28, 0.32, 0.40], (0.28, 0.32, 0.4), np.array([0.281, 0.319, 0.4]),
                                       torch.tensor([0.28, 0.32, 0.40])])
@pytest.mark.parametrize("argmax_class", [2, 2.0, torch.tensor(2)])
def test_tilt_prediction_right(minimiser, argmax_class, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_tilt_prediction(minimiser, argmax_class)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "0.28, 0.32, 0.40" in out and "toward the rare class" in out


@pytest.mark.parametrize(("minimiser", "argmax_class", "hints"), [
    ([0.7, 0.2, 0.1], 0, ["q itself", "you named class 0"]),
    ([0.7, 0.8, 1.0], 2, ["divide each by their sum"]),
    ([0.921, 0.066, 0.013], 2, ["divides q_c by w_c"]),
    ([0.067, 0.267, 0.667], 2, ["weights alone"]),
    ([0.5, 0.3, 0.3], 2, ["sum to 1.10"]),
    ([0.3, 0.3, 0.4], 2, ["first the three products"]),
    ([0.28, 0.32, 0.40], 1, ["you named class 1"]),
])
def test_tilt_prediction_wrong_answers_say_why(minimiser, argmax_class, hints, capsys) -> None:
    assert not check_tilt_prediction(minimiser, argmax_class)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(hint in out for hint in hints)
    assert "0.28, 0.32, 0.40" not in out  # the answer is not given away


@pytest.mark.parametrize(("minimiser", "argmax_class", "hint"), [
    (..., 2, "record both answers"), ([0.28, 0.32, 0.40], ..., "record both answers"),
    ("0.28, 0.32, 0.40", 2, "three numbers"), ([0.5, 0.5], 2, "three numbers"), ([0.28, 0.32, 0.40], 3, "0, 1 or 2"),
    ([0.28, 0.32, 0.40], True, "0, 1 or 2"), ([0.28, 0.32, 0.40], "2", "0, 1 or 2"),
])
def test_tilt_prediction_unreadable_answers(minimiser, argmax_class, hint, capsys) -> None:
    assert not check_tilt_prediction(minimiser, argmax_class)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out


def test_background_recall_cost_against_a_confusion_matrix() -> None:
    digit, background = 1 - BACKGROUND_SHARE, BACKGROUND_SHARE  # shares of all pixels
    matrix = torch.tensor([[background - HALO_SIZE * digit, HALO_SIZE * digit], [0.0, digit]], dtype=torch.float64)
    recall = float(matrix[0, 0] / matrix[0].sum())  # background's recall with the halo
    assert np.isclose(1 - recall, background_recall_cost()) and round(background_recall_cost(), 2) == 0.03


@pytest.mark.parametrize("answer", [0.03, 0.029, "0.03", 0.027])
def test_background_recall_cost_right_says_why(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_background_recall_cost(answer)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "17 times" in out
    assert "union" not in out and "mean accuracy" not in out  # exercise 4's last part asks why: not given away


@pytest.mark.parametrize(("answer", "hint"), [(0.49, "divides by background's pixels"), (0.045, "11 classes"),
                                              (0.3, "count pixels"), (0.49 * 0.9446 / 0.0554, "upside down"), (..., "record your answer"),
                                              ("lots", "a number")])
def test_background_recall_cost_wrong_says_why(answer, hint, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_background_recall_cost(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out and "0.029" not in out
    assert "0.49 x" not in out and "94.46" not in out  # the hint points the way without doing the sum


def test_halo_case_scores_against_a_confusion_matrix() -> None:
    for case, (found, halo) in HALO_CASES.items():
        matrix = torch.tensor([[1000.0 - halo, halo], [HALO_DIGIT_PIXELS - found, found]], dtype=torch.float64)
        recall = float(matrix[1, 1] / matrix[1].sum())
        assert np.allclose(halo_case_scores()[case], (recall, float(iou_per_class(matrix)[1])))
    assert [tuple(round(value, 2) for value in pair) for pair in halo_case_scores().values()] == [(0.90, 0.90), (0.99, 0.66)]


@pytest.mark.parametrize("answers", [(0.90, 0.90, 0.99, 0.66), (0.9, 0.9, 0.99, 99 / 150), ("0.9", 0.9, 0.99, 0.664)])
def test_halo_scores_right(answers, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_halo_scores(*answers)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "recall 0.90 and 0.99" in out and "99 / 150 = 0.66" in out
    assert "reason (a)" in out and "true pixels only" in out  # exercise 3a asked why; this part ties the numbers to it
    assert "0.03" not in out  # the last part asks for background's recall cost: no spoiler


@pytest.mark.parametrize(("answers", "hints"), [
    ((0.90, 0.90, 0.99, 0.99), ["the IoU with halo", "halo is the FP"]),
    ((0.90, 0.90, 0.66, 0.66), ["the recall with halo", "true pixels only"]),
    ((0.90, 1.00, 0.99, 0.66), ["the IoU with no halo", "missed pixels (FN)"]),
    ((0.90, 0.82, 0.99, 0.66), ["the IoU with no halo", "not 100 + FP + FN"]),
    ((0.10, 0.90, 0.99, 0.66), ["the recall with no halo", "found share"]),
    ((0.90, 0.90, 0.99, 0.50), ["the IoU with halo", "found, plus the halo"]),
])
def test_halo_scores_wrong_answers_say_why(answers, hints, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_halo_scores(*answers)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(hint in out for hint in hints)
    assert "0.66" not in out  # the halo's IoU is not given away


@pytest.mark.parametrize(("answers", "hint"), [((..., 0.9, 0.99, 0.66), "record all four"),
                                               ((0.9, 0.9, 0.99, "high"), "a number between 0 and 1"),
                                               ((0.9, None, 0.99, 0.66), "a number between 0 and 1")])
def test_halo_scores_unreadable_answers(answers, hint, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_halo_scores(*answers)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out


@pytest.mark.parametrize("choice", ["a", "A", " (a) "])
def test_score_gap_reason_right_says_why(choice, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_score_gap_reason(choice)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "union" in out and "background's many" in out
    assert "0.03" not in out  # the next part asks for background's recall cost: no spoiler


@pytest.mark.parametrize(("choice", "hint"), [("b", "one confusion matrix"), ("c", "true pixels only"),
                                              ("d", "lowers that digit's recall"), ("e", "one letter"),
                                              (..., "record your answer")])
def test_score_gap_reason_wrong_says_why(choice, hint, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_score_gap_reason(choice)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out


def test_score_gap_reasons_one_right() -> None:
    assert sorted(SCORE_GAP_REASONS) == ["a", "b", "c", "d"]
    assert not any("17 times" in reason for reason in SCORE_GAP_REASONS.values())  # the scale part's feedback: no echo
    assert sum(check_score_gap_reason(letter) for letter in SCORE_GAP_REASONS) == 1
    answer_length = len(SCORE_GAP_REASONS["a"])  # the right option may not stand out by its length or detail
    assert all(len(reason) >= 0.8 * answer_length for reason in SCORE_GAP_REASONS.values())


def test_score_gap_reason_asks_for_the_sentence_first(capsys: pytest.CaptureFixture[str]) -> None:
    for missing in (..., "", "   ", 3):
        assert not check_score_gap_reason("a", missing)
        out = capsys.readouterr().out
        assert out.startswith("Not yet:") and "your own sentence first" in out
    assert check_score_gap_reason("a", "IoU counts the halo against a digit's few pixels.")  # right letter, echoed
    out = capsys.readouterr().out
    assert out.startswith("Your sentence: IoU counts the halo") and "Correct!" in out
    assert not check_score_gap_reason("b", "Mean IoU is averaged per image.")  # the sentence is not graded, the letter is
    out = capsys.readouterr().out
    assert "Your sentence: Mean IoU is averaged per image." in out and "Not yet:" in out and "one confusion matrix" in out


def test_halo_area_on_a_hand_made_matrix() -> None:
    matrix = [[50, 3, 2], [2, 6, 2], [1, 4, 3]]  # rows true, columns predicted; background first
    assert halo_area(matrix) == pytest.approx(5 / 18)  # 3 + 2 background pixels called a digit, 18 true digit pixels
    assert halo_area(torch.tensor(matrix)) == pytest.approx(5 / 18)
