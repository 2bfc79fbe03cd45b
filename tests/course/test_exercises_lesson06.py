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


@pytest.mark.parametrize(("kernel_size", "padding"), [(4, 1), (6, 2)])
def test_doubling_layers_are_accepted(
    kernel_size: int, padding: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lesson06.check_doubling_layer(kernel_size, padding) is True
    layer = torch.nn.ConvTranspose2d(1, 1, kernel_size, stride=2, padding=padding)
    assert layer(torch.zeros(1, 1, 7, 7)).shape[-1] == 14  # the check's claim, verified directly
    out = capsys.readouterr().out
    assert "Correct!" in out and "overlapping stamps" in out and "without removing it" in out


@pytest.mark.parametrize(
    ("settings", "hint"),
    [
        ((3, 1, 1), "overlap unevenly"),  # doubles, but checkerboard-prone
        ((2, 0, 0), "never overlap"),  # doubles, even counts, but one stamp per pixel
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
        (torch.tensor([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]), "tent of section 2"),
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


REASON = "the phases must get equal total weights"


@pytest.mark.parametrize("prediction", [{"b", "c"}, "bc", ["c", "B"], {"a", "e"}])
def test_a_reasoned_prediction_is_recorded_right_or_wrong(prediction, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_checkerboard_prediction(prediction, REASON) is True  # credit for recording, not for luck
    out = capsys.readouterr().out
    assert out.startswith("Recorded: ") and "Correct!" not in out and "tent" not in out  # no reasons yet


@pytest.mark.parametrize(
    ("prediction", "reason", "hint"),
    [
        (..., REASON, "record your prediction first"),
        ({"z"}, REASON, "are not layers"),
        (set(), REASON, "at least one"),
        ({"b"}, ..., "add your reason"),
        ({"b"}, "why not", "add your reason"),
    ],
)
def test_an_unreasoned_or_unreadable_prediction_is_refused(
    prediction, reason, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lesson06.check_checkerboard_prediction(prediction, reason) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert lesson06.compare_checkerboard_prediction() is False  # nothing was recorded


def test_the_first_recorded_prediction_is_the_one_compared(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_checkerboard_prediction({"a", "e"}, REASON) is True
    assert lesson06.check_checkerboard_prediction({"b", "c"}, REASON) is True  # too late: the first one stays
    assert "Recorded: ['a', 'e'] earlier" in capsys.readouterr().out
    assert lesson06.compare_checkerboard_prediction() is True  # a wrong prediction is compared, not failed
    out = capsys.readouterr().out
    assert out.startswith("Your recorded prediction was ['a', 'e']")
    assert "a, e cannot" in out and "you left out b, c" in out
    assert "why, layer by layer" in out.lower() and "kernel 2 stamps do not overlap" in out


def test_a_right_prediction_is_compared_as_matching(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_checkerboard_prediction("bc", REASON) is True
    capsys.readouterr()
    assert lesson06.compare_checkerboard_prediction() is True
    assert "matches what this section showed" in capsys.readouterr().out


def test_doubling_statements_are_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_doubling_statements({"a", "b", "d"}) is True
    assert lesson06.check_doubling_statements("DBA") is True
    assert "part (b) asks" in capsys.readouterr().out


def test_doubling_statements_match_measurement() -> None:
    # a: it doubles; b: uneven counts; c is false (the tent is flat); e: every pixel gets a stamp.
    from segedu.analysis.upsampling import bilinear_kernel, checkerboard_pattern

    for size in (3, 8):
        layer = torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)
        assert layer(torch.zeros(1, 1, size, size)).shape[-1] == 2 * size
    counts = checkerboard_pattern(3, 2, 8)
    assert set(counts[3:-3, 3:-3].unique().tolist()) == {1, 2, 4} and counts.min() >= 1
    flat = torch.nn.functional.conv_transpose2d(torch.ones(1, 1, 8, 8), bilinear_kernel(3)[None, None], stride=2)
    assert torch.allclose(flat[..., 2:-2, 2:-2], torch.ones(1))
    # f: a random (unequal) kernel 4 still gives the phases unequal totals.
    uneven = torch.nn.functional.conv_transpose2d(
        torch.ones(1, 1, 8, 8), torch.rand(1, 1, 4, 4, generator=torch.Generator().manual_seed(0)), stride=2
    )
    assert float(uneven[..., 4:-4, 4:-4].max() - uneven[..., 4:-4, 4:-4].min()) > 0.01


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ({"a", "b"}, "you left out 1"),
        ({"a", "b", "d", "f"}, "f is false"),
        ({"a", "b", "c", "d"}, "c is false"),
        ({"b", "d", "e"}, "e is false"),
        ({"z"}, "are not statements"),
        (..., "record your answer first"),
    ],
)
def test_wrong_doubling_statements_get_a_hint(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_doubling_statements(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "kernel_size=4" not in out and "multiple" not in out  # the better choice is part (b)'s to find


def test_unwritten_doubling_layer_gets_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson06.check_doubling_layer(..., ..., ...) is False
    assert "replace each `...`" in capsys.readouterr().out
