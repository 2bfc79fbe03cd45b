"""Lesson 07's exercise checks accept right answers and give a specific hint for wrong ones."""

from __future__ import annotations

import pytest
import torch

from segedu.course.exercises import lesson07
from segedu.analysis.upsampling import bilinear_kernel


def _not_written(*arguments: object) -> None:
    raise NotImplementedError


def _verdict(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


def test_fcn_grid_prediction_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_fcn_grid({"conv7": 4, "pool4": 8, "pool3": 16, "pool3_padding_only": 87}) is True
    out = _verdict(capsys)
    assert "conv7 scores 4 x 4" in out and "Correct!" in out and "16 x 16 - 13 x 13 = 87" in out
    assert "Why 128" in out and "pool4 would be 7 x 7" in out


def test_the_grid_sides_are_measured_from_the_model() -> None:
    assert lesson07._grid_sides(100) == {"conv7": 4, "pool4": 8, "pool3": 16, "final": 100}
    assert lesson07._grid_sides(64) == {"conv7": 2, "pool4": 4, "pool3": 8, "final": 64}
    assert lesson07._padding_only_cells(100) == {"padded": 128, "top": 0, "left": 0, "count": 87, "cells": 256}
    assert lesson07._padding_only_cells(64)["count"] == 0


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ({"conv7": 3, "pool4": 6, "pool3": 12, "pool3_padding_only": 87}, "rounded down"),
        ({"conv7": 4, "pool4": 7, "pool3": 13, "pool3_padding_only": 87}, "rounded each stage up"),
        ({"conv7": 4, "pool4": 8, "pool3": 13, "pool3_padding_only": 87}, "exactly twice"),
        ({"conv7": 5, "pool4": 10, "pool3": 20, "pool3_padding_only": 87}, "you predicted"),
        ({"conv7": 4, "pool4": 8, "pool3": 16, "pool3_padding_only": 96}, "corner cells twice"),
        ({"conv7": 4, "pool4": 8, "pool3": 16, "pool3_padding_only": 48}, "AND a band along the right"),
        ({"conv7": 4, "pool4": 8, "pool3": 16, "pool3_padding_only": 60}, "bottom and the right"),
        ({"conv7": 4, "pool4": 8, "pool3": 16, "pool3_padding_only": 112}, "still holds real rows"),
        ({"conv7": 4, "pool4": 8, "pool3": 16, "pool3_padding_only": 5}, "you predicted 5"),
        ({"conv7": ..., "pool4": ..., "pool3": ..., "pool3_padding_only": ...}, "replace the ..."),
        ({"conv7": 4, "pool4": 8, "pool3": 16, "pool3_padding_only": ...}, "replace the ..."),
        ({"conv7": 4.0, "pool4": 8, "pool3": 16, "pool3_padding_only": 87}, "whole number"),
        ([4, 8, 16], "answer with a dict"),
    ],
)
def test_wrong_fcn_grid_prediction_gets_a_hint(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_fcn_grid(answer) is False
    out = _verdict(capsys)
    assert "Not yet:" in out and hint in out


@pytest.mark.parametrize(
    ("answer", "hidden"),
    [
        ({"conv7": 5, "pool4": 10, "pool3": 20, "pool3_padding_only": 87}, ("4 x 4", "16 x 16", "128")),
        ({"conv7": 4, "pool4": 8, "pool3": 16, "pool3_padding_only": 5}, ("87",)),
    ],
)
def test_a_missed_fcn_grid_prediction_does_not_print_the_answer(
        answer, hidden: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_fcn_grid(answer) is False
    out = _verdict(capsys)
    assert not any(number in out for number in hidden), out


def test_bilinear_kernel_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    def tent_kernel(factor: int) -> torch.Tensor:
        side = 2 * factor - factor % 2
        centre = factor - 1 if side % 2 else factor - 0.5
        tent = 1 - (torch.arange(side) - centre).abs() / factor
        return tent[:, None] * tent[None, :]

    assert lesson07.check_bilinear_kernel(tent_kernel) is True
    assert _verdict(capsys).startswith("Correct!")


def _tent(factor: int) -> torch.Tensor:
    """The 1-D bilinear profile for ``factor``, written out here so that wrong answers can be built from it."""
    side = 2 * factor - factor % 2
    centre = factor - 1 if side % 2 else factor - 0.5
    return 1 - (torch.arange(side) - centre).abs() / factor


def _kernel(factor: int) -> torch.Tensor:
    return _tent(factor)[:, None] * _tent(factor)[None, :]


def _off_centre(factor: int) -> torch.Tensor:
    side = 2 * factor - factor % 2
    tent = (1 - (torch.arange(side) - (factor - 1)).abs() / factor).clamp(min=0)  # the odd-side centre, always
    return tent[:, None] * tent[None, :]


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda f: _tent(f), "1-D profile"),
        (lambda f: torch.ones(2 * f, 2 * f), "do not add up to 1"),
        (lambda f: torch.ones(3, 3), "kernel is"),
        (lambda f: _kernel(f) / _kernel(f).sum(), "do not normalise"),
        (lambda f: _kernel(f) / _kernel(f).max(), "centre falls between"),
        (_off_centre, "not symmetric"),
        (lambda f: [[1.0]], "return a tensor"),
        (_not_written, "replace the line `raise NotImplementedError`"),
    ],
)
def test_wrong_bilinear_kernel_gets_a_hint(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_bilinear_kernel(answer) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet:") and hint in out
    assert "centre = factor" not in out  # a nudge, never the formula


def test_bilinear_kernel_that_is_not_linear_gets_a_nudge(capsys: pytest.CaptureFixture[str]) -> None:
    def bumpy(factor: int) -> torch.Tensor:  # the phases still sum to 1, but the profile bends
        tent = _tent(factor)
        shift = torch.zeros_like(tent)
        shift[0], shift[factor] = 0.1, -0.1  # positions 0 and factor share a phase: their sum is unchanged
        shift[-1], shift[-1 - factor] = 0.1, -0.1  # the mirror image keeps the kernel symmetric
        bent = tent + shift
        return bent[:, None] * bent[None, :]

    assert lesson07.check_bilinear_kernel(bumpy) is False
    assert "change linearly" in _verdict(capsys)


def test_bilinear_kernel_borrowed_from_segedu_is_sent_back(capsys: pytest.CaptureFixture[str]) -> None:
    def borrowed(factor: int) -> torch.Tensor:
        return bilinear_kernel(2 * factor - factor % 2)

    def from_a_layer(factor: int) -> torch.Tensor:
        from segedu.models import BilinearUpsample

        return BilinearUpsample(1, factor).weight.detach()[0, 0]

    for answer, name in ((borrowed, "bilinear_kernel"), (from_a_layer, "BilinearUpsample")):
        assert lesson07.check_bilinear_kernel(answer) is False
        out = _verdict(capsys)
        assert out.startswith("Not yet:") and f"`{name}`" in out


def test_skip_start_prediction_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_skip_start("not zero", {"a", "b"}) is True
    out = _verdict(capsys)
    assert "zero start 0.0000" in out and "to pool4 0.0000" in out and "Correct!" in out
    # only a right answer explains every statement
    assert all(f"{letter} is {verdict}:" in out
               for letter, verdict in (("a", "true"), ("b", "true"), ("c", "false"), ("d", "false")))


def test_skip_start_gradients_are_measured(capsys: pytest.CaptureFixture[str]) -> None:
    lesson07.check_skip_start("not zero", "ab")
    out = _verdict(capsys)
    assert "weights 0.0000" not in out and "convolutions 0.0000" not in out
    gradients = lesson07._first_step_gradients()
    assert gradients["score_pool4"] > 0 and gradients["stage4"] > 0
    assert gradients["score_pool4_bias"] > 0  # statement c: the zero bias still gets a gradient
    assert gradients["through_skip"] == 0  # the zero weights pass nothing down
    assert gradients["filters_apart"] > 0  # each class's filter gets its own gradient: no symmetry to break
    assert "the two closest differ by 0.0000" not in out


def test_a_missed_skip_start_gives_hints_not_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_skip_start("zero", {"a", "c", "d"}) is False
    out = _verdict(capsys)
    assert out.startswith("Not yet:") and out.count("\n") == 1  # one line: no measured numbers printed first
    assert "weight_gradient:" in out and all(f"Look again at {letter}:" in out for letter in "bcd")
    assert "Look again at a" not in out  # a was right: nothing said about it
    assert "gradient norm" not in out and "0.0000" not in out  # no measurements
    assert " is true" not in out and " is false" not in out and "is not zero" not in out  # no verdicts


def test_skip_start_symmetry_miss_names_only_that_letter(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_skip_start("not zero", {"a", "b", "d"}) is False
    out = _verdict(capsys)
    assert "Look again at d:" in out and "same upstream gradient" in out
    assert "Look again at a" not in out and "Look again at b" not in out and "Look again at c" not in out
    assert "d is false" not in out and "differs from class to class" not in out  # a hint, not the explanation


@pytest.mark.parametrize(
    ("gradient", "answer", "hint"),
    [
        (..., {"a", "b"}, "record your prediction first"),
        ("small", {"a", "b"}, "must be one of"),
        ("zero", {"a", "b"}, "weight_gradient: a weight's gradient is the upstream gradient times"),
        ("not zero", ..., "record your answer"),
        ("not zero", {"a", "b", "c"}, "Look again at c: a bias's gradient"),
        ("not zero", {"a"}, "Look again at b: the gradient a convolution passes down"),
        ("not zero", {"a", "b", "d"}, "Look again at d: each of score_pool4's filters"),
        ("not zero", {"b"}, "Look again at a: what does a 1 x 1 convolution"),
        ("not zero", {"identical"}, "are not among the statements"),
        ("not zero", 3, "record a set of letters"),
    ],
)
def test_wrong_skip_start_gets_a_hint(gradient, answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson07.check_skip_start(gradient, answer) is False
    out = _verdict(capsys)
    assert "Not yet:" in out and hint in out and "Correct!" not in out
