"""Each lesson-16 check accepts the right answer and gives a specific hint for wrong ones."""

from __future__ import annotations

import re

import pytest
import torch

from segedu.analysis.atrous import dilated_stack_footprint, footprint_coverage, reads_whole_window
from segedu.course.exercises.lesson16 import (
    NEXT_RATE_STACK,
    LARGEST_RATE_STACKS,
    STACKS,
    check_atrous_conv2d,
    check_coverage_prediction,
    check_largest_rates,
    check_next_rate,
    check_reads_whole_window,
)


def test_coverage_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    truth = {letter for letter, rates in STACKS.items() if footprint_coverage(rates) == 1.0}
    assert truth == {"a", "e", "f"}  # the answer the lesson's pictures support
    assert check_coverage_prediction({"a", "e", "f"})
    assert check_coverage_prediction("a, e, f")
    out = capsys.readouterr().out
    assert "gridding" in out and "1 + 2 x" not in out and "b (2, 2, 4) shares the factor 2" in out
    assert "c (1, 1, 6) and d (2, 3, 4) share no factor > 1, yet leave holes" in out
    lesson_04 = {(2, 2, 2), (1, 2, 3), (1, 4, 8), (1, 2, 4)}  # the stacks lesson 04 shows
    assert not {tuple(sorted(rates)) for rates in STACKS.values()} & lesson_04
    assert not check_coverage_prediction({"a", "e"})
    assert "['f'] do read every pixel" in capsys.readouterr().out
    assert not check_coverage_prediction({"a", "b", "e", "f"})
    assert "['b'] leave holes: b's rates share the factor 2" in capsys.readouterr().out
    assert not check_coverage_prediction({"a", "c", "e", "f"})
    assert "['c'] leave holes: c's rates share no factor > 1" in capsys.readouterr().out
    assert not check_coverage_prediction({"z"})
    assert "are not stacks" in capsys.readouterr().out
    assert not check_coverage_prediction(...)


def test_largest_rates_right(capsys: pytest.CaptureFixture[str]) -> None:
    largest = [max(rate for rate in range(1, 65) if footprint_coverage((*first, rate)) == 1.0)
               for first in LARGEST_RATE_STACKS]
    assert LARGEST_RATE_STACKS == ((1,), (1, 2)) and largest == [3, 7] == [1 + 2 * 1, 1 + 2 * (1 + 2)]
    assert dilated_stack_footprint((1, 4))[5, 5 + 2] == 0 and dilated_stack_footprint((1, 2, 8))[11, 11 + 4] == 0
    assert check_largest_rates((3, 7)) and check_largest_rates([3, 7])
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "(1, 4) never reads offset 2" in out and "(1, 2, 8) never reads offset 4" in out
    assert "1 + 2" not in out  # the learner writes the pattern down; the check does not state it


@pytest.mark.parametrize(("answer", "hint"), [
    ((4, 7), "(1, 4) leaves holes: offset 2 along a row is never read"),
    ((3, 8), "(1, 2, 8) leaves holes: offset 4 along a row is never read"),
    ((3, 9), "(1, 2, 9) leaves holes: offset 4"),
    ((2, 7), "(1, 2) does read every pixel, but a larger second rate does too"),
    ((3, 5), "(1, 2, 5) does read every pixel, but a larger third rate does too"),
    ((1, 1), "(1, 1) does read every pixel"),
    (..., "record your prediction first"),
    ((3,), "two whole-number rates"),
    ((3.0, 7), "two whole-number rates"),
    ((True, 7), "two whole-number rates"),
    ("3, 7", "two whole-number rates"),
])
def test_largest_rates_wrong(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_largest_rates(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out and "Correct" not in out and "1 + 2" not in out, out


def test_next_rate_right(capsys: pytest.CaptureFixture[str]) -> None:
    full = [rate for rate in range(1, 65) if footprint_coverage((*NEXT_RATE_STACK, rate)) == 1.0]
    assert NEXT_RATE_STACK == (1, 2, 5) and max(full) == 17 == 1 + 2 * sum(NEXT_RATE_STACK)  # the exact rule
    assert reads_whole_window((1, 2, 5, 17)) and not reads_whole_window((1, 2, 5, 18))
    assert dilated_stack_footprint((1, 2, 5, 18))[26, 26 + 9] == 0  # the offset the hint names is unread
    assert check_next_rate(17)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "offset 9 is never read" in out and "1 + 2 x 8 = 17" in out


@pytest.mark.parametrize(("answer", "hint"), [
    (18, "offset 9 is read by no copy"),
    (24, "offset 15 is read by no copy"),
    (9, "(1, 2, 5, 9) does read every pixel, but a larger fourth rate does too"),
    (5, "(1, 2, 5, 5) does read every pixel"),
    (..., "record your answer first"),
    (17.5, "whole-number rate"),
    (True, "whole-number rate"),
    (0, "whole-number rate"),
])
def test_next_rate_wrong(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_next_rate(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out and "Correct" not in out, out
    if isinstance(answer, int):
        assert not re.search(r"(?<![\d.])17(?![\d.])", out), out  # no hint names the answer


# --- exercise 4: write the exact rule ----------------------------------------------------------------------


def _rule(rates, *, sort=True, first_one=True, strict=False, bound=lambda smaller: 1 + 2 * smaller):
    """A learner's reads_whole_window, with the slips the checker names switched on."""
    rates = sorted(rates) if sort else list(rates)
    if first_one and rates[0] != 1:
        return False
    for index in range(1, len(rates)):
        limit = bound(sum(rates[:index]))
        if rates[index] >= limit if strict else rates[index] > limit:
            return False
    return True


def test_reads_whole_window_right(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_reads_whole_window(_rule) is True
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "7,371 stacks" in out


@pytest.mark.parametrize(("function", "hint"), [
    (lambda rates: _rule(rates, sort=False), "the same layers in another order"),
    (lambda rates: _rule(rates, first_one=False), "for rates (2, 2) you return True, but the stack reads 31%"),
    (lambda rates: _rule(rates, first_one=False), "the first rate must be 1"),
    (lambda rates: _rule(rates, strict=True), "for rates (1, 3) you return False"),
    (lambda rates: _rule(rates, strict=True), "3 <= 1 + 2 x 1 = 3; equal is allowed"),
    (lambda rates: _rule(rates, bound=lambda smaller: smaller), "for rates (1, 2) you return False"),
    (lambda rates: _rule(rates, bound=lambda smaller: 2 * smaller + 2), "for rates (1, 4) you return True"),
    (lambda rates: _rule(rates, bound=lambda smaller: 2 * smaller + 2), "offset 2 along a row is never read"),
    (lambda rates: footprint_coverage(rates) == 1.0, "calls footprint_coverage"),
    (reads_whole_window, "the package's own"),
    (lambda rates: ..., "returns nothing"),
    (lambda rates: int(_rule(rates)), "return True or False"),
    (lambda rates: rates[5], "raised IndexError"),
])
def test_reads_whole_window_names_the_slip(function, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_reads_whole_window(function) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out and "Correct" not in out, out


def test_reads_whole_window_unread_offsets_are_unread() -> None:
    for rates, offset in (((1, 4), 2), ((2, 2), 3), ((1, 4, 4), 6), ((1, 1, 6), 3)):
        side = 1 + 2 * sum(rates)
        assert dilated_stack_footprint(rates)[side // 2, side // 2 + offset] == 0, rates


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
