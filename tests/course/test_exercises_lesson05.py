"""Lesson 05's exercise checks accept right answers and give a specific hint for wrong ones."""

from __future__ import annotations

import pytest
import torch

from segedu.course.exercises import lesson05
from segedu.analysis.upsampling import bed_of_nails, nearest_upsample


def _transposed_size(size: int, kernel_size: int, stride: int, padding: int, output_padding: int) -> int:
    return (size - 1) * stride - 2 * padding + kernel_size + output_padding


def _not_written(*arguments: object) -> None:
    raise NotImplementedError


@pytest.mark.parametrize("answer", [20, 20.0, 19.8])
def test_aliased_period_is_accepted(answer: float, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_aliased_period(answer) is True
    assert capsys.readouterr().out.startswith("Correct! 20 pixels")


def test_aliased_period_of_other_stripes() -> None:
    # period-3 stripes sampled every 4th pixel show period 12, as lesson 05 measures
    assert lesson05.check_aliased_period(12, period=3) is True
    assert lesson05.check_aliased_period(20, period=3) is False


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (5, "the input's period"),
        (12, "period-3 stripes became"),
        (8, "Nyquist limit"),
        (3, "no pattern on the coarse grid repeats faster"),
        (40, "Write down the brightness"),
        (..., "replace the `...`"),
        ("twenty", "give a number"),
    ],
)
def test_wrong_aliased_period_gets_a_hint_without_the_answer(
    answer: object, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lesson05.check_aliased_period(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "20" not in out  # the hint explains, it does not give the value


def test_output_size_formula_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_transposed_output_size(_transposed_size) is True
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda n, k, s, p, o: (n - 1) * s + k, "ignores padding and output_padding"),
        (lambda n, k, s, p, o: (n - 1) * s + k + o, "ignores padding."),
        (lambda n, k, s, p, o: (n - 1) * s - 2 * p + k, "ignores output_padding"),
        (lambda n, k, s, p, o: (n - 1) * s + 2 * p + k + o, "smaller, not larger"),
        (lambda n, k, s, p, o: (n - 1) * s - p + k + o, "both ends"),
        (lambda n, k, s, p, o: (n + 2 * p - k) // s + 1, "ordinary convolution"),
        (lambda n, k, s, p, o: n * s, "PyTorch gives"),
        (_not_written, "NotImplementedError"),
    ],
)
def test_wrong_output_size_gets_a_hint(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_transposed_output_size(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "- 2 * padding" not in out  # the formula is not handed over


def test_bed_of_nails_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    def sliced(x: torch.Tensor, scale: int) -> torch.Tensor:
        out = torch.zeros(*x.shape[:2], x.shape[2] * scale, x.shape[3] * scale)
        out[..., ::scale, ::scale] = x
        return out

    assert lesson05.check_bed_of_nails(sliced) is True
    assert lesson05.check_bed_of_nails(bed_of_nails) is True
    assert capsys.readouterr().out.count("Correct!") == 2


def _centred_nails(x: torch.Tensor, scale: int) -> torch.Tensor:
    out = torch.zeros(*x.shape[:2], x.shape[2] * scale, x.shape[3] * scale)
    out[..., scale // 2 :: scale, scale // 2 :: scale] = x
    return out


def _doubled_nails(x: torch.Tensor, scale: int) -> torch.Tensor:
    return 2 * bed_of_nails(x, scale)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (nearest_upsample, "nearest upsampling"),
        (_centred_nails, "top-left corner"),
        (lambda x, scale: torch.flip(bed_of_nails(x, scale), dims=(-1,)), "Compare your output"),
        (_doubled_nails, "wrong values"),
        (lambda x, scale: x, "should have shape"),
        (lambda x, scale: x.numpy(), "return a tensor"),
        (_not_written, "NotImplementedError"),
    ],
)
def test_wrong_bed_of_nails_gets_a_hint(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_bed_of_nails(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out


@pytest.mark.parametrize(("kernel_size", "padding"), [(2, 0), (4, 1), (6, 2)])
def test_doubling_layers_are_accepted(
    kernel_size: int, padding: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lesson05.check_doubling_layer(kernel_size, padding) is True
    layer = torch.nn.ConvTranspose2d(1, 1, kernel_size, stride=2, padding=padding)
    assert layer(torch.zeros(1, 1, 7, 7)).shape[-1] == 14  # the check's claim, verified directly
    assert "Correct!" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("settings", "hint"),
    [
        ((3, 1, 1), "overlap unevenly"),  # doubles, but checkerboard-prone
        ((3, 1, 0), "becomes 1, not 2"),
        ((4, 0, 0), "not 2"),
        ((2, 0, 2), "PyTorch refuses"),
        ((..., ..., ...), "whole numbers"),
    ],
)
def test_wrong_doubling_layers_get_a_hint(settings, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_doubling_layer(*settings) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "multiple" not in out  # the rule is for the learner to find (exercise 4)


def test_flat_kernel_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_flat_kernel([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]) is True
    assert lesson05.check_flat_kernel(torch.tensor([[0.0, 0.0, 0.0], [0.5, 1.0, 0.5], [0.5, 1.0, 0.5]])) is True
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (..., "replace the `...`"),
        (torch.ones(2, 2), "must be 3x3"),
        (torch.tensor([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]), "tent of section 7"),
        (torch.ones(3, 3), "different total weights"),
        ([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 0.0]], "instead of 1"),
    ],
)
def test_wrong_flat_kernel_gets_a_hint(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_flat_kernel(answer) is False
    assert hint in capsys.readouterr().out
