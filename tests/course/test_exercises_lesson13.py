"""Each lesson-13 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

import math

import pytest

from segedu.course.exercises.lesson13 import (
    METRIC_STATEMENTS,
    SCALE_OUTCOMES,
    all_eights_scores,
    check_border_weight,
    check_hidden_problem,
    check_scale_prediction,
)


def test_scale_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_scale_prediction("unchanged", "unchanged")
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "cancels" in out
    assert not check_scale_prediction("about 10 times larger", "unchanged")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "you predicted 'about 10 times larger'" in out and "ratios" in out


@pytest.mark.parametrize("prediction", [..., None, "doubles"])
def test_scale_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_scale_prediction(prediction, "unchanged")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(repr(choice) in out for choice in SCALE_OUTCOMES)


def test_scale_check_refuses_an_unknown_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_scale_prediction("unchanged", "exploded")
    assert "measured outcome" in capsys.readouterr().out


def test_border_weight_right_and_typical_mistakes(capsys: pytest.CaptureFixture[str]) -> None:
    value = 10 * math.exp(-36 / 50)
    assert check_border_weight(round(value, 2))
    assert capsys.readouterr().out.startswith("Correct!")
    assert not check_border_weight(10 * math.exp(-18 / 50))
    assert "squared the distances one by one" in capsys.readouterr().out
    assert not check_border_weight(10 * math.exp(-6 / 50))
    assert "did not square" in capsys.readouterr().out
    assert not check_border_weight(1 + value)
    assert "border term alone" in capsys.readouterr().out
    assert not check_border_weight(2.0)
    assert "put d1 = 3" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [..., None, "4.87", True, float("nan")])
def test_border_weight_unreadable_answers(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_border_weight(answer)
    assert capsys.readouterr().out.startswith("Not yet:")


@pytest.mark.parametrize("answer", [{"a", "c", "d"}, "acd", ["D", "c", "a"]])
def test_hidden_problem_right(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_hidden_problem(answer)
    assert capsys.readouterr().out.startswith("Correct!")


def test_hidden_problem_wrong_answers_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_hidden_problem({"a", "b", "c", "d"})
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "b is false" in out and "equal weight" in out
    assert not check_hidden_problem({"a"})
    out = capsys.readouterr().out
    assert "c is true" in out and "d is true" in out


@pytest.mark.parametrize("answer", [..., None, {"z"}, 3])
def test_hidden_problem_unreadable_answers(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_hidden_problem(answer)
    assert capsys.readouterr().out.startswith("Not yet:")
    assert set(METRIC_STATEMENTS) == {"a", "b", "c", "d", "e"}


def test_all_eights_scores_follow_from_the_class_shares() -> None:
    from segedu.datasets import DigitScenes, class_frequencies

    scores = all_eights_scores()
    shares = class_frequencies(DigitScenes("test"))  # (11,)
    # background stays right and every digit pixel becomes an 8: right pixels = background + the true 8s
    assert scores["pixel_accuracy"] == pytest.approx(float(shares[0] + shares[8]), abs=1e-6)
    assert scores["iou_per_class"][0] == pytest.approx(1.0)
    assert scores["iou_per_class"][8] == pytest.approx(float(shares[8] / shares[1:].sum()), abs=1e-6)
    assert scores["mean_accuracy"] == pytest.approx(2 / 11)
