"""Lesson 05's exercise checks accept right answers and give a specific hint for wrong ones."""

from __future__ import annotations

import math

import pytest
import torch

from segedu.course.exercises import lesson05


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


def test_equivariant_shift_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_equivariant_shift(8) is True
    assert lesson05.check_equivariant_shift(4, strides=(2, 2)) is True
    assert capsys.readouterr().out.count("Correct!") == 2


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (1, "section 4 measured"),
        (4, "leaves out one downsampling step"),
        (2, "Follow the shift through every step"),
        (6, "do not add up"),
        (16, "not the smallest"),
        (3, "windows' sizes"),
        (7, "windows' sizes"),
        (189, "windows' sizes"),
        (5, "whole number of output pixels"),
        (0, "positive shift"),
        (2.5, "whole number of pixels"),
        (..., "replace the `...`"),
    ],
)
def test_wrong_equivariant_shift_gets_a_hint(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_equivariant_shift(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out
    assert "8 pixels" not in out and "multiples of 8" not in out  # the hint does not give the value


def test_equivariant_shift_matches_a_real_encoder() -> None:
    # The checker's rule, verified on the exercise's encoder (ResNet-18's start: a 7x7 conv with stride 2, an
    # overlapping 3x3 max pool with stride 2, a 3x3 conv, a 3x3 conv with stride 2): it moves exactly under a shift
    # of 8 pixels, and under shifts of 1 to 7 its output is not the old output moved by any whole number of pixels.
    torch.manual_seed(0)
    encoder = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 7, stride=2, padding=3), torch.nn.MaxPool2d(3, stride=2, padding=1),
        torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.Conv2d(4, 4, 3, stride=2, padding=1),
    )
    x = torch.rand(1, 1, 64, 112)
    with torch.no_grad():
        base = encoder(x[..., :96])  # (1, 4, 8, 12)
        shifted = {shift: encoder(x[..., shift : shift + 96]) for shift in range(1, 17)}
    inner = lambda output, moved: output[..., 2 + moved : 9 + moved]  # noqa: E731  (columns 2-8, away from the border)
    for shift in (8, 16):
        torch.testing.assert_close(shifted[shift][..., 2:9], inner(base, shift // 8))
    for shift in range(1, 8):
        assert not any(torch.allclose(shifted[shift][..., 2:9], inner(base, moved)) for moved in (0, 1))
    assert lesson05.check_equivariant_shift(8, strides=(2, 2, 2), kernel_sizes=(7, 3, 3, 3)) is True


@pytest.mark.parametrize(
    ("measured", "letter"),
    [
        ({"alias": 0.67, "detail kept": 0.85}, "a"),
        ({"alias": 0.9, "detail kept": 0.7}, "b"),
        ({"alias": 0.8, "detail kept": 0.82}, "c"),
    ],
)
def test_blur_size_prediction_follows_the_measurement(measured, letter: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_blur_size_prediction(letter, measured) is True
    assert capsys.readouterr().out.startswith("Correct! measured")
    wrong_letter = "c" if letter != "c" else "a"
    assert lesson05.check_blur_size_prediction(wrong_letter, measured) is True  # a recorded miss passes
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs: you predicted") and "cos²(πf)" in out


@pytest.mark.parametrize(
    ("measured", "letter"),
    [
        ({"alias": 0.80, "detail kept": 0.86}, "a"),  # drops 20 and 14 points: 6 apart
        ({"alias": 0.80, "detail kept": 0.84}, "c"),  # 4 apart
        ({"alias": 0.86, "detail kept": 0.80}, "b"),
    ],
)
def test_blur_size_options_share_one_threshold(measured, letter: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Every option names the threshold the checker uses, so "a" and "b" are defined as sharply as "c".
    points = f"{lesson05.SAME_FRACTION * 100:g} percentage points"
    assert all(points in text for text in lesson05.BLUR_EFFECTS.values())
    assert lesson05.check_blur_size_prediction(letter, measured) is True
    assert lesson05.BLUR_EFFECTS[letter] in capsys.readouterr().out


def test_blur_size_prediction_explains_the_shift_change(capsys: pytest.CaptureFixture[str]) -> None:
    measured = {"alias": 0.67, "detail kept": 0.85, "shift change": 0.8}
    assert lesson05.check_blur_size_prediction("b", measured) is True
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and "to 0.80" in out
    assert "cannot tell alias from lost detail" in out


@pytest.mark.parametrize(("prediction", "hint"), [(..., "record your prediction first"), ("z", "must be one of")])
def test_unrecorded_blur_prediction_gets_a_hint(prediction, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_blur_size_prediction(prediction, {"alias": 0.8, "detail kept": 0.8}) is False
    assert hint in capsys.readouterr().out
    assert lesson05.check_blur_size_prediction("b", {"alias": 0.8}) is False
    assert "pass the measured ratios" in capsys.readouterr().out


def test_blur_size_explanation_follows_the_measurement(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson05.check_blur_size_prediction("a", {"alias": 0.67, "detail kept": 0.85}) is True
    out = capsys.readouterr().out
    assert "predicts the alias to fall by 69% and the detail by 15%" in out
    assert "2.2 times the detail's fraction, but far less than the rule predicts" in out
    assert lesson05.check_blur_size_prediction("a", {"alias": 0.3, "detail kept": 0.85}) is True
    assert "follows that rule" in capsys.readouterr().out
    assert lesson05.check_blur_size_prediction("b", {"alias": 0.9, "detail kept": 0.7}) is True
    out = capsys.readouterr().out
    assert "times the detail's fraction" not in out and "does not follow that rule" in out


def test_blur_size_feedback_points_at_the_finest_stripes(capsys: pytest.CaptureFixture[str]) -> None:
    measured = {"alias": 0.67, "detail kept": 0.85, "finest alias 3 taps": 0.437, "finest alias 5 taps": 0.421}
    assert lesson05.check_blur_size_prediction("c", measured) is True
    out = capsys.readouterr().out
    assert "no blur removes a flat level" in out and "climbs to 0.44 there, and with 5 taps it is 0.42" in out
    assert lesson05.check_blur_size_prediction("a", {"alias": 0.67, "detail kept": 0.85}) is True
    assert "flat level" not in capsys.readouterr().out  # only said when the curve's values are given


def test_linear_rule_matches_a_linear_blur() -> None:
    # The rule the feedback quotes, measured: a linear binomial blur, then every 2nd pixel, keeps cos^2(pi f)^(taps//2).
    from segedu.analysis.aliasing import alias_response, blur_downsample

    for frequency in (0.1, 0.375):
        three = alias_response(lambda x: blur_downsample(x, 2, taps=3), frequency)
        five = alias_response(lambda x: blur_downsample(x, 2, taps=5), frequency)
        assert five / three == pytest.approx(math.cos(math.pi * frequency) ** 2, rel=0.05)
