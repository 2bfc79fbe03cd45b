"""Each lesson-14 check accepts the right answer and gives a specific hint for wrong ones."""

from __future__ import annotations

import pytest
import torch

from segedu.analysis.atrous import footprint_coverage
from segedu.course.exercises.lesson16 import (
    RATE6_SHARE_CHOICES,
    STACKS,
    check_atrous_conv2d,
    check_block3_mac_ratio,
    check_coverage_prediction,
    check_rate6_share_prediction,
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


def test_block3_mac_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_block3_mac_ratio(4, 4.0)
    assert "positions it writes" in capsys.readouterr().out
    assert not check_block3_mac_ratio(16, 4.0)
    assert "block4's ratio" in capsys.readouterr().out
    assert not check_block3_mac_ratio(1)
    assert "not those it reads" in capsys.readouterr().out
    assert not check_block3_mac_ratio(2)
    assert "9 at any rate" in capsys.readouterr().out
    assert not check_block3_mac_ratio(8)
    assert "stride 1 against stride 2" in capsys.readouterr().out
    assert not check_block3_mac_ratio(...)
    assert "record your prediction" in capsys.readouterr().out
    assert not check_block3_mac_ratio("many")
    assert not check_block3_mac_ratio(4, 16.0)  # a measurement that disagrees is reported


def test_block_mac_ratios_are_what_the_models_measure() -> None:
    from segedu.analysis.costs import macs_by_layer
    from segedu.models import DeepLabV3

    def block_macs(block: str, output_stride: int) -> int:
        model = DeepLabV3(3, 4, output_stride=output_stride)
        return sum(macs for name, _, macs in macs_by_layer(model, (1, 3, 64, 64)) if name.startswith(block + "."))

    assert block_macs("block3", 8) / block_macs("block3", 32) == 4
    assert block_macs("block4", 8) / block_macs("block4", 32) == 16


def test_rate6_share_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    assert set(RATE6_SHARE_CHOICES) == {"a", "b", "c", "d"}
    assert all(text.endswith("of 9") for text in RATE6_SHARE_CHOICES.values())  # bare shares, no reasons
    assert check_rate6_share_prediction("c")
    out = capsys.readouterr().out
    assert "0.250 = 2.25 of 9" in out and "a quarter of the taps" in out
    for letter in "abd":
        assert not check_rate6_share_prediction(letter)
        assert "-6, 0, +6" in capsys.readouterr().out
    assert not check_rate6_share_prediction("e")
    assert "must be one of" in capsys.readouterr().out
    assert not check_rate6_share_prediction(...)
    assert "record your prediction" in capsys.readouterr().out


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
    (lambda x, weight, rate: _nine_slices(x, weight, rate) + 1, "largest difference"),
])
def test_atrous_conv2d_names_the_slip(function, hint: str, capsys) -> None:
    assert check_atrous_conv2d(function) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out, out
