"""Each lesson-15 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segedu.course.exercises.lesson15 import (
    ABSENT_PREDICTED_MASS,
    CLOSE_CASE_TOLERANCE,
    EIGHT,
    MEAN_IOU_TOLERANCE,
    PREDICTION_TOLERANCE,
    absent_class_dice,
    absent_class_gradient,
    all_eights_scores,
    BACKGROUND_SHARE,
    HALO_SIZE,
    background_recall_cost,
    check_background_recall_cost,
    TILT_BELIEF,
    TILT_WEIGHTS,
    check_absent_class_dice,
    check_all_eights_mean_iou,
    check_halo_scores,
    halo_case_scores,
    HALO_CASES,
    HALO_DIGIT_PIXELS,
    check_tilt_prediction,
    check_soft_dice,
    check_soft_dice_prediction,
    check_trained_weights_prediction,
    check_score_gap_reason,
    SCORE_GAP_REASONS,
    digit_pixel_fates,
    digit_scores_by_seed,
    prediction_case,
    tilted_minimiser,
)
from segedu.training.losses import soft_dice_loss
from segedu.training.metrics import iou_per_class


@pytest.mark.parametrize("answer", [0.103, 0.1, 0.106, torch.tensor(0.103)])
def test_all_eights_mean_iou_right(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_all_eights_mean_iou(answer)
    out = capsys.readouterr().out
    # the lesson points to this feedback after exercise 1: a right answer prints the measured scores
    assert out.startswith("Correct!") and "(1 + that share) / 11" in out and "measured:" in out and "mean IoU 0.103" in out
    assert "all-background model's mean IoU 0.086 and pixel accuracy 0.945" in out and "pixel accuracy 0.952" in out
    assert "nine of the ten digits at IoU 0" in out and "pixel accuracy rises above that model's" in out
    assert "against its floor" in out and "only the 8s' share above it" in out


@pytest.mark.parametrize(("answer", "hint"), [(2 / 11, "IoU of 1"), (1 / 11, "IoU of 0"), (0.091, "IoU of 0"),
                                              (0.092, "share of all pixels"), (0.0916, "share of all pixels"),
                                              (0.95, "weighted by pixel counts"), (0.3, "eleven per-class IoUs"),
                                              (0.109, "eleven per-class IoUs")])  # 0.006 off: outside the 0.005
def test_all_eights_mean_iou_wrong_answers_say_why(answer, hint, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_all_eights_mean_iou(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "0.103" not in out and "0.952" not in out and "measured" not in out  # the answer is not given away


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
    # the right answer's feedback says pixel accuracy rises above the all-background model's (its share of background)
    assert scores["all_background_pixel_accuracy"] == pytest.approx(float(shares[0]), abs=1e-6)
    assert scores["pixel_accuracy"] > scores["all_background_pixel_accuracy"]


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
    assert all(values.shape == (2,) for values in scores.values())


def test_trained_weights_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_trained_weights_prediction("higher in most seeds", "lower in most seeds", (6, 0), (1, 5), 6)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "halo" in out and "won 1 and lost 5 of 6" in out and "won 6 and lost 0" in out
    assert "call unsure pixels digit" in out and "halo of false alarms" in out  # it says why
    assert "union" not in out  # exercise 5 asks why the two scores differ: not given away here
    assert check_trained_weights_prediction("lower in most seeds", "lower in most seeds", (6, 0), (1, 5), 6)  # passes
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and "mean accuracy: you predicted 'lower in most seeds'" in out
    assert "mean IoU: you predicted" not in out and "mean accuracy came out higher in most seeds" in out
    assert "call unsure pixels digit" in out and "union" not in out


def test_trained_weights_prediction_follows_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_trained_weights_prediction("level", "higher in most seeds", (3, 3), (4, 1), 6)  # half is not most
    assert capsys.readouterr().out.startswith("Correct!")
    assert check_trained_weights_prediction("level", "level", (2, 2), (3, 3), 6)  # two ties
    assert capsys.readouterr().out.startswith("Correct!")
    with pytest.raises(ValueError, match="at most 6 seeds"):
        check_trained_weights_prediction("level", "level", (4, 3), (1, 5), 6)


@pytest.mark.parametrize("prediction", [..., None, "lower", 3])
def test_trained_weights_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_trained_weights_prediction(prediction, "lower in most seeds", (6, 0), (1, 5), 6)
    assert capsys.readouterr().out.startswith("Not yet:")
    assert not check_trained_weights_prediction("higher in most seeds", prediction, (6, 0), (1, 5), 6)
    assert capsys.readouterr().out.startswith("Not yet:")


# --- exercise 2, first part: the Dice of an absent class that softmax still predicts --------------------------------


def test_absent_class_dice_and_gradient_are_what_torch_computes() -> None:
    assert np.isnan(absent_class_dice(0.0)) and absent_class_dice(1.0) == 1.0  # hard masks: P_k = 0
    assert absent_class_dice(0.0, ABSENT_PREDICTED_MASS) == 0.0
    assert absent_class_dice(1.0, ABSENT_PREDICTED_MASS) == pytest.approx(1 / 1.3)
    assert absent_class_gradient(0.0) == 0.0  # flat: nothing pushes P_k down
    assert absent_class_gradient(1.0) == pytest.approx(1 / 1.3**2)  # d(1 - 1/(P+1))/dP > 0: descent lowers P_k


@pytest.mark.parametrize(("with_eps_0", "with_eps_1", "pushes_down"), [
    (0, 1 / 1.3, "eps = 1"), (0.0, 0.77, "eps=1"), ("0", "10/13", "ε = 1"), (torch.tensor(0.0), torch.tensor(0.769), 1),
])
def test_absent_class_dice_right(with_eps_0, with_eps_1, pushes_down, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_absent_class_dice(with_eps_0, with_eps_1, pushes_down)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "Dice_k = 0.000 with eps = 0 and 0.769 with eps = 1" in out
    assert "0.000 and 0.592" in out and "stuck at 1" in out and "pushes the stray probability down" in out


@pytest.mark.parametrize(("with_eps_0", "with_eps_1", "pushes_down", "hints"), [
    ("undefined", 1, "eps = 1", ["with eps = 0 you answered undefined", "hard-mask case",
                                 "with eps = 1 you answered 1, the hard-mask answer"]),  # the hard 0/1 case
    (0, 1 / 1.3, "eps = 0", ["you chose 'eps = 0'", "gradient 0"]),
    (0, 1 / 1.3, "both", ["you chose 'both'", "stays 1 whatever P_k is"]),
    (0, 1 / 1.3, "neither", ["you chose 'neither'", "rises with P_k"]),
    (1, 0, "eps = 1", ["with eps = 0 you answered 1", "I_k = 0", "with eps = 1 you answered 0", "2 x 0 + 1"]),
    (0, "nan", "eps = 1", ["with eps = 1 you answered undefined", "0.3 + 0 + 1"]),
    (0, 0.5, "eps = 1", ["with eps = 1 you answered 0.5"]),
])
def test_absent_class_dice_wrong_answers_say_why(with_eps_0, with_eps_1, pushes_down, hints, capsys) -> None:
    assert not check_absent_class_dice(with_eps_0, with_eps_1, pushes_down)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(hint in out for hint in hints), out
    assert "measured" not in out and "torch gives" not in out and "0.769" not in out  # the answer is not given away


@pytest.mark.parametrize(("with_eps_0", "with_eps_1", "pushes_down", "hint"), [
    (..., 1, "eps = 1", "record all three answers first"), (0, ..., "eps = 1", "record all three answers first"),
    (0, 0.77, ..., "record all three answers first"), ("two", 0.77, "eps = 1", "'two'"), (None, 0.77, "eps = 1", "None"),
    (0, True, "eps = 1", "True"), (0, 0.77, "eps = 2", "'eps = 2'"), (0, 0.77, "the second", "'the second'"),
])
def test_absent_class_dice_placeholders_and_unreadable_answers(with_eps_0, with_eps_1, pushes_down, hint,
                                                              capsys) -> None:
    assert not check_absent_class_dice(with_eps_0, with_eps_1, pushes_down)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out and "measured" not in out, out


# --- exercise 2, second part: write soft Dice ---------------------------------------------------------------------------


def _soft_dice(logits, masks, *, eps=1.0, axes=(0, 2, 3), squares=False, skip_background=False, score=False,
               activation="softmax"):
    """A learner's soft Dice with the slips the checker names switched on."""
    probabilities = logits.softmax(dim=1) if activation == "softmax" else logits.sigmoid() if activation == "sigmoid" else logits
    truth = torch.nn.functional.one_hot(masks, logits.shape[1]).permute(0, 3, 1, 2).float()
    sizes = ((probabilities**2).sum(dim=axes) + (truth**2).sum(dim=axes) if squares
             else probabilities.sum(dim=axes) + truth.sum(dim=axes))
    dice = (2 * (probabilities * truth).sum(dim=axes) + eps) / (sizes + eps)
    dice = dice[..., 1:] if skip_background else dice
    return dice.mean() if score else 1 - dice.mean()


