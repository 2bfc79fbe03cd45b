"""Each lesson-13 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

import pytest
import torch

from segedu.course.exercises.lesson14 import (
    AUGMENTATIONS,
    EXPLANATIONS,
    GAP_OUTCOMES,
    check_gap_prediction,
    check_ruled_out_explanations,
    check_safe_augmentations,
    classify_gap_narrowing,
    paired_t_interval,
)


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


def test_paired_t_interval_matches_the_lesson() -> None:
    """Section 2's stored differences, augmented minus plain, per seed (0-9): the interval printed in the lesson."""
    low, high = paired_t_interval([0.033, 0.028, -0.052, 0.000, -0.002, -0.022, 0.017, -0.030, 0.013, -0.051])
    assert low == pytest.approx(-0.029, abs=0.001) and high == pytest.approx(0.015, abs=0.001)
    low, high = paired_t_interval([0.033, 0.028, -0.052])  # seeds 0-2 only: 4.3 standard errors either side
    assert low == pytest.approx(-0.115, abs=0.003) and high == pytest.approx(0.121, abs=0.003)
    assert paired_t_interval([1.0, 1.0, 1.0]) == (1.0, 1.0)
    with pytest.raises(ValueError, match="2 to 10"):
        paired_t_interval([0.1])


def test_paired_t_interval_uses_the_t_distributions_95_percent_points() -> None:
    """Each t point holds 95% of Student's t density between -t and t (integrated numerically with torch)."""
    from segedu.course.experiments import _T_975

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


def test_gap_prediction_without_an_outcome_only_records(capsys: pytest.CaptureFixture[str]) -> None:
    """The lesson records the prediction before it measures anything: no outcome, no verdict, nothing given away."""
    assert check_gap_prediction("neither")
    out = capsys.readouterr().out
    assert out.startswith("Recorded: 'neither'.") and "Correct!" not in out and "differs" not in out
    assert all(choice not in out for choice in GAP_OUTCOMES if choice != "neither")
    assert not check_gap_prediction(...)
    assert capsys.readouterr().out.startswith("Not yet: record your prediction first")
    assert not check_gap_prediction("narrows")
    assert "must be one of" in capsys.readouterr().out


def test_gap_feedback_leaves_the_cause_of_the_fall_to_exercise_3(capsys: pytest.CaptureFixture[str]) -> None:
    check_gap_prediction("by lowering training", "by lowering training")
    out = capsys.readouterr().out
    assert "exercise 3's question" in out and "harder to memorise" not in out  # no untested cause stated as fact


@pytest.mark.parametrize("answer", [{"a", "b"}, "ab", ["B", "a"]])
def test_ruled_out_explanations_right(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_ruled_out_explanations(answer)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "without augmentation" in out  # a: how the records score training
    assert "0.718 against 0.713" in out and "-0.012 to +0.021" in out  # b: the noise control's training scores
    assert "c is not" in out and "hypothesis" in out  # c: untested, said so
    # what the fall consists of (section 4.1, seed 0), told apart from why it happened
    assert "candidate causes" in out and "81% of the stroke pixels" in out and "names 99%" in out
    assert "missed strokes" in out and "not confused digits" in out


def test_ruled_out_explanations_wrong_answers_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_ruled_out_explanations({"a", "b", "c"})
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "c is not ruled out" in out and "hypothesis" in out
    assert "a is" not in out and "b is" not in out  # right choices are not among the misses
    assert not check_ruled_out_explanations({"a"})
    out = capsys.readouterr().out
    assert "b is ruled out" in out and "0.718 against 0.713" in out and "a is" not in out
    assert not check_ruled_out_explanations(set())  # "none is ruled out"
    out = capsys.readouterr().out
    assert "a is ruled out" in out and "b is ruled out" in out and "c is" not in out
    assert not check_ruled_out_explanations({"c"})
    out = capsys.readouterr().out
    assert "c is not ruled out" in out and "a is ruled out" in out
    assert "81% of the stroke pixels" in out and "missed strokes" in out  # the same note on what the fall is


def test_ruled_out_feedback_uses_the_lessons_seed_0_error_split(capsys: pytest.CaptureFixture[str]) -> None:
    """The note's shares are section 4.1's printed ones: 81% found, 99% of those named (augmented), 98% found (plain)."""
    check_ruled_out_explanations({"a", "b"})
    out = capsys.readouterr().out
    assert "finds only 81%" in out and "(plain 98%)" in out and "names 99% of those it finds right" in out
    assert "section 4.1" in out and "seed 0" in out and "one seed" in out  # one run, said so


@pytest.mark.parametrize("answer", [..., None, {"d"}, 2])
def test_ruled_out_explanations_unreadable_answers(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_ruled_out_explanations(answer)
    assert capsys.readouterr().out.startswith("Not yet:")
    assert set(EXPLANATIONS) == {"a", "b", "c"}
