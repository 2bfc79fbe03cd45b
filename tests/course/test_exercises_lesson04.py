"""Lesson 04 checks accept right answers and give the matching hint for typical mistakes."""

from __future__ import annotations

import math

import pytest

from segedu.course.exercises import lesson04


def _right_conv_macs(height: int, width: int, in_channels: int, out_channels: int) -> int:
    return height * width * in_channels * out_channels * 9


def test_conv_macs_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.check_conv_macs(_right_conv_macs) is True
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda h, w, i, o: h * w * i * o, "forgot the 3x3 = 9 weights"),
        (lambda h, w, i, o: 2 * h * w * i * o * 9, "counted FLOPs"),
        (lambda h, w, i, o: h * w * o * 9, "dot product over in_channels x 3 x 3"),
    ],
)
def test_conv_macs_wrong_answers(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.check_conv_macs(answer) is False
    output = capsys.readouterr().out
    assert output.startswith("Not yet:") and hint in output


def test_conv_macs_stub_says_not_implemented(capsys: pytest.CaptureFixture[str]) -> None:
    def stub(height: int, width: int, in_channels: int, out_channels: int) -> int:
        raise NotImplementedError

    assert lesson04.check_conv_macs(stub) is False
    assert "NotImplementedError" in capsys.readouterr().out


def test_feature_map_megabytes(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.check_feature_map_megabytes(lambda c, h, w: c * h * w * 4 / 1e6) is True
    assert "536.9 MB" in capsys.readouterr().out
    cases = [
        (lambda c, h, w: c * h * w / 1e6, "4 bytes"),
        (lambda c, h, w: c * h * w * 4, "divide by 10**6"),
        (lambda c, h, w: c * h * w * 4 / 2**20, "MiB"),
        (lambda c, h, w: c * h * w * 4 / 1e9, "expected"),
    ]
    for answer, hint in cases:
        assert lesson04.check_feature_map_megabytes(answer) is False
        output = capsys.readouterr().out
        assert output.startswith("Not yet:") and hint in output


def test_layers_for_receptive_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.check_layers_for_receptive_field(lambda size: math.ceil((size - 1) / 2)) is True
    assert capsys.readouterr().out.startswith("Correct!")
    assert lesson04.check_layers_for_receptive_field(lambda size: size // 2 + 1) is False
    assert "for a 1-pixel window: 1 layers see 3 pixels" in capsys.readouterr().out
    assert lesson04.check_layers_for_receptive_field(lambda size: (size - 1) // 2) is False
    assert "the fewest layers with 1 + 2 * L >= 2 is 1" in capsys.readouterr().out


def test_macs_saved_by_downsampling(capsys: pytest.CaptureFixture[str]) -> None:
    def right(height: int, width: int, channels: int, num_layers: int) -> int:
        full = height * width * channels * channels * 9 * num_layers
        return full - full // 4

    assert lesson04.check_macs_saved_by_downsampling(right) is True
    assert "3/4" in capsys.readouterr().out

    def halved(height: int, width: int, channels: int, num_layers: int) -> int:
        full = height * width * channels * channels * 9 * num_layers
        return full - full // 2

    def remaining(height: int, width: int, channels: int, num_layers: int) -> int:
        return height * width * channels * channels * 9 * num_layers // 4

    cases = [(halved, "divides the pixels by 4"), (remaining, "MACs that remain"), (lambda *a: 0, "count_macs measures")]
    for answer, hint in cases:
        assert lesson04.check_macs_saved_by_downsampling(answer) is False
        output = capsys.readouterr().out
        assert output.startswith("Not yet:") and hint in output


def test_dilated_layers_for_receptive_field(capsys: pytest.CaptureFixture[str]) -> None:
    def right(size: int) -> int:
        return max(0, math.ceil(math.log2(size + 1)) - 1)

    assert lesson04.check_dilated_layers_for_receptive_field(right) is True
    assert "2**(L + 1) - 1" in capsys.readouterr().out
    cases = [
        (lambda size: math.ceil((size - 1) / 2), "you gave the stride-1 answer"),
        (lambda size: math.ceil(math.log2(size)), "layers with dilations 1, 2, 4, ... see"),
        (lambda size: "seven", "return a whole number"),
    ]
    for answer, hint in cases:
        assert lesson04.check_dilated_layers_for_receptive_field(answer) is False
        output = capsys.readouterr().out
        assert output.startswith("Not yet:") and hint in output
