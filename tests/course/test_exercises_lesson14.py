"""Each lesson-14 check accepts the right answer and gives a specific hint for wrong ones."""

from __future__ import annotations

import pytest

from segedu.analysis.atrous import footprint_coverage
from segedu.course.exercises.lesson14 import (
    RATE12_SHARE_CHOICES,
    STACKS,
    check_block4_mac_ratio,
    check_coverage_prediction,
    check_rate12_share_prediction,
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


def test_block4_mac_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_block4_mac_ratio(16, 16.0)
    assert "16 times the positions" in capsys.readouterr().out
    assert not check_block4_mac_ratio(4, 16.0)
    assert "ratio of the map's sides" in capsys.readouterr().out
    assert not check_block4_mac_ratio(8)
    assert "9 at any rate" in capsys.readouterr().out
    assert not check_block4_mac_ratio(...)
    assert "record your prediction" in capsys.readouterr().out
    assert not check_block4_mac_ratio("many")
    assert not check_block4_mac_ratio(16, 4.0)  # a measurement that disagrees is reported


def test_block4_mac_ratio_is_what_the_models_measure() -> None:
    from segedu.analysis.costs import macs_by_layer
    from segedu.models import DeepLabV3

    def block4_macs(output_stride: int) -> int:
        model = DeepLabV3(3, 4, output_stride=output_stride)
        return sum(macs for name, _, macs in macs_by_layer(model, (1, 3, 64, 64)) if name.startswith("block4."))

    assert block4_macs(8) / block4_macs(32) == 16


def test_rate12_share_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    assert set(RATE12_SHARE_CHOICES) == {"a", "b", "c", "d"}
    assert all(text.endswith("of 9") for text in RATE12_SHARE_CHOICES.values())  # bare shares, no reasons
    assert check_rate12_share_prediction("c")
    out = capsys.readouterr().out
    assert "0.111 = 1/9" in out and "image-level branch" in out
    for letter in "abd":
        assert not check_rate12_share_prediction(letter)
        assert "-12, 0, 12" in capsys.readouterr().out
    assert not check_rate12_share_prediction("e")
    assert "must be one of" in capsys.readouterr().out
    assert not check_rate12_share_prediction(...)
    assert "record your prediction" in capsys.readouterr().out

