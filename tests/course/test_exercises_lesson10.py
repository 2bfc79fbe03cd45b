"""Each lesson-09 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from segedu.course.exercises.lesson10 import (
    GAIN_CHOICES,
    PARITY_CHOICES,
    PREDICTION_QUESTION,
    check_crop_parity,
    check_larger_gain,
    check_predicted_output_side,
    check_valid_output_size,
    skip_differences,
)
from segedu.analysis.unet_sizes import valid_output_size


def _run(check: Callable, answer: Callable, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    result = check(answer)
    return result, capsys.readouterr().out


def _stub(*arguments: object) -> object:
    raise NotImplementedError


def _empty(*arguments: object) -> None:
    ...  # the notebook's stub: its body is `...`, so it returns None


# --- why the crop is even ---------------------------------------------------------------------


def test_skip_differences_match_the_papers_crops() -> None:
    assert skip_differences(572) == [176, 80, 32, 8]  # twice section 2's crops per side: 88, 40, 16, 4
    assert skip_differences(124, depth=3) == [80, 32, 8]


def test_crop_parity_accepts_the_right_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_crop_parity("even sides") is True
    printed = capsys.readouterr().out
    assert "[176, 80, 32, 8] for 572" in printed and "0 have an odd difference" in printed
    assert "Correct!" in printed and "Even minus even" in printed


def test_crop_parity_distractor_fails_where_its_feedback_says() -> None:
    # "even input": 204 fits, yet its last pool makes an odd side (18 -> 9) and the bottleneck is 5 wide.
    assert 204 in [16 * (b + 8) - 4 for b in range(4, 57)]
    side, sides = 204 - 4, []
    for _ in range(4):
        sides.append(side // 2)  # what each max-pool gives
        side = side // 2 - 4
    assert sides == [100, 48, 22, 9] and side == 5


def test_crop_parity_choices_are_alike_in_length() -> None:
    words = [len(reason.split()) for reason in PARITY_CHOICES.values()]  # the right one must not stand out
    assert max(words) <= 1.25 * min(words)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [(..., "record your prediction first"), ("even", "must be one of"), (2, "must be one of"),
     ("only 572", "572 is not special"), ("even input", "204"), ("centred crop", "circular")],
)
def test_crop_parity_explains_a_miss(answer: object, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_crop_parity(answer) is False
    printed = capsys.readouterr().out
    assert "Not yet:" in printed and hint in printed and len(PARITY_CHOICES) == 4
    if answer is ...:
        assert "odd difference" not in printed  # nothing of the answer before a prediction
    else:  # a hint points at the idea without naming the answer's reason
        assert "max-pool" not in printed.split("Not yet:")[1] and "twice" not in printed.split("Not yet:")[1]


# --- valid output size ------------------------------------------------------------------------


def _walk(input_size: int, depth: int) -> int:
    size = input_size - 4
    for _ in range(depth):
        size = size // 2 - 4
    for _ in range(depth):
        size = 2 * size - 4
    return size


@pytest.mark.parametrize(
    "answer",
    [
        _walk,
        lambda n, depth: float(_walk(n, depth)),
        valid_output_size,
    ],
)
def test_valid_output_size_accepts_right_answers(answer: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_valid_output_size, answer, capsys)
    assert correct and printed.startswith("Correct!")


def _no_decoder_trim(input_size: int, depth: int) -> int:
    size = input_size - 4
    for _ in range(depth):
        size = size // 2 - 4
    return size * 2**depth


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_empty, "returns nothing yet"),
        (lambda n, depth: "388", "whole number"),
        (lambda n, depth: n, "'same' padding"),
        (_no_decoder_trim, "each Up's DoubleConv also trims 4"),
        (lambda n, depth: n - 4 * (2 * depth + 1), "pools halve the size"),
        (lambda n, depth: 388, "Walk down the U"),
    ],
)
def test_valid_output_size_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_valid_output_size, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


# --- predicted output side -------------------------------------------------------------------


def _predicted_right() -> int:
    return _walk(PREDICTION_QUESTION["input_size"], PREDICTION_QUESTION["depth"])


def test_the_question_is_not_the_papers_depth_and_fits() -> None:
    assert PREDICTION_QUESTION["depth"] != 4
    assert valid_output_size(PREDICTION_QUESTION["input_size"], PREDICTION_QUESTION["depth"]) == _predicted_right()


@pytest.mark.parametrize("answer", [_predicted_right(), float(_predicted_right()), torch.tensor(_predicted_right())])
def test_predicted_output_side_accepts_the_right_number(answer: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_predicted_output_side(answer) is True
    printed = capsys.readouterr().out
    assert printed.startswith("measured:") and "Correct!" in printed


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (..., "record your prediction first"),
        ("36", "whole number"),
        (PREDICTION_QUESTION["input_size"], "same padding"),
        (PREDICTION_QUESTION["input_size"] - 184, "depth-4"),
        (64, "each Up's DoubleConv trims 4"),
        (92, "each Down's DoubleConv trims 4"),
        (PREDICTION_QUESTION["input_size"] - 28, "do not simply add up"),
        (_predicted_right() + 4, "walk the side around the U"),
    ],
)
def test_predicted_output_side_names_the_slip(answer: object, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_predicted_output_side(answer) is False
    printed = capsys.readouterr().out
    assert "Not yet:" in printed and hint in printed


# --- where do the skips gain? -----------------------------------------------------------------

_ALL_PIXELS = [0.064, -0.049, 0.026, 0.093, 0.024]  # shaped like the stored five-seed record
_BAND = [0.103, 0.071, 0.071, 0.177, 0.106]


def test_larger_gain_accepts_the_measured_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_larger_gain("band", _ALL_PIXELS, _BAND) is True
    printed = capsys.readouterr().out
    assert "+0.064 / +0.103" in printed and "on 5 of 5 seeds" in printed and "Correct!" in printed
    assert "diluted over all pixels" in printed and "more room to gain" in printed  # says why, headroom too


@pytest.mark.parametrize(
    ("answer", "hint"),
    [(..., "record your prediction first"), ("edges", "must be one of"), (1, "must be one of")],
)
def test_larger_gain_needs_a_recorded_prediction(answer: object, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_larger_gain(answer, _ALL_PIXELS, _BAND) is False
    printed = capsys.readouterr().out
    assert "Not yet:" in printed and hint in printed and "+0.064" not in printed  # nothing of the answer yet


@pytest.mark.parametrize("answer", ["all pixels", "mixed"])
def test_larger_gain_passes_a_recorded_miss_and_explains_it(answer: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_larger_gain(answer, _ALL_PIXELS, _BAND) is True  # recorded before the table: that is what counts
    printed = capsys.readouterr().out
    assert "Recorded; the result differs:" in printed and "the measurement says 'band'" in printed
    assert "Correct!" not in printed and "+0.064 / +0.103" in printed


def test_larger_gain_follows_the_measurement_not_a_fixed_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_larger_gain("mixed", [0.1, 0.0], [0.0, 0.1]) is True
    assert check_larger_gain("all pixels", [0.2, 0.3], [0.1, 0.1]) is True
    capsys.readouterr()
    assert check_larger_gain("band", [0.2, 0.3], [0.1, 0.1]) is True
    assert "Recorded; the result differs:" in capsys.readouterr().out and len(GAIN_CHOICES) == 3
    assert check_larger_gain("band", [0.1], [0.2, 0.3]) is False
    assert "one band gain per seed" in capsys.readouterr().out