RIGHT_PREDICTION = 1 - (17 / 25 + 1 / 9) / 2  # 0.6044: the loss on prediction_case, worked out by hand


@pytest.mark.parametrize("predicted", [RIGHT_PREDICTION, 0.604, 0.6, torch.tensor(0.604)])
def test_soft_dice_right(predicted, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_soft_dice(_soft_dice, predicted) is True
    out = capsys.readouterr().out
    assert out.startswith("Correct! your soft Dice equals segedu's soft_dice_loss")
    assert "yours returns 0.604 and you predicted" in out and "17/25" in out and "1/9" in out  # it says why
    assert "more than half the loss" in out


def test_the_absent_class_costs_more_than_half_the_predicted_loss() -> None:
    assert (1 - 1 / 9) / 2 > RIGHT_PREDICTION / 2  # the right answer's feedback says so


@pytest.mark.parametrize("predicted", [RIGHT_PREDICTION, 0.604, 0.6, torch.tensor(0.604)])
def test_soft_dice_prediction_right_says_why(predicted, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_soft_dice_prediction(predicted) is True  # graded on its own, before any function is written
    out = capsys.readouterr().out
    assert out.startswith("Correct! segedu's soft_dice_loss gives 0.604 on this case and you predicted")
    assert "17/25" in out and "1/9" in out and "more than half the loss" in out  # it says why


@pytest.mark.parametrize(("predicted", "hint"), [
    (2 / 3, "you left out eps"), (0.16, "absent class Dice 1"), (0.32, "scored background only"),
    (0.396, "the mean Dice, a score"), (0.495, "V-Net's Eq. 1"), (0, "took the argmax"),
    (0.55, "work out I_k, P_k and G_k"), (0.61, "work out I_k, P_k and G_k"),  # 0.0056 off: outside the 0.005
])
def test_soft_dice_wrong_prediction_says_why(predicted, hint, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_soft_dice_prediction(predicted) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet: your prediction") and hint in out, out
    assert "0.604" not in out and "17/25" not in out  # the value is not given away


@pytest.mark.parametrize(("predicted", "hint"), [(2 / 3, "you left out eps"), (0.55, "work out I_k, P_k and G_k")])
def test_soft_dice_function_check_keeps_a_missed_prediction_hidden(predicted, hint, capsys) -> None:
    assert check_soft_dice(_soft_dice, predicted) is True  # the function is right; the prediction is graded apart
    out = capsys.readouterr().out
    assert out.startswith("Correct! your soft Dice equals segedu's soft_dice_loss") and "is not its value" in out
    assert "0.604" not in out and "17/25" not in out and hint not in out  # the prediction cell gives the hint


@pytest.mark.parametrize("check", [lambda predicted: check_soft_dice(_soft_dice, predicted),
                                   check_soft_dice_prediction])
@pytest.mark.parametrize(("predicted", "hint"), [(..., "record your prediction first"),
                                                 (None, "record your prediction first"),
                                                 ("about half", "one number"), (True, "one number")])
def test_soft_dice_prediction_comes_first(check, predicted, hint, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(predicted) is False  # even a right function waits for the prediction
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out and "0.604" not in out, out


def test_prediction_slips_lie_far_from_the_right_answer() -> None:
    from segedu.course.exercises.lesson15 import _prediction_slips

    assert all(abs(value - RIGHT_PREDICTION) > 10 * PREDICTION_TOLERANCE for value, _ in _prediction_slips())


def test_the_predicted_case_is_one_minus_the_mean_of_17_25_and_1_9() -> None:
    logits, masks = prediction_case()
    assert logits.shape == (1, 2, 4, 4) and bool((masks == 0).all())
    assert float(soft_dice_loss(logits, masks)) == pytest.approx(1 - (17 / 25 + 1 / 9) / 2)
    assert float(_soft_dice(logits, masks)) == pytest.approx(0.6044, abs=1e-4)


@pytest.mark.parametrize(("options", "hint"), [
    ({"score": True}, "the mean Dice, a score"),
    ({"squares": True}, "V-Net's Eq. 1"),
    ({"skip_background": True}, "left background out"),
    ({"axes": (2, 3)}, "one Dice per image"),
    ({"activation": "sigmoid"}, "sigmoid"),
    ({"activation": "none"}, "logits as probabilities"),
    ({"eps": 0.0}, "left out eps"),
])
def test_soft_dice_names_the_slip(options, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_soft_dice(lambda logits, masks: _soft_dice(logits, masks, **options), 0.604) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out, out


@pytest.mark.parametrize(("function", "hint"), [
    (lambda logits, masks: soft_dice_loss(logits, masks), "calls segedu's soft_dice_loss"),
    (lambda logits, masks: ..., "returns nothing"),
    (lambda logits, masks: torch.ones(3), "return one number"),
])
def test_soft_dice_refuses_borrowed_and_unfinished_answers(function, hint: str, capsys) -> None:
    assert check_soft_dice(function, 0.604) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out, out


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
    assert "union" not in out and "mean accuracy" not in out  # exercise 5's last part asks why: not given away


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
    assert out.startswith("Correct!") and "99 / 150 = 0.66" in out and "union" in out
    assert "mean accuracy" not in out  # exercise 5's last part asks about the averaged scores


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


def _fake_run(rng: np.random.Generator) -> dict:
    # a run with a random 11 x 11 confusion matrix (rows true, columns predicted), every class present
    return {"confusion": (rng.integers(1, 50, size=(11, 11)) + np.eye(11, dtype=int) * 500).tolist()}


def _fake_record(name: str, losses: list[str], seeds: list[str], rng: np.random.Generator) -> dict:
    return {"name": name, "results": {"runs": {loss: {seed: _fake_run(rng) for seed in seeds} for loss in losses}}}


def test_paired_mean_iou_rows_matches_a_plain_loop():
    from segedu.course.exercises.lesson15 import paired_mean_iou_rows
    from segedu.training.metrics import mean_iou

    rng = np.random.default_rng(0)
    first = _fake_record("a", ["cross_entropy", "dice"], [str(seed) for seed in range(3)], rng)
    second = _fake_record("b", ["cross_entropy", "dice"], [str(seed) for seed in range(3, 6)], rng)
    no_reference = _fake_record("c", ["dice"], [str(seed) for seed in range(6)], rng)
    fallback = {**first["results"]["runs"]["cross_entropy"], **second["results"]["runs"]["cross_entropy"]}
    gaps, rows = paired_mean_iou_rows({"six": [first, second], "own": [no_reference]}, ["dice", "focal"],
                                      {"dice": "Dice", "focal": "focal"}, reference_runs=fallback)
    assert set(gaps) == {("six", "dice"), ("own", "dice")}  # no group ran focal: no row
    for group, record_runs in (("six", {"dice": {**first["results"]["runs"]["dice"], **second["results"]["runs"]["dice"]}}),
                               ("own", no_reference["results"]["runs"])):
        expected = [mean_iou(torch.tensor(record_runs["dice"][str(seed)]["confusion"], dtype=torch.float64))
                    - mean_iou(torch.tensor(fallback[str(seed)]["confusion"], dtype=torch.float64)) for seed in range(6)]
        np.testing.assert_allclose(gaps[group, "dice"], expected, atol=1e-12)
        row = rows[f"{group}, Dice"]
        assert row["seeds"] == "0 to 5" and row["loss - plain CE"] == pytest.approx(np.mean(expected))
        assert row["+/=/-"] == f"{sum(gap > 0 for gap in expected)}/0/{sum(gap < 0 for gap in expected)}"


def test_paired_mean_iou_rows_three_seeds_give_no_verdict_and_a_missing_reference_is_named():
    from segedu.course.exercises.lesson15 import paired_mean_iou_rows

    rng = np.random.default_rng(1)
    three = _fake_record("t", ["cross_entropy", "dice"], ["0", "1", "2"], rng)
    _, rows = paired_mean_iou_rows({"short": [three]}, ["dice"], {"dice": "Dice"})
    assert rows["short, Dice"]["verdict"] == "3 seeds: no verdict possible"
    with pytest.raises(ValueError, match="no 'cross_entropy' runs"):
        paired_mean_iou_rows({"bare": [_fake_record("d", ["dice"], ["0"], rng)]}, ["dice"], {"dice": "Dice"})
    partial = _fake_record("p", ["dice"], ["0", "1"], rng)  # seed 2 missing
    with pytest.raises(ValueError, match="lacks seeds"):
        paired_mean_iou_rows({"partial": [partial]}, ["dice"], {"dice": "Dice"},
                             reference_runs=three["results"]["runs"]["cross_entropy"])


@pytest.mark.parametrize("choice", ["a", "A", " (a) "])
def test_score_gap_reason_right_says_why(choice, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_score_gap_reason(choice)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "union" in out and "background's many" in out
    assert "0.03" not in out  # the next part asks for background's recall cost: no spoiler


@pytest.mark.parametrize(("choice", "hint"), [("b", "weight 1/K"), ("c", "true positive"),
                                              ("d", "misnamed slightly fewer"), ("e", "one letter"),
                                              (..., "record your answer")])
def test_score_gap_reason_wrong_says_why(choice, hint, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_score_gap_reason(choice)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out


def test_score_gap_reasons_one_right() -> None:
    assert sorted(SCORE_GAP_REASONS) == ["a", "b", "c", "d"]
    assert not any("17 times" in reason for reason in SCORE_GAP_REASONS.values())  # the scale part's feedback: no echo
    assert sum(check_score_gap_reason(letter) for letter in SCORE_GAP_REASONS) == 1
