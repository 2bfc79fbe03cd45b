"""Lesson 04 checks accept right answers and give the matching hint for typical mistakes."""

from __future__ import annotations

import math

import pytest

from segedu.course.exercises import lesson04


def _right_conv_macs(height: int, width: int, in_channels: int, out_channels: int) -> int:
    return height * width * in_channels * out_channels * 9


def test_conv_macs_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.check_conv_macs(_right_conv_macs) is True
    out = capsys.readouterr().out
    assert out.startswith("Correct!")
    assert "a quarter of the pixels with twice the input and twice the output channels costs the same" in out


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda h, w, i, o: h * w * i * o, "forgot the 3x3 = 9 weights"),
        (lambda h, w, i, o: 2 * h * w * i * o * 9, "counted FLOPs"),
        (lambda h, w, i, o: h * w * o * 9, "how many multiply-accumulates"),
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


def _right_saved_bytes(in_channels: int, width: int, depth: int, batch_norm: bool) -> int:
    # the image, then per layer: the ReLU's output (also the next conv's input) and, with
    # BatchNorm, the conv's output (BatchNorm's input); float32 = 4 bytes.
    return 4 * in_channels + depth * 4 * width * (2 if batch_norm else 1)


def test_saved_bytes_per_pixel(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.check_saved_bytes_per_pixel(_right_saved_bytes) is True
    assert capsys.readouterr().out.startswith("Correct!")
    cases = [
        (lambda c, w, d, bn: _right_saved_bytes(c, w, d, bn) / 4, "4 bytes"),
        (lambda c, w, d, bn: _right_saved_bytes(c, w, d, bn) - 4 * c, "the first conv needs its input"),
        (lambda c, w, d, bn: 4 * c + d * 4 * w * (3 if bn else 2), "too many feature maps"),
        (lambda c, w, d, bn: 4 * c + d * 4 * w * 2, "too many feature maps"),  # ignores batch_norm=False
        (lambda c, w, d, bn: 7, "conv: its input"),
        (lambda c, w, d, bn: "2316", "return a number"),
    ]
    for answer, hint in cases:
        assert lesson04.check_saved_bytes_per_pixel(answer) is False
        output = capsys.readouterr().out
        assert output.startswith("Not yet:") and hint in output


def test_saved_bytes_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    expected = 3 * 4 + 18 * 16 * 4  # the image and one map (the ReLU's output) per layer
    assert lesson04.check_saved_bytes_prediction(expected) is True
    output = capsys.readouterr().out
    assert f"saves {expected} bytes per pixel" in output and "Correct!" in output
    cases = [
        (3 * 4 + 18 * 2 * 16 * 4, "*with* BatchNorm"),
        (expected / 4, "4 bytes"),
        (expected - 12, "the first conv needs its input"),
        (expected + 3 * 16 * 4, "too many feature maps"),
        (5, "conv: its input"),
        (..., "write your prediction first"),
        ("1164", "write a number"),
        (True, "write a number"),
    ]
    for answer, hint in cases:
        assert lesson04.check_saved_bytes_prediction(answer) is False
        output = capsys.readouterr().out
        assert "Not yet:" in output and hint in output


def _right_layers_after_pooling(size: int, pools: int) -> int:
    return max(0, math.ceil((size / 2**pools - 1) / 2))


def test_layers_after_pooling(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.check_layers_after_pooling(_right_layers_after_pooling) is True
    assert capsys.readouterr().out.startswith("Correct!")
    cases = [
        (lambda size, pools: math.ceil((size - 1) / 2), "fewer layers already see"),  # ignores the pooling
        (lambda size, pools: max(0, math.ceil((size / 2**pools - 1) / 2)) - 1, "see only"),
        (lambda size, pools: -1, "a whole number >= 0"),
    ]
    for answer, hint in cases:
        assert lesson04.check_layers_after_pooling(answer) is False
        output = capsys.readouterr().out
        assert output.startswith("Not yet:") and hint in output


def test_macs_saved_by_downsampling(capsys: pytest.CaptureFixture[str]) -> None:
    def right(height: int, width: int, channels: int, num_layers: int, later_channels: int) -> int:
        full = height * width * channels * channels * 9 * num_layers
        return full - (height // 2) * (width // 2) * later_channels * later_channels * 9 * num_layers

    assert lesson04.check_macs_saved_by_downsampling(right) is True
    assert "(C_later / C)^2" in capsys.readouterr().out

    def halved(height: int, width: int, channels: int, num_layers: int, later_channels: int) -> int:
        full = height * width * channels * channels * 9 * num_layers
        return full - full // 2

    def remaining(height: int, width: int, channels: int, num_layers: int, later_channels: int) -> int:
        return height * width * channels * channels * 9 * num_layers // 4

    def ignores_widening(height: int, width: int, channels: int, num_layers: int, later_channels: int) -> int:
        return right(height, width, channels, num_layers, channels)

    cases = [(halved, "divides the pixels by 4"), (remaining, "MACs that remain"),
             (ignores_widening, "later_channels in and out"), (lambda *a: 1, "Compute both with your conv_macs")]
    for answer, hint in cases:
        assert lesson04.check_macs_saved_by_downsampling(answer) is False
        output = capsys.readouterr().out
        assert output.startswith("Not yet:") and hint in output


def test_saved_shares_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.SHARES_EXERCISE_GROWTH == 1.5
    assert lesson04.check_saved_shares_prediction((1 - 1.5**2 / 4, 1 - 1.5 / 4)) is True
    output = capsys.readouterr().out
    assert "saves 0.4375 of the MACs and 0.6250 of the output bytes" in output and "Correct!" in output
    cases = [((0.75, 0.75), "3/4 is the saving at the same width"), ((0, 0.5), "nothing is saved when the channels"),
             ((0.625, 0.625), "the width enters twice"), ((0.4375, 0.75), "1.5 times the channels"),
             ((0.4375, 0.4375), "C_in does not enter"), ((0.4375, 0.5), "half is saved when the channels double"),
             ((0.5625, 0.625), "share of the MACs that remains"),
             ((0.4375, 0.375), "share of the output bytes that remains"),
             ((0.3, 0.625), "before and after"), ((0.4375, 0.1), "before and after"),
             (..., "write your prediction first"), ((..., ...), "write your prediction first"),
             ("3/4", "two shares"), ((True, 0.5), "two shares"), ((0, 2), "two shares")]
    for answer, hint in cases:
        assert lesson04.check_saved_shares_prediction(answer) is False
        output = capsys.readouterr().out
        assert "Not yet:" in output and hint in output


def test_dilated_window_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    expected = 1 + 2 * sum(lesson04.WINDOW_EXERCISE_DILATIONS)
    assert lesson04.check_dilated_window_prediction(expected) is True
    output = capsys.readouterr().out
    assert f"sees a {expected} x {expected} window" in output and "Correct!" in output
    cases = [
        (2 ** 7 - 1, "keep doubling"),
        (13, "six ordinary 3x3 layers"),
        (1 + sum(lesson04.WINDOW_EXERCISE_DILATIONS), "on *each* side"),
        (expected - 1, "off by one"),
        (expected + 2, "Add up what each layer adds"),
        (..., "write your prediction first"),
        (29.0, "whole number"),
    ]
    for answer, hint in cases:
        assert lesson04.check_dilated_window_prediction(answer) is False
        output = capsys.readouterr().out
        assert "Not yet:" in output and hint in output


def test_erf_depth_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.check_erf_depth_answer("c") is True
    output = capsys.readouterr().out
    assert "Correct!" in output and "square root of L" in output
    for answer, hint in [("a", "sum of L random steps"), ("b", "sum of L random steps"), (..., "record"),
                         ("d", "must be one of")]:
        assert lesson04.check_erf_depth_answer(answer) is False
        output = capsys.readouterr().out
        assert "Not yet:" in output and hint in output


def test_erf_depth_answer_follows_the_measurement(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # Were the share not to grow, "c" would not be right and the feedback would say what was measured.
    monkeypatch.setattr(lesson04, "erf_depth_seed_shares", lambda: {8: (0.68, 0.70, 0.72), 16: (0.69, 0.70, 0.71)})
    assert lesson04.check_erf_depth_answer("c") is False
    assert "this measurement says b)" in capsys.readouterr().out
    assert lesson04.check_erf_depth_answer("b") is True
    assert "Correct!" in capsys.readouterr().out


def test_the_effective_field_really_concentrates_with_depth() -> None:
    shares = lesson04.erf_depth_shares()
    assert shares[16] > shares[8] + 0.02 > 0.5  # what the right answer's feedback says
    shares[16] = 0.0  # a copy: the cached measurement is not changed
    assert lesson04.erf_depth_shares()[16] > 0.5
    per_seed = lesson04.erf_depth_seed_shares()
    assert {depth: sum(values) / 3 for depth, values in per_seed.items()} == pytest.approx(lesson04.erf_depth_shares())


def test_hints_never_print_the_expected_answer(capsys: pytest.CaptureFixture[str]) -> None:
    lesson04.check_conv_macs(lambda h, w, i, o: 1)
    assert str(8 * 8 * 3 * 16 * 9) not in capsys.readouterr().out
    lesson04.check_saved_bytes_per_pixel(lambda c, w, d, bn: 1)
    assert "2316" not in capsys.readouterr().out
    lesson04.check_macs_saved_by_downsampling(lambda *a: 1)
    full = 16 * 16 * 8 * 8 * 9 * 2
    assert str(full - full // 4) not in capsys.readouterr().out


def test_layer_outputs_saved_measures_autograd() -> None:
    assert lesson04.layer_outputs_saved() == {"conv": True, "batch_norm": False, "relu": True}


def test_never_saved_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.check_never_saved_answer("b") is True
    output = capsys.readouterr().out
    assert "BatchNorm's output not saved" in output and "Correct!" in output and "PyTorch's choice" in output
    cases = [
        ("a", "PyTorch's BatchNorm backward reads its input"),
        ("c", "the ReLU's backward reads its own output"),
        ("c", "next conv's input"),
        ("d", "In PyTorch the conv's backward reads its input"),
        ("d", "the ReLU's reads its output"),
        ("d", "Which output does none of them read"),
        (..., "record your prediction first"),
        ("e", "must be one of"),
    ]
    for answer, hint in cases:
        assert lesson04.check_never_saved_answer(answer) is False
        output = capsys.readouterr().out
        assert "Not yet:" in output and hint in output


def test_never_saved_answer_follows_the_measurement(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(lesson04, "layer_outputs_saved", lambda: {"conv": True, "batch_norm": True, "relu": True})
    assert lesson04.check_never_saved_answer("d") is True
    assert lesson04.check_never_saved_answer("b") is False
    assert "this measurement says d)" in capsys.readouterr().out
