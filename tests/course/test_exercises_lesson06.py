"""Lesson 06's exercise checks accept right answers and give a specific hint for wrong ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from segedu.analysis.upsampling import bed_of_nails, nearest_upsample
from segedu.course.exercises import lesson06


@pytest.fixture(autouse=True)
def _no_recorded_prediction() -> Iterator[None]:
    """Every test starts, and leaves, with no checkerboard prediction recorded (the checker keeps the first)."""
    lesson06._RECORDED.clear()
    yield
    lesson06._RECORDED.clear()


def _transposed_size(size: int, kernel_size: int, stride: int, padding: int, output_padding: int) -> int:
    return (size - 1) * stride - 2 * padding + kernel_size + output_padding


def _not_written(*arguments: object) -> None:
    raise NotImplementedError


def test_output_size_formula_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_transposed_output_size(_transposed_size) is True
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
    assert lesson06.check_transposed_output_size(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "- 2 * padding" not in out  # the formula is not handed over


def test_bed_of_nails_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    def sliced(x: torch.Tensor, scale: int) -> torch.Tensor:
        out = torch.zeros(*x.shape[:2], x.shape[2] * scale, x.shape[3] * scale)
        out[..., ::scale, ::scale] = x
        return out

    assert lesson06.check_bed_of_nails(sliced) is True
    assert lesson06.check_bed_of_nails(bed_of_nails) is True
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
    assert lesson06.check_bed_of_nails(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out


@pytest.mark.parametrize(("kernel_size", "padding"), [(2, 0), (4, 1), (6, 2)])
def test_doubling_layers_are_accepted(
    kernel_size: int, padding: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lesson06.check_doubling_layer(kernel_size, padding) is True
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
    assert lesson06.check_doubling_layer(*settings) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "multiple" not in out  # the rule is for the learner to find (exercise 4)


def test_flat_kernel_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_flat_kernel([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]) is True
    assert lesson06.check_flat_kernel(torch.tensor([[0.0, 0.0, 0.0], [0.5, 1.0, 0.5], [0.5, 1.0, 0.5]])) is True
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (..., "replace the `...`"),
        (torch.ones(2, 2), "must be 3x3"),
        (torch.tensor([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]), "tent of section 4"),
        (torch.ones(3, 3), "different total weights"),
        ([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 0.0]], "instead of 1"),
    ],
)
def test_wrong_flat_kernel_gets_a_hint(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_flat_kernel(answer) is False
    assert hint in capsys.readouterr().out


def test_conv_matrix_shape_prediction_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.analysis.upsampling import conv_matrix

    assert tuple(conv_matrix((8, 8), torch.ones(3, 3), stride=2, padding=1).shape) == (16, 64)
    assert lesson06.check_conv_matrix_shape_prediction((16, 64)) is True
    assert lesson06.check_conv_matrix_shape_prediction([16, 64]) is True
    assert capsys.readouterr().out.count("Correct! (16, 64)") == 2


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        ((64, 16), "shape of C^T"),
        ((4, 8), "sides of the maps"),
        ((9, 64), "the columns are right"),
        ((16, 8), "the rows are right"),
        ((3, 3), "one row per pixel of the output"),
        (..., "record your prediction first"),
        ("16x64", "pair of whole numbers"),
    ],
)
def test_wrong_conv_matrix_shape_gets_a_hint(prediction, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_conv_matrix_shape_prediction(prediction) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "(16, 64)" not in out


@pytest.mark.parametrize("prediction", [{"b", "c"}, "bc", ["c", "B"]])
def test_checkerboard_layers_are_accepted(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_checkerboard_layers(prediction) is True
    assert "tent gives every stride phase" in capsys.readouterr().out


def test_checkerboard_answer_matches_measurement() -> None:
    # The checker's key, measured: which layers print a pattern on a flat image away from the border.
    from segedu.analysis.upsampling import bilinear_kernel, bilinear_upsample, nearest_upsample

    flat = torch.ones(1, 1, 8, 8)
    generator = torch.Generator().manual_seed(0)
    spread = lambda image: float(image[..., 4:-4, 4:-4].max() - image[..., 4:-4, 4:-4].min())  # noqa: E731
    learned_3x3 = torch.rand(1, 1, 3, 3, generator=generator)
    assert spread(torch.nn.functional.conv2d(nearest_upsample(flat, 2), learned_3x3, padding=1)) < 1e-6  # a
    assert spread(torch.nn.functional.conv_transpose2d(flat, torch.rand(1, 1, 4, 4, generator=generator), stride=2)) > 0.01  # b
    assert spread(torch.nn.functional.conv_transpose2d(flat, torch.rand(1, 1, 2, 2, generator=generator), stride=2)) > 0.01  # c
    assert spread(torch.nn.functional.conv_transpose2d(flat, torch.ones(1, 1, 2, 2), stride=2)) < 1e-6  # c, equal weights
    assert spread(bilinear_upsample(flat, 2)) < 1e-6  # d
    assert spread(torch.nn.functional.conv_transpose2d(flat, bilinear_kernel(3)[None, None], stride=2)) < 1e-6  # e


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        ({"c"}, "you left out 1"),
        ({"a", "b", "c"}, "a cannot"),
        ({"b", "c", "e"}, "e cannot"),
        ({"z"}, "are not layers"),
        (set(), "at least one"),
        (..., "record your answer first"),
    ],
)
def test_wrong_checkerboard_layers_get_a_hint(prediction, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_checkerboard_layers(prediction) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out


def test_doubling_choice_no_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_doubling_choice("no") is True
    assert lesson06.check_doubling_choice(" No ") is True
    assert "1, 2 or 4 stamps" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "hint"), [("yes", "Count the stamps"), (..., "record your answer first"), (True, "answer 'yes' or 'no'")]
)
def test_wrong_doubling_choice_gets_a_hint(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_doubling_choice(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "kernel 4" not in out and "multiple" not in out  # the better choice is part (b)'s to find


def test_unwritten_doubling_layer_gets_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_doubling_layer(..., ..., ...) is False
    assert "replace each `...`" in capsys.readouterr().out


def test_checkerboard_prediction_is_recorded_not_judged(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.record_checkerboard_prediction({"a", "e"}) is True  # a wrong prediction is still recorded
    out = capsys.readouterr().out
    assert out.startswith("Recorded: ['a', 'e']") and "Correct" not in out and "Not yet" not in out


@pytest.mark.parametrize(
    ("prediction", "hint"), [(..., "record your prediction first"), ({"z"}, "are not layers"), (set(), "at least one")]
)
def test_unrecorded_checkerboard_prediction_is_refused(
    prediction, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lesson06.record_checkerboard_prediction(prediction) is False
    assert hint in capsys.readouterr().out


def test_the_first_recorded_prediction_is_the_one_judged(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.record_checkerboard_prediction({"a", "e"}) is True
    assert lesson06.record_checkerboard_prediction({"b", "c"}) is True  # too late: the first one stays
    assert "Already recorded: ['a', 'e']" in capsys.readouterr().out
    assert lesson06.check_checkerboard_layers({"b", "c"}) is False  # the variable changed after the experiments
    out = capsys.readouterr().out
    assert out.startswith("Not yet: your recorded prediction was ['a', 'e']")
    assert "a, e cannot" in out and "you left out 2" in out
    assert "why, layer by layer" in out and "kernel 2 stamps do not overlap" in out  # reasons, once committed


def test_a_right_recorded_prediction_passes_whatever_the_variable_holds(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.record_checkerboard_prediction("bc") is True
    capsys.readouterr()
    assert lesson06.check_checkerboard_layers(...) is True
    assert capsys.readouterr().out.startswith("Correct! your recorded prediction was ['b', 'c']")


def test_an_unrecorded_wrong_answer_gets_no_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_checkerboard_layers({"a", "c"}) is False
    out = capsys.readouterr().out
    assert "a cannot" in out and "why, layer by layer" not in out and "tent gives" not in out
