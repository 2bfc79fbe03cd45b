"""Lesson 02's checks accept right answers and name the likely mistake in wrong ones."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segedu.core.encoding import IGNORE_INDEX
from segedu.course.exercises.lesson02 import (
    check_mean_loss,
    check_one_hot,
    check_pixel_cross_entropy,
    check_to_labels,
)


def _one_hot_loop(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    encoded = torch.zeros(num_classes, *labels.shape)
    for k in range(num_classes):
        encoded[k] = (labels == k).float()
    return encoded


def _one_hot_scatter(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    labelled = labels != IGNORE_INDEX
    safe = torch.where(labelled, labels, 0)
    return torch.zeros(num_classes, *labels.shape).scatter_(0, safe[None], 1.0) * labelled


def _one_hot_stub(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return torch.zeros(num_classes, *labels.shape)


def _one_hot_class_axis_last(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return _one_hot_loop(labels, num_classes).permute(1, 2, 0)


def _one_hot_ignore_as_class_zero(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return _one_hot_loop(torch.where(labels == IGNORE_INDEX, 0, labels), num_classes)


def _one_hot_torch_only(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return F.one_hot(labels, num_classes).permute(2, 0, 1).float()


def _one_hot_off_by_one(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return _one_hot_loop(labels - 1, num_classes)


@pytest.mark.parametrize("answer", [_one_hot_loop, _one_hot_scatter])
def test_one_hot_accepts_loop_and_scatter(answer, capsys) -> None:
    assert check_one_hot(answer) is True
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_one_hot_stub, "all zeros"),
        (_one_hot_class_axis_last, "class axis must come first"),
        (_one_hot_ignore_as_class_zero, "must be all-zero vectors"),
        (_one_hot_torch_only, "with ignored pixels (255): your function raised"),
        (_one_hot_off_by_one, "first difference at channel"),
    ],
)
def test_one_hot_names_the_mistake(answer, hint, capsys) -> None:
    assert check_one_hot(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:")
    assert hint in out


def test_to_labels_accepts_argmax_over_classes(capsys) -> None:
    assert check_to_labels(lambda scores: scores.argmax(dim=0)) is True
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda scores: ..., "returns nothing yet"),
        (lambda scores: scores.argmax(dim=1), "class axis, dim=0"),
        (lambda scores: scores.max(dim=0).values, "not its value"),
        (lambda scores: scores.argmin(dim=0), "first difference at pixel"),
    ],
)
def test_to_labels_names_the_mistake(answer, hint, capsys) -> None:
    assert check_to_labels(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:")
    assert hint in out


@pytest.mark.parametrize(
    "answer",
    [
        lambda scores, y: torch.logsumexp(scores, 0) - scores[y],
        lambda scores, y: float(-scores.log_softmax(0)[y]),
    ],
)
def test_pixel_cross_entropy_accepts_stable_formulas(answer, capsys) -> None:
    assert check_pixel_cross_entropy(answer) is True
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda scores, y: ..., "returns nothing yet"),
        (lambda scores, y: scores.softmax(0)[y].log(), "check the sign"),
        (lambda scores, y: -scores.softmax(0)[y], "take the logarithm"),
        (lambda scores, y: -scores[y], "probabilities first"),
        (lambda scores, y: -torch.log(scores.exp()[y] / scores.exp().sum()), "overflows"),
        (lambda scores, y: scores, "return one number"),
    ],
)
def test_pixel_cross_entropy_names_the_mistake(answer, hint, capsys) -> None:
    assert check_pixel_cross_entropy(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:")
    assert hint in out


def _per_pixel(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    labelled = target != IGNORE_INDEX
    return F.cross_entropy(logits, torch.where(labelled, target, 0), reduction="none"), labelled


def test_mean_loss_accepts_labelled_mean(capsys) -> None:
    def answer(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        per_pixel, labelled = _per_pixel(logits, target)
        return per_pixel[labelled].mean()

    assert check_mean_loss(answer) is True
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda logits, target: _per_pixel(logits, target)[0].mean(), "still in your mean"),
        (
            lambda logits, target: (_per_pixel(logits, target)[0] * _per_pixel(logits, target)[1]).mean(),
            "denominator",
        ),
        (lambda logits, target: F.cross_entropy(logits, target), "your function raised"),
        (lambda logits, target: 0.0, "expected"),
    ],
)
def test_mean_loss_names_the_mistake(answer, hint, capsys) -> None:
    assert check_mean_loss(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:")
    assert hint in out
