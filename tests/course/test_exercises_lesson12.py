"""Each lesson-12 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

import pytest

from segedu.course.exercises.lesson12 import (
    AUGMENTATIONS,
    TAMPER_OUTCOMES,
    check_safe_augmentations,
    check_tamper_prediction,
)


def test_tamper_prediction_right_and_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_tamper_prediction("loads with changed weights", "loads with changed weights")
    out = capsys.readouterr().out
    assert "expected_sha256" in out and "CRC-32" in out and "does not verify" in out
    assert "without any check" not in out
    assert not check_tamper_prediction("refused", "loads with changed weights")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "you predicted 'refused'" in out and "hash" in out


@pytest.mark.parametrize("prediction", [..., None, "crashes"])
def test_tamper_prediction_must_be_recorded_first(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_tamper_prediction(prediction, "refused")
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(repr(choice) in out for choice in TAMPER_OUTCOMES)


def test_tamper_check_refuses_an_unknown_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_tamper_prediction("refused", "exploded")
    assert "measured outcome" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [{"b", "c", "e"}, "bce", ["e", "B", "c"]])
def test_safe_augmentations_right(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_safe_augmentations(answer)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "marks 255" in out


def test_safe_augmentations_wrong_answers_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_safe_augmentations({"a", "b", "c", "d", "e"})
    out = capsys.readouterr().out
    assert "a is not safe" in out and "d is not safe" in out and "6 into a 9" in out
    assert "no longer plausible" in out  # a mirror keeps the labels correct; the scene is what breaks
    assert not check_safe_augmentations({"b"})
    out = capsys.readouterr().out
    assert "c is safe" in out and "e is safe" in out
    assert "clipped to 1" in AUGMENTATIONS["e"] and "clipping at 1" in out  # the prompt and the feedback agree
    assert "marked 255" in out and "never seen at test time" in out  # the fill is named, not hidden


@pytest.mark.parametrize("answer", [..., None, {"z"}, 3])
def test_safe_augmentations_unreadable_answers(answer, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_safe_augmentations(answer)
    assert capsys.readouterr().out.startswith("Not yet:")
    assert set(AUGMENTATIONS) == {"a", "b", "c", "d", "e"}
