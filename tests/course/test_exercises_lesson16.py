"""Each lesson-16 check accepts the right answer and gives a specific hint for wrong ones."""

from __future__ import annotations

import re

import pytest
import torch

from segedu.analysis.atrous import footprint_coverage, reads_whole_window
from segedu.course.exercises.lesson16 import (
    NEXT_RATE_STACK,
    STACKS,
    check_atrous_conv2d,
    check_coverage_prediction,
    check_next_rate,
)


def test_coverage_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    truth = {letter for letter, rates in STACKS.items() if footprint_coverage(rates) == 1.0}
    assert truth == {"a", "c", "e"}  # the answer the lesson's pictures support
    assert check_coverage_prediction({"a", "c", "e"})
    assert check_coverage_prediction("a, c, e")
    out = capsys.readouterr().out
    assert "gridding" in out and "1 + 2 x their sum" not in out
    assert not check_coverage_prediction({"a", "c"})
    assert "['e'] do read every pixel" in capsys.readouterr().out
    assert not check_coverage_prediction({"a", "b", "c", "e"})
    assert "['b'] leave holes" in capsys.readouterr().out
    assert not check_coverage_prediction({"z"})
    assert "are not stacks" in capsys.readouterr().out
    assert not check_coverage_prediction(...)


def test_next_rate_right(capsys: pytest.CaptureFixture[str]) -> None:
    full = [rate for rate in range(1, 33) if footprint_coverage((*NEXT_RATE_STACK, rate)) == 1.0]
    assert NEXT_RATE_STACK == (1, 2) and max(full) == 7 == 1 + 2 * sum(NEXT_RATE_STACK)  # the lesson's exact rule
    assert reads_whole_window((1, 2, 7)) and not reads_whole_window((1, 2, 8))
    assert check_next_rate(7)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "offset 4 is never read" in out and "1 + 2 x 3 = 7" in out


@pytest.mark.parametrize(("answer", "hint"), [
    (8, "offset 4 is read by no copy"),
    (12, "offset 8 is read by no copy"),
    (4, "(1, 2, 4) does read every pixel, but a larger third rate does too"),
    (3, "(1, 2, 3) does read every pixel"),
    (..., "record your answer first"),
    (7.5, "whole-number rate"),
    (True, "whole-number rate"),
    (0, "whole-number rate"),
])
def test_next_rate_wrong(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_next_rate(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out and "Correct" not in out, out
    if isinstance(answer, int):
        assert not re.search(r"(?<![\d.])7(?![\d.])", out), out  # no hint names the answer


# --- exercise 1: write the atrous convolution ----------------------------------------------------------------


def _nine_slices(x, weight, rate, *, step=None, flip=False, padding=None):
    """A learner's atrous convolution, with the slips the checker names switched on."""
    step = rate if step is None else step
    padding = step if padding is None else padding
    kernel = weight.flip(-1, -2) if flip else weight
    height, width = x.shape[-2:]
    padded = torch.nn.functional.pad(x, (padding,) * 4)
    out = torch.zeros(x.shape[0], weight.shape[0], padded.shape[-2] - 2 * step, padded.shape[-1] - 2 * step)
    for u in range(3):
        for v in range(3):
            rows, columns = out.shape[-2:]
            shifted = padded[:, :, u * step: u * step + rows, v * step: v * step + columns]
            out += torch.einsum("bchw,oc->bohw", shifted, kernel[:, :, u, v])
    return out


def _neighbour_slices(x, weight, rate):
    """A learner's slip: padding r, but the nine slices start 1 pixel apart in the padded input."""
    height, width = x.shape[-2:]
    padded = torch.nn.functional.pad(x, (rate,) * 4)
    out = torch.zeros(x.shape[0], weight.shape[0], height, width)
    for u in range(3):
        for v in range(3):
            out += torch.einsum("bchw,oc->bohw", padded[:, :, u: u + height, v: v + width], weight[:, :, u, v])
    return out


def _one_tap_misplaced(x, weight, rate):
    """A learner's slip at rate 1: tap (0, 2) takes the slice of tap (0, 1), so it reads offset (-1, 0)."""
    height, width = x.shape[-2:]
    padded = torch.nn.functional.pad(x, (rate,) * 4)
    out = torch.zeros(x.shape[0], weight.shape[0], height, width)
    for u in range(3):
        for v in range(3):
            start = (u * rate, (1 if (u, v) == (0, 2) else v) * rate)
            shifted = padded[:, :, start[0]: start[0] + height, start[1]: start[1] + width]
            out += torch.einsum("bchw,oc->bohw", shifted, weight[:, :, u, v])
    return out


def _last_tap_only(x, weight, rate):
    """A learner's slip: `out = ...` instead of `out += ...`, so only the last tap is left."""
    height, width = x.shape[-2:]
    padded = torch.nn.functional.pad(x, (rate,) * 4)
    for u in range(3):
        for v in range(3):
            shifted = padded[:, :, u * rate: u * rate + height, v * rate: v * rate + width]
            out = torch.einsum("bchw,oc->bohw", shifted, weight[:, :, u, v])
    return out


def _taps_multiplied(x, weight, rate):
    """A slip that shows only with several taps: an extra term once more than one tap is non-zero."""
    right = _nine_slices(x, weight, rate)
    several_taps = int((weight.abs().sum(dim=(0, 1)) > 0).sum()) > 1
    return right + right**2 if several_taps else right


def test_atrous_conv2d_right(capsys) -> None:
    assert check_atrous_conv2d(_nine_slices) is True
    assert capsys.readouterr().out.startswith("Correct! your nine shifted slices equal PyTorch's dilated convolution")


@pytest.mark.parametrize(("function", "hint"), [
    (lambda x, weight, rate: _nine_slices(x, weight, rate, step=1), "ordinary 3x3 convolution's"),
    (lambda x, weight, rate: _nine_slices(x, weight, rate, flip=True), "kernel is flipped"),
    (_neighbour_slices, "start 1 pixel apart in the padded input"),
    (lambda x, weight, rate: _nine_slices(x, weight, rate, padding=0), "as large as the input"),
    (lambda x, weight, rate: torch.nn.functional.conv2d(x, weight, padding=rate, dilation=rate), "calls conv2d"),
    (lambda x, weight, rate: ..., "returns nothing"),
    (lambda x, weight, rate: _nine_slices(x, weight, rate) + 1, "tap (u, v) = (0, 0) alone does not give one shifted"),
    (_one_tap_misplaced, "tap (u, v) = (0, 2) alone reads the pixel at offset (-1, 0)"),
    (_last_tap_only, "tap (u, v) = (0, 0) alone adds nothing to your output"),
    (_taps_multiplied, "each tap alone is right, but all nine together are not"),
])
def test_atrous_conv2d_names_the_slip(function, hint: str, capsys) -> None:
    assert check_atrous_conv2d(function) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out, out
    assert "(u r, v r)" not in out and "starts u r rows" not in out  # no hint gives the slices away
