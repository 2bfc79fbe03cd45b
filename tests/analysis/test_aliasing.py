"""Tests for segedu.analysis.aliasing: blur, reference and alias measure against closed forms and torch."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from segedu.analysis.aliasing import (
    alias_response,
    binomial_kernel,
    blur_downsample,
    ideal_downsample,
    max_blur_pool,
    stripes,
    zone_plate,
)


def test_binomial_kernel_is_pascals_row_normalised() -> None:
    kernel = binomial_kernel(5)
    row = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16
    torch.testing.assert_close(kernel, row[:, None] * row[None, :])
    assert kernel.sum().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="taps must be an integer >= 1"):
        binomial_kernel(0)


def test_blur_downsample_equals_a_torch_convolution_then_sampling() -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 20, 24, generator=generator)
    kernel = binomial_kernel(5)[None, None].expand(3, 1, 5, 5)
    expected = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), kernel, groups=3)[:, :, ::2, ::2]
    torch.testing.assert_close(blur_downsample(x, 2, taps=5), expected)
    assert blur_downsample(x, 4).shape == (2, 3, 5, 6)
    flat = torch.full((1, 1, 16, 16), 0.3)
    torch.testing.assert_close(blur_downsample(flat, 4), torch.full((1, 1, 4, 4), 0.3))


def test_ideal_downsample_keeps_slow_patterns_and_removes_fast_ones() -> None:
    slow = stripes(64, 4 / 64)  # 4 cycles across: far below the Nyquist limit of factor 4 (8 cycles)
    torch.testing.assert_close(ideal_downsample(slow, 4), slow[:, :, ::4, ::4], atol=1e-5, rtol=0)
    fast = stripes(64, 20 / 64)  # 20 cycles: above it
    torch.testing.assert_close(ideal_downsample(fast, 4), torch.full((1, 1, 16, 16), 0.5), atol=1e-5, rtol=0)


def test_stripes_and_zone_plate_have_the_stated_values() -> None:
    picture = stripes(6, 1 / 3)
    torch.testing.assert_close(picture[0, 0, 0], torch.tensor([1.0, 0.25, 0.25, 1.0, 0.25, 0.25]))
    plate = zone_plate(32, scale=64.0)
    assert plate.shape == (1, 1, 32, 32) and plate[0, 0, 16, 16] == 1.0
    assert plate[0, 0, 16, 16 + 8].item() == pytest.approx(0.5 + 0.5 * math.cos(math.pi))  # r**2 = 64 = scale


def test_alias_response_is_one_for_plain_sampling_and_zero_for_a_constant_output() -> None:
    assert alias_response(lambda x: x[:, :, ::4, ::4], 0.3) == pytest.approx(1.0, abs=1e-6)
    assert alias_response(lambda x: x[:, :, ::4, ::4] * 0 + 0.7, 0.3) == 0.0


@pytest.mark.parametrize("frequency", [0.05, 0.15, 0.3, 0.45])
def test_alias_response_of_average_pooling_is_the_box_filters_gain(frequency: float) -> None:
    # A linear filter scales a cosine by |H(f)|; the 4-pixel box has H(f) = sin(4 pi f) / (4 sin(pi f)).
    gain = abs(math.sin(4 * math.pi * frequency) / (4 * math.sin(math.pi * frequency)))
    assert alias_response(lambda x: F.avg_pool2d(x, 4), frequency) == pytest.approx(gain, abs=1e-5)


def test_max_pooling_looks_alias_free_only_at_one_lucky_shift() -> None:
    # Period-3 stripes with a peak on a pixel: every 4x4 window holds a 1, so the output is flat white.
    assert torch.equal(F.max_pool2d(stripes(96, 1 / 3), 4), torch.ones(1, 1, 24, 24))
    assert alias_response(lambda x: F.max_pool2d(x, 4), 1 / 3) > 0.1  # other shifts leave a pattern
    assert alias_response(lambda x: F.max_pool2d(x, 4), 0.14) > 0.3


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="4-D floating-point"):
        blur_downsample(torch.ones(4, 4), 2)
    with pytest.raises(ValueError, match="factor must be an integer"):
        ideal_downsample(torch.ones(1, 1, 4, 4), 0)
    with pytest.raises(ValueError, match="phases must be >= 2"):
        alias_response(lambda x: x, 0.1, phases=1)


def test_max_blur_pool_is_dense_max_then_blur_then_sampling() -> None:
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    dense = F.max_pool2d(x, 2, stride=1)  # (2, 3, 15, 15)
    padded = F.pad(dense, (1, 1, 1, 1), mode="reflect")
    row = torch.tensor([1.0, 2.0, 1.0]) / 4
    kernel = (row[:, None] * row[None, :]).expand(3, 1, 3, 3)
    expected = F.conv2d(padded, kernel, groups=3)[:, :, ::2, ::2]
    found = max_blur_pool(x)
    assert found.shape == F.max_pool2d(x, 2).shape == (2, 3, 8, 8)
    torch.testing.assert_close(found, expected)


def test_max_blur_pool_aliases_less_than_max_pooling_but_keeps_less() -> None:
    max_pool = lambda picture: F.max_pool2d(picture, 2)  # noqa: E731
    above = [0.3, 0.35, 0.4, 0.45]  # finer than the new grid's limit of 1/4 cycle per pixel
    below = [0.1, 0.15, 0.2]
    alias = lambda method, frequencies: sum(alias_response(method, f) for f in frequencies)  # noqa: E731
    assert alias(max_blur_pool, above) < 0.7 * alias(max_pool, above)
    assert alias(max_blur_pool, below) < alias(max_pool, below)


def test_max_blur_pool_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="factor must be an integer >= 1"):
        max_blur_pool(torch.zeros(1, 1, 8, 8), 0)
    with pytest.raises(ValueError, match="4-D floating-point"):
        max_blur_pool(torch.zeros(8, 8))
