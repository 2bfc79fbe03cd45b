"""Lesson 04 checks accept right answers and give the matching hint for typical mistakes."""

from __future__ import annotations

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


def test_dilated_window_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    expected = 1 + 2 * sum(lesson04.WINDOW_EXERCISE_DILATIONS)
    assert lesson04.WINDOW_EXERCISE_DILATIONS == (1, 2, 4) * 4 and expected == 57
    assert lesson04.check_dilated_window_prediction(expected) is True
    output = capsys.readouterr().out
    assert "1 block 15 pixels, 2 blocks 29 pixels, 4 blocks 57 pixels" in output
    assert "Correct!" in output and "linearly" in output
    cases = [
        (2 ** 13 - 1, "keep doubling"),
        (120, "by a factor"),
        (60, "overlap"),
        (25, "12 ordinary 3x3 layers"),
        (1 + sum(lesson04.WINDOW_EXERCISE_DILATIONS), "on *each* side"),
        (expected - 1, "off by one"),
        (expected + 2, "Add up what each layer adds"),
        (..., "write your prediction first"),
        (57.0, "whole number"),
    ]
    for answer, hint in cases:
        assert lesson04.check_dilated_window_prediction(answer) is False
        output = capsys.readouterr().out
        assert "Not yet:" in output and hint in output
        assert "Correct" not in output


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


def test_layer_outputs_saved_measures_autograd() -> None:
    assert lesson04.layer_outputs_saved() == {"conv": True, "batch_norm": False, "relu": True}


def test_maps_kept_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.check_maps_kept_answer("b") is True
    output = capsys.readouterr().out
    assert "batch_norm output not saved" in output and "Correct!" in output and "PyTorch's choice" in output
    cases = [
        ("a", "reads its own input, the conv's output"),
        ("c", "Which formula then still reads BatchNorm's output"),
        (..., "record your prediction first"),
        ("d", "must be one of"),
        (2, "must be one of"),
    ]
    for answer, hint in cases:
        assert lesson04.check_maps_kept_answer(answer) is False
        output = capsys.readouterr().out
        assert "Not yet:" in output and hint in output


def test_maps_kept_answer_follows_the_measurement(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(lesson04, "layer_outputs_saved", lambda: {"conv": True, "batch_norm": True, "relu": True})
    assert lesson04.check_maps_kept_answer("c") is True
    assert lesson04.check_maps_kept_answer("b") is False
    assert "this measurement says c)" in capsys.readouterr().out
