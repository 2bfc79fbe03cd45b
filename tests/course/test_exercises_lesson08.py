"""Each lesson-08 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from segedu.course.exercises.lesson08 import (
    PREDICTION_QUESTION,
    check_center_crop,
    check_predicted_output_side,
    check_smallest_valid_input,
    check_valid_output_size,
)
from segedu.analysis.unet_sizes import valid_output_size


def _run(check: Callable, answer: Callable, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    result = check(answer)
    return result, capsys.readouterr().out


def _stub(*arguments: object) -> object:
    raise NotImplementedError


def _empty(*arguments: object) -> None:
    ...  # the notebook's stub: its body is `...`, so it returns None


# --- centre crop ------------------------------------------------------------------------------


def _crop(skip: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    top, left = (skip.shape[-2] - size[0]) // 2, (skip.shape[-1] - size[1]) // 2
    return skip[..., top : top + size[0], left : left + size[1]]


def _crop_rounding_up(skip: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    top, left = -(-(skip.shape[-2] - size[0]) // 2), -(-(skip.shape[-1] - size[1]) // 2)
    return skip[..., top : top + size[0], left : left + size[1]]


@pytest.mark.parametrize("answer", [_crop, lambda skip, size: _crop(skip, size).clone()])
def test_center_crop_accepts_right_answers(answer: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_center_crop, answer, capsys)
    assert correct and printed.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_empty, "returns nothing yet"),
        (lambda skip, size: skip.tolist(), "return a tensor"),
        (lambda skip, size: skip[0, 0, : size[0], : size[1]], "keep the batch and channel dimensions"),
        (lambda skip, size: skip[..., : size[0], : size[1]], "top-left corner"),
        (lambda skip, size: skip[..., skip.shape[-2] - size[0] :, skip.shape[-1] - size[1] :], "bottom-right"),
        (_crop_rounding_up, "round the top margin down"),
    ],
)
def test_center_crop_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_center_crop, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


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


# --- smallest valid input ---------------------------------------------------------------------


def _by_formula(n: int, depth: int) -> int:
    # The output 2**depth * (b - 4) + 4 must be positive: b >= 3 for depth 1, b >= 4 for deeper U-Nets.
    smallest = 3 if depth == 1 else 4
    bottleneck = max(smallest, -(-(n + 4) // 2**depth) - 8)  # smallest such b with 2**depth * (b + 8) - 4 >= n
    return 2**depth * (bottleneck + 8) - 4


def _by_search(n: int, depth: int) -> int:
    size = n
    while True:
        try:
            valid_output_size(size, depth)
            return size
        except ValueError:
            size += 1


@pytest.mark.parametrize("answer", [_by_formula, _by_search])
def test_smallest_valid_input_accepts_right_answers(answer: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_smallest_valid_input, answer, capsys)
    assert correct and printed.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_empty, "returns nothing yet"),
        (lambda n, depth: None if n else 0, "returns nothing yet"),
        (lambda n, depth: [n], "whole number"),
        (lambda n, depth: _by_formula(n, depth) - 2**depth, "smaller than n"),
        (lambda n, depth: n + (n % 2), "does not fit"),
        (lambda n, depth: _by_formula(n, depth) + 2**depth, "is smaller and fits too"),
    ],
)
def test_smallest_valid_input_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_smallest_valid_input, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed
