"""Lesson 03 checks accept right answers and give the matching hint for typical mistakes."""

from __future__ import annotations

import math

import pytest
from torch import nn

from segedu.course.exercises import lesson03
from segedu.models import TinyClassifier


def _not_implemented(*arguments: object) -> int:
    raise NotImplementedError


def _right_receptive_field(layers: list[tuple[int, int]]) -> int:
    size, jump = 1, 1
    for kernel_size, stride in layers:
        size += (kernel_size - 1) * jump
        jump *= stride
    return size


def _verdict(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


def test_size_after_pools(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson03.check_size_after_pools(lambda size, pools: size // 2**pools) is True
    assert _verdict(capsys).startswith("Correct!")
    cases = [
        (lambda size, pools: size / 2**pools, "integer division"),
        (lambda size, pools: math.ceil(size / 2**pools), "rounded up"),
        (lambda size, pools: size // (2 * pools), "real max-pools give"),
        (_not_implemented, "NotImplementedError"),
    ]
    for answer, hint in cases:
        assert lesson03.check_size_after_pools(answer) is False
        output = _verdict(capsys)
        assert output.startswith("Not yet:") and hint in output


def test_receptive_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson03.check_receptive_field(_right_receptive_field) is True
    assert "195" in _verdict(capsys)

    def jump_too_early(layers: list[tuple[int, int]]) -> int:
        size, jump = 1, 1
        for kernel_size, stride in layers:
            jump *= stride
            size += (kernel_size - 1) * jump
        return size

    cases = [
        (lambda layers: 1 + sum(k - 1 for k, _ in layers), "EARLIER strides"),
        (jump_too_early, "THEN update jump"),
        (lambda layers: 7, "r = r + (k - 1) * jump"),
        (_not_implemented, "NotImplementedError"),
    ]
    for answer, hint in cases:
        assert lesson03.check_receptive_field(answer) is False
        output = _verdict(capsys)
        assert output.startswith("Not yet:") and hint in output


def _right_fc_fraction(model: nn.Module) -> float:
    linear = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters())
    return linear / sum(p.numel() for p in model.parameters())


def test_fc_fraction(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson03.check_fc_fraction(_right_fc_fraction) is True
    assert "96%" in _verdict(capsys)

    def weights_only(model: nn.Module) -> float:
        linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
        return linear / sum(p.numel() for p in model.parameters())

    cases = [
        (lambda model: 100 * _right_fc_fraction(model), "percentage"),
        (weights_only, "biases too"),
        (lambda model: 0.5, "nn.Linear modules"),
        (_not_implemented, "NotImplementedError"),
    ]
    for answer, hint in cases:
        assert lesson03.check_fc_fraction(answer) is False
        output = _verdict(capsys)
        assert output.startswith("Not yet:") and hint in output


def test_flattened_features(capsys: pytest.CaptureFixture[str]) -> None:
    model = TinyClassifier(3, 3, base_channels=4, image_size=64)  # 16 channels after stage 3
    assert lesson03.check_flattened_features((16 * 10 * 10, 16 * 8 * 8), model, 80) is True
    assert "fc1 has exactly 1024 inputs" in _verdict(capsys)
    cases = [
        ((..., ...), "pair of numbers"),
        ((1600, 999), "fc1 expects 1024"),
        ((16 * 80 * 80, 1024), "divide the side by 8"),
        ((1700, 1024), "80 // 8"),
    ]
    for answer, hint in cases:
        assert lesson03.check_flattened_features(answer, model, 80) is False
        output = _verdict(capsys)
        assert output.startswith("Not yet:") and hint in output


def test_vanishing_pools(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson03.check_vanishing_pools((4, 3)) is True
    assert "vanishes earlier" in _verdict(capsys)
    cases = [
        ((..., ...), "pair of whole numbers"),
        ((3, 3), "different answers"),
        ((4, 2), "square at 13-18 you said 2"),
        ((5, 3), "square at 8-13 you said 5"),
    ]
    for answer, hint in cases:
        assert lesson03.check_vanishing_pools(answer) is False
        output = _verdict(capsys)
        assert output.startswith("Not yet:") and hint in output
