"""Lesson 02's checks accept right answers and name the likely mistake in wrong ones."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from segedu.core.encoding import IGNORE_INDEX, one_hot
from segedu.course.exercises.lesson02 import (
    SCORE_EDITS,
    batch_mean_gradient_ratio,
    check_argmax_prediction,
    check_batch_mean_prediction,
    check_logit_gradient,
    check_one_hot,
    check_pixel_cross_entropy,
)
from segedu.training.losses import pixel_cross_entropy


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
        (_one_hot_torch_only, "calls a one_hot, which does the encoding for you"),
        (_one_hot_off_by_one, "first difference at channel"),
    ],
)
def test_one_hot_names_the_mistake(answer, hint, capsys) -> None:
    assert check_one_hot(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:")
    assert hint in out


def test_one_hot_accepts_a_right_prediction_for_scatter(capsys) -> None:
    assert check_one_hot(_one_hot_loop, "d") is True
    out = capsys.readouterr().out
    assert "the scatter encoder on a mask with a 255: scatter_ stops with an error" in out and "Correct!" in out


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        (..., "record your prediction first"),
        ("a", "your prediction was not"),
        ("b", "Does a 4-channel tensor have a channel 255?"),
        ([0, 0, 0, 0], "must be one of"),
        ("z", "must be one of"),
    ],
)
def test_one_hot_explains_a_wrong_prediction_for_255(prediction, hint, capsys) -> None:
    assert check_one_hot(_one_hot_loop, prediction) is False
    out = capsys.readouterr().out
    assert "Not yet:" in out and hint in out


def test_one_hot_judges_the_function_before_the_prediction(capsys) -> None:
    assert check_one_hot(_one_hot_stub, "d") is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "all zeros" in out


@pytest.mark.parametrize("prediction", [{"c", "e", "f"}, ["f", "e", "c"], "c, e, f", {"C", "E", "F"}])
def test_argmax_prediction_accepts_the_order_changing_edits(prediction, capsys) -> None:
    assert check_argmax_prediction(prediction) is True
    out = capsys.readouterr().out
    assert "Correct!" in out
    assert all(f"{letter})" in out for letter in SCORE_EDITS)  # the measured table is shown


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        (..., "record your prediction first"),
        (None, "record your prediction first"),
        ({"a", "c", "e", "f"}, "a does not change it: cubing is monotone"),
        ({"c", "e"}, "f does change it: squaring is not monotone"),
        (set(), "c does change it"),
        ({"c", "d", "e", "f"}, "d does not change it: log softmax(z)_k"),
        ({"z"}, "are not edits"),
        (3, "record a set of letters"),
    ],
)
def test_argmax_prediction_explains_each_miss(prediction, hint, capsys) -> None:
    assert check_argmax_prediction(prediction) is False
    out = capsys.readouterr().out
    assert "Not yet:" in out
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
        (lambda scores, y: F.cross_entropy(scores[None], torch.tensor([y])), "calls cross_entropy"),
    ],
)
def test_pixel_cross_entropy_names_the_mistake(answer, hint, capsys) -> None:
    assert check_pixel_cross_entropy(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:")
    assert hint in out


def _gradient(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    labelled = (target != IGNORE_INDEX)[:, None]  # (B, 1, H, W)
    return (logits.softmax(dim=1) - one_hot(target, logits.shape[1])) * labelled / labelled.sum().clamp(min=1)


def _autograd(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    logits = logits.clone().requires_grad_(True)
    pixel_cross_entropy(logits, target).backward()
    return logits.grad


@pytest.mark.parametrize("answer", [_gradient, _autograd])
def test_logit_gradient_accepts_the_formula_and_autograd(answer, capsys) -> None:
    assert check_logit_gradient(answer) is True
    assert capsys.readouterr().out.startswith("Correct!")


def _labelled(target: torch.Tensor) -> torch.Tensor:
    return (target != IGNORE_INDEX)[:, None]


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda logits, target: ..., "returns nothing yet"),
        (lambda logits, target: -_gradient(logits, target), "check the sign"),
        (
            lambda logits, target: (logits.softmax(1) - one_hot(target, logits.shape[1])) / _labelled(target).sum(),
            "their gradient must be 0",
        ),
        (lambda logits, target: _gradient(logits, target) * _labelled(target).sum(), "gradient of the SUM"),
        (
            lambda logits, target: _gradient(logits, target) * _labelled(target).sum() / target.numel(),
            "divided by all",
        ),
        (
            lambda logits, target: (logits - one_hot(target, logits.shape[1])) * _labelled(target)
            / _labelled(target).sum(),
            "take the softmax",
        ),
        (lambda logits, target: _gradient(logits, target)[:, :, 0], "shape of the logits"),
        (lambda logits, target: torch.zeros_like(logits), "largest difference"),
        (
            lambda logits, target: (logits.softmax(1) - one_hot(target, logits.shape[1])) * _labelled(target)
            / _labelled(target).sum(),
            "N = 0 labelled pixels",
        ),
    ],
)
def test_logit_gradient_names_the_mistake(answer, hint, capsys) -> None:
    assert check_logit_gradient(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:")
    assert hint in out


def _stable_loss(scores: torch.Tensor, y: int) -> torch.Tensor:
    return torch.logsumexp(scores, 0) - scores[y]


def _naive_loss(scores: torch.Tensor, y: int) -> torch.Tensor:
    return -torch.log(scores.exp()[y] / scores.exp().sum())


def test_overflow_prediction_is_judged_once_the_function_is_right(capsys) -> None:
    assert check_pixel_cross_entropy(_stable_loss, (1000, math.inf)) is True
    out = capsys.readouterr().out
    assert "the right loss is 1000, the formula as written returns inf" in out and "Correct!" in out
    for prediction, hint in [((0, math.inf), "Right loss:"), ((1000, math.nan), "nan is what class 0"),
                             ((1000, 1000), "what is exp(1000) in float32")]:
        assert check_pixel_cross_entropy(_stable_loss, prediction) is False
        out = capsys.readouterr().out
        assert "Not yet: your function is right, but your prediction was not" in out and hint in out


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [(..., "record your prediction first"), ((..., ...), "record your prediction first"),
     ("big", "record two numbers")],
)
def test_overflow_prediction_must_be_recorded_first(prediction, hint, capsys) -> None:
    assert check_pixel_cross_entropy(_stable_loss, prediction) is False
    out = capsys.readouterr().out
    assert "Not yet:" in out and hint in out and "1000" not in out


@pytest.mark.parametrize("answer", [lambda scores, y: ..., _naive_loss, lambda scores, y: -scores.softmax(0)[y].log()])
def test_a_wrong_function_reveals_neither_number_nor_formula(answer, capsys) -> None:
    assert check_pixel_cross_entropy(answer, (1000, math.inf)) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "right loss is" not in out and "Correct" not in out
    assert "logsumexp" not in out and "log(sum_j" not in out


def test_the_overflow_hint_covers_underflow_after_shifting(capsys) -> None:
    def shifted(scores: torch.Tensor, y: int) -> torch.Tensor:
        return -torch.log((scores - scores.max()).softmax(0)[y])

    assert check_pixel_cross_entropy(shifted) is False
    out = capsys.readouterr().out
    assert "you got inf" in out and "underflows to 0" in out and "difference of two logs" in out


def test_a_wrong_loss_hint_does_not_print_the_expected_value(capsys) -> None:
    assert check_pixel_cross_entropy(lambda scores, y: 0.123) is False
    out = capsys.readouterr().out
    assert "0.123" in out and "expected" not in out and "1.3" not in out


def test_hints_do_not_print_the_answer(capsys) -> None:
    assert check_one_hot(_one_hot_stub) is False
    assert check_pixel_cross_entropy(lambda scores, y: -torch.log(scores.exp()[y] / scores.exp().sum())) is False
    out = capsys.readouterr().out
    assert "labels == k" not in out
    assert "logsumexp" not in out and "scores[true_class]" not in out


def test_batch_mean_ratio_is_one_with_72_labelled_pixels() -> None:
    ratio, count = batch_mean_gradient_ratio()
    assert count == 72
    assert ratio == pytest.approx(1.0, abs=1e-5)


def test_batch_mean_prediction_right_and_wrong(capsys) -> None:
    assert check_batch_mean_prediction("a") is True
    out = capsys.readouterr().out
    assert "Correct!" in out and "/ 72" in out and "1.000" in out
    for prediction, hint in [("b", "mean per image"), ("c", "FEWER"), ("d", "like any other"),
                             (..., "record your prediction first"), ("e", "must be one of")]:
        assert check_batch_mean_prediction(prediction) is False
        out = capsys.readouterr().out
        assert "Not yet:" in out and hint in out
