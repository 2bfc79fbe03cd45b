"""Each lesson-09 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from segedu.course.exercises.lesson09 import (
    _PICK_CASES,
    _PICK_TABLES,
    ERROR_KINDS,
    _pick_reference,
    check_band_mean_iou,
    check_far_error_prediction,
    check_pick_model,
    check_score_layer_parameters,
)
from segedu.training.metrics import boundary_band, confusion_matrix, iou_per_class, mean_iou


def _run(check: Callable, answer: Callable, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    result = check(answer)
    return result, capsys.readouterr().out


def _stub(*arguments: object) -> object:
    raise NotImplementedError


def _placeholder(*arguments: object) -> object:
    return ...


def _empty(*arguments: object) -> None:
    ...  # the notebook's stub: its body is `...`, so it returns None


# --- band mean IoU ----------------------------------------------------------------------------


def _band_by_matrix(pred: torch.Tensor, target: torch.Tensor, width: int, num_classes: int) -> float:
    return mean_iou(confusion_matrix(pred, target, num_classes, 255, boundary_band(target, width)))


def _band_by_loops(pred: torch.Tensor, target: torch.Tensor, width: int, num_classes: int) -> float:
    keep = boundary_band(target, width) & (target != 255)
    values = []
    for label in range(num_classes):
        hit, true = (pred == label) & keep, (target == label) & keep
        union = int((hit | true).sum())
        if union:
            values.append(int((hit & true).sum()) / union)
    return sum(values) / len(values)


@pytest.mark.parametrize("answer", [_band_by_matrix, _band_by_loops])
def test_band_mean_iou_accepts_right_answers(answer: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_band_mean_iou, answer, capsys)
    assert correct and printed.startswith("Correct!")


def _everywhere(pred, target, width, num_classes):
    return mean_iou(confusion_matrix(pred, target, num_classes, 255))


def _interior(pred, target, width, num_classes):
    return mean_iou(confusion_matrix(pred, target, num_classes, 255, ~boundary_band(target, width)))


def _zeros_for_absent(pred, target, width, num_classes):
    matrix = confusion_matrix(pred, target, num_classes, 255, boundary_band(target, width))
    return float(iou_per_class(matrix).nan_to_num(0.0).mean())


def _ignored_counted(pred, target, width, num_classes):
    band = boundary_band(target, width)
    values = []
    for label in range(num_classes):
        hit, true = (pred == label) & band, (target == label) & band
        if int((hit | true).sum()):
            values.append(int((hit & true).sum()) / int((hit | true).sum()))
    return sum(values) / len(values)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_placeholder, "returns nothing yet"),
        (_empty, "returns nothing yet"),
        (_everywhere, "mean IoU of all pixels"),
        (_interior, "interior"),
        (_zeros_for_absent, "nanmean"),
        (_ignored_counted, "255"),
        (lambda pred, target, width, num_classes: 0.5, "the band's mean IoU is"),
        (lambda pred, target, width, num_classes: "high", "return one number"),
    ],
)
def test_band_mean_iou_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_band_mean_iou, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


# --- far-from-boundary error prediction ------------------------------------------------------

_COUNTS = {"wrong": 1030, "bg -> object": 26, "object -> bg": 259, "object -> other shape": 745}


def test_far_error_prediction_accepts_the_largest_kind(capsys: pytest.CaptureFixture[str]) -> None:
    correct = check_far_error_prediction("object -> other shape", _COUNTS)
    printed = capsys.readouterr().out
    assert correct and printed.startswith("Correct!") and "72%" in printed


def test_far_error_prediction_follows_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    counts = {"bg -> object": 1750, "object -> bg": 7017, "object -> other shape": 6924}
    assert check_far_error_prediction("object -> bg", counts)
    assert not check_far_error_prediction("object -> other shape", counts)
    assert "'object -> bg'" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("prediction", "counts", "hint"),
    [
        (..., _COUNTS, "record your prediction first"),
        (None, _COUNTS, "record your prediction first"),
        ("clutter", _COUNTS, "must be one of"),
        ("bg -> object", _COUNTS, "the largest kind is 'object -> other shape'"),
        ("object -> bg", _COUNTS, "you predicted 'object -> bg' (25%"),
        ("object -> bg", {"wrong": 3}, "pass the counts"),
        ("object -> bg", dict.fromkeys(ERROR_KINDS, 0), "no wrong pixel"),
    ],
)
def test_far_error_prediction_hints(prediction, counts, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_far_error_prediction(prediction, counts)
    printed = capsys.readouterr().out
    assert printed.startswith("Not yet:") and hint in printed


# --- pick a model -----------------------------------------------------------------------------


def test_pick_cases_are_consistent() -> None:
    for index, budget, expected in _PICK_CASES:
        assert _pick_reference(_PICK_TABLES[index], budget) == expected


def _right_pick(table, budget):
    fitting = [name for name, row in table.items() if row["activation_bytes"] <= budget]
    return max(fitting, key=lambda name: table[name]["band_miou"]) if fitting else None


def test_pick_model_accepts_the_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_pick_model, _right_pick, capsys)
    assert correct and printed.startswith("Correct!")


def _strict(table, budget):
    fitting = [name for name, row in table.items() if row["activation_bytes"] < budget]
    return max(fitting, key=lambda name: table[name]["band_miou"]) if fitting else None


def _no_none(table, budget):
    return _right_pick(table, budget) or min(table, key=lambda name: table[name]["activation_bytes"])


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_placeholder, "returns nothing yet"),
        (_empty, "returned None, but"),
        (lambda table, budget: max(table, key=lambda name: table[name]["band_miou"]), "keep only the models that fit"),
        (lambda table, budget: min(table, key=lambda name: table[name]["activation_bytes"]), "among those that fit"),
        (_strict, "<=, not <"),
        (_no_none, "return None"),
        (lambda table, budget: "unet", "return a model name from the table"),
    ],
)
def test_pick_model_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_pick_model, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


# --- score layer parameters -------------------------------------------------------------------


def test_score_layer_parameters_accepts_the_formula(capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_score_layer_parameters, lambda c, k: c * k + k, capsys)
    assert correct and printed.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_empty, "returns nothing yet"),
        (lambda c, k: c * k, "bias"),
        (lambda c, k: 9 * c * k + k, "3x3 conv"),
        (lambda c, k: c + k, "multiply"),
        (lambda c, k: 1000, "has"),
        (lambda c, k: None or "many", "whole number"),
    ],
)
def test_score_layer_parameters_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_score_layer_parameters, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed
