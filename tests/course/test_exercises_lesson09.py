"""Each lesson-09 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from segedu.course.exercises.lesson09 import (
    check_collision_prediction,
    check_index_memory,
    check_max_unpool,
    check_unpooled_zero_fraction,
)
from segedu.analysis.upsampling import bed_of_nails, max_unpool, nearest_upsample


def _run(check: Callable, answer: Callable, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    result = check(answer)
    return result, capsys.readouterr().out


def _stub(*arguments: object) -> object:
    raise NotImplementedError


def _placeholder(*arguments: object) -> object:
    return ...


def _empty(*arguments: object) -> None:
    ...  # the notebook's stub: its body is `...`, so it returns None


# --- zero fraction after unpooling -------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: 0.75 + r / 4,
        lambda r: 1 - (1 - r) / 4,
        lambda r: torch.tensor(3 + r) / 4,  # a 0-d tensor is fine too
    ],
)
def test_unpooled_zero_fraction_accepts_right_answers(answer: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_unpooled_zero_fraction, answer, capsys)
    assert correct and printed.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_placeholder, "replace the `...`"),
        (_empty, "returns nothing yet"),
        (lambda r: 0.75, "already 0 before unpooling"),
        (lambda r: r, "4 times larger"),
        (lambda r: (1 - r) / 4, "nonzero entries"),
        (lambda r: 0.75 * r + 0.25, "one position in four"),
        (lambda r: 0.5, "the measured fraction of zeros"),
        (lambda r: "most", "return one number"),
    ],
)
def test_unpooled_zero_fraction_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_unpooled_zero_fraction, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


# --- index memory -----------------------------------------------------------------------------


def _right_memory(channels: int, height: int, width: int) -> tuple[int, int, int]:
    windows = channels * (height // 2) * (width // 2)
    return windows * 8, channels * height * width * 4, windows * 2 // 8 + (windows * 2 % 8 > 0)


def test_index_memory_accepts_the_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_index_memory, _right_memory, capsys)
    assert correct and printed.startswith("Correct!")


def _replace(position: int, value: Callable[[int, int, int], int]) -> Callable:
    def answer(channels: int, height: int, width: int) -> list[int]:
        numbers = list(_right_memory(channels, height, width))
        numbers[position] = value(channels, height, width)
        return numbers
    return answer


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_placeholder, "replace the `...`"),
        (_empty, "returns nothing yet"),
        (lambda c, h, w: c * h * w, "three whole numbers"),
        (_replace(0, lambda c, h, w: c * (h // 2) * (w // 2) * 4), "int64: 8 bytes per index"),
        (_replace(0, lambda c, h, w: c * h * w * 8), "one index per pooled value"),
        (_replace(0, lambda c, h, w: 12345), "the int64 indices take"),
        (_replace(1, lambda c, h, w: c * (h // 2) * (w // 2) * 4), "whole float32 map"),
        (_replace(2, lambda c, h, w: c * (h // 2) * (w // 2) * 2), "8 bits make a byte"),
    ],
)
def test_index_memory_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_index_memory, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


# --- max unpool -------------------------------------------------------------------------------


def _scatter_unpool(x: torch.Tensor, indices: torch.Tensor, output_size: tuple[int, int]) -> torch.Tensor:
    batch, channels = x.shape[:2]
    out = x.new_zeros(batch, channels, output_size[0] * output_size[1])
    out.scatter_(2, indices.flatten(2), x.flatten(2))
    return out.view(batch, channels, *output_size)


@pytest.mark.parametrize(
    "answer",
    [
        _scatter_unpool,
        lambda x, indices, size: max_unpool(x, indices, size),
        lambda x, indices, size: F.max_unpool2d(x, indices, 2, output_size=size),
    ],
)
def test_max_unpool_accepts_right_answers(answer: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_max_unpool, answer, capsys)
    assert correct and printed.startswith("Correct!")


def _transposed_positions(x: torch.Tensor, indices: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    # Reads the flat index as column * H + row: the right values, misplaced.
    height, width = size
    swapped = (indices % width) * height + indices // width
    batch, channels = x.shape[:2]
    out = x.new_zeros(batch, channels, height * width)
    out.scatter_(2, swapped.flatten(2), x.flatten(2))
    return out.view(batch, channels, height, width)


def _one_value_dropped(x: torch.Tensor, indices: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    # Right except that the first value of x is never written: no recipe may be printed for it.
    out = max_unpool(x, indices, size)
    out.view(-1)[indices.view(-1)[0]] = 0.0
    return out


def test_max_unpool_hints_never_print_the_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    for answer in (_one_value_dropped, lambda x, indices, size: torch.zeros(*x.shape[:2], *size)):
        correct, printed = _run(check_max_unpool, answer, capsys)
        assert not correct and printed.startswith("Not yet:")
        assert "scatter" not in printed and "flatten" not in printed


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_placeholder, "replace the `...`"),
        (_empty, "returns nothing yet"),
        (lambda x, indices, size: x.tolist(), "return a tensor"),
        (lambda x, indices, size: x, "should have shape"),
        (lambda x, indices, size: bed_of_nails(x, 2), "bed of nails"),
        (lambda x, indices, size: nearest_upsample(x, 2), "nearest upsampling"),
        (_transposed_positions, "in the wrong places"),
        (lambda x, indices, size: torch.zeros(*x.shape[:2], *size), "all zeros"),
        (lambda x, indices, size: max_unpool(x, indices, size) + bed_of_nails(x, 2), "more positions hold a value"),
        (lambda x, indices, size: 2 * max_unpool(x, indices, size), "the right positions, but not the right values"),
        (_one_value_dropped, "Which value of x has its index at"),
    ],
)
def test_max_unpool_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_max_unpool, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


# --- can two indices collide? -----------------------------------------------------------------


RIGHT_COLLISIONS = {"2x2 stride 2": False, "3x3 stride 2": True}


def test_collision_prediction_accepts_the_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_collision_prediction(dict(RIGHT_COLLISIONS)) is True
    printed = capsys.readouterr().out
    assert printed.startswith("measured on random maps, 2x2 stride 2:") and "Correct!" in printed


def test_collision_prediction_measures_both_poolings(capsys: pytest.CaptureFixture[str]) -> None:
    check_collision_prediction(dict(RIGHT_COLLISIONS))
    printed = capsys.readouterr().out
    overlapping = printed.split("3x3 stride 2: ")[1]
    assert int(overlapping.split(" of ")[0]) > 0  # collisions really occur with 3x3 windows of stride 2
    assert "2x2 stride 2: 0 of" in printed  # and never with SegNet's tiling windows


@pytest.mark.parametrize(
    ("answer", "hint"),
    [({"2x2 stride 2": ..., "3x3 stride 2": ...}, "record your prediction first"),
     ({"2x2 stride 2": False, "3x3 stride 2": None}, "record your prediction first"),
     (True, "record a dict"), ({"3x3 stride 2": True}, "record a dict"),
     ({"2x2 stride 2": "no", "3x3 stride 2": True}, "True or False"),
     ({"2x2 stride 2": 0, "3x3 stride 2": 1}, "True or False"),
     ({"2x2 stride 2": False, "3x3 stride 2": False}, "share a row or a column"),
     ({"2x2 stride 2": True, "3x3 stride 2": True}, "exactly one window"),
     ({"2x2 stride 2": True, "3x3 stride 2": False}, "other way round")],
)
def test_collision_prediction_hints(answer: object, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_collision_prediction(answer) is False
    printed = capsys.readouterr().out
    assert "Not yet:" in printed and hint in printed


# --- section 5: the recorded prediction of the corner loss -------------------------------------

_REFERENCE, _TOP_LEFT, _RANDOM = 0.883, 0.210, [0.259, 0.262, 0.263]  # the lesson's measurement


def test_corner_loss_prediction_is_recorded_not_graded(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson09 import CORNER_LOSS_CHOICES, record_corner_loss_prediction

    for choice in CORNER_LOSS_CHOICES:  # every honest prediction passes: it is printed beside the measurement
        assert record_corner_loss_prediction(choice, _REFERENCE, _TOP_LEFT, _RANDOM)
        printed = capsys.readouterr().out
        assert printed.startswith(f"Recorded: {choice!r} (not graded)") and "0.210: 76% lost" in printed
        assert "lose 70% to 71% (3 draws; 'over 50 %')" in printed
        assert ("The measurement agrees" in printed) == (choice == "over 50 %")
    record_corner_loss_prediction("under 10 %", _REFERENCE, _TOP_LEFT, _RANDOM)
    printed = capsys.readouterr().out
    assert "The measurement falls in 'over 50 %'" in printed and "background everywhere" not in printed


def test_corner_loss_prediction_prints_the_all_background_floor(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson09 import record_corner_loss_prediction

    assert record_corner_loss_prediction("over 50 %", _REFERENCE, _TOP_LEFT, _RANDOM, background_only=0.207)
    printed = capsys.readouterr().out
    assert "predicting background everywhere, with no model, scores 0.207 (77% lost)" in printed
    assert not record_corner_loss_prediction("over 50 %", _REFERENCE, _TOP_LEFT, _RANDOM, background_only=0.9)
    assert capsys.readouterr().out.startswith("Not yet")


@pytest.mark.parametrize(("top_left", "measured"), [
    (0.80, "under 10 %"), (0.70, "10 to 30 %"), (0.50, "30 to 50 %"), (0.4415, "over 50 %"), (0.90, "under 10 %"),
])
def test_corner_loss_prediction_names_the_measured_range(
    top_left: float, measured: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from segedu.course.exercises.lesson09 import record_corner_loss_prediction

    assert record_corner_loss_prediction(measured, _REFERENCE, top_left, _RANDOM)
    assert "The measurement agrees" in capsys.readouterr().out


@pytest.mark.parametrize(("prediction", "reference", "draws", "hint"), [
    (..., _REFERENCE, _RANDOM, "record your prediction first"),
    ("half", _REFERENCE, _RANDOM, "must be one of"),
    ("over 50 %", 0.0, _RANDOM, "pass the mean IoU"),
    ("over 50 %", _REFERENCE, [], "one per draw"),
])
def test_corner_loss_prediction_hints(prediction, reference, draws, hint, capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.course.exercises.lesson09 import record_corner_loss_prediction

    assert not record_corner_loss_prediction(prediction, reference, _TOP_LEFT, draws)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet") and hint in printed
