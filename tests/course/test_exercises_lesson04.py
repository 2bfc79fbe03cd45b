"""Lesson 04 checks accept right answers and give the matching hint for typical mistakes."""

from __future__ import annotations

from fractions import Fraction

import pytest

from segedu.course.exercises import lesson04


def test_deepest_conv_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.DEEPEST_UNET_CONV == (64, 64, 256, 256) and lesson04.FULL_RES_CONV == (1024, 1024, 16, 16)
    for right_answer in (1, 1.0, Fraction(1)):
        assert lesson04.check_deepest_conv_ratio(right_answer) is True
        output = capsys.readouterr().out
        assert "2,415,919,104 MACs; a FullRes-18 layer" in output  # both convs, counted by count_macs
        assert "Correct!" in output and "keeps a layer's MACs" in output
    cases = [
        (1 / 256, "counted the pixels"),
        (256, "counted the channels"),
        (1 / 16, "count both factors"),
        (16, "count both factors"),
        (0.5, "How do a 3x3 conv's MACs grow"),
        (..., "write your prediction first"),
        ("1", "write a number"),
        (True, "write a number"),
    ]
    for answer, hint in cases:
        assert lesson04.check_deepest_conv_ratio(answer) is False
        output = capsys.readouterr().out
        assert "Not yet:" in output and hint in output and "Correct" not in output


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
