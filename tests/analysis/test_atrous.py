"""Atrous footprints equal the gradients of real dilated stacks; tap shares equal a brute-force count."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segedu.analysis.atrous import dilated_stack_footprint, footprint_coverage, valid_tap_fraction, with_previous_rate
from segedu.models import get_model


def _centre_gradient(rates: tuple[int, ...], seed: int) -> torch.Tensor:
    """|d centre output / d input| of a linear stack of random dilated 3x3 convs, on the receptive-field square."""
    generator = torch.Generator().manual_seed(seed)
    side = 1 + 2 * sum(rates)
    x = torch.randn(1, 1, side, side, dtype=torch.float64, generator=generator, requires_grad=True)
    y = x
    for rate in rates:
        weight = torch.rand(1, 1, 3, 3, dtype=torch.float64, generator=generator) + 0.5  # no zero tap
        y = F.conv2d(y, weight, padding=rate, dilation=rate)
    y[0, 0, side // 2, side // 2].backward()
    return x.grad[0, 0].abs()


@pytest.mark.parametrize("rates", [(1,), (2,), (1, 1, 1), (2, 2, 2), (1, 2, 4), (2, 4, 8), (1, 2, 3), (3, 2)])
def test_footprint_is_where_a_real_stack_has_a_gradient(rates) -> None:
    footprint = dilated_stack_footprint(rates)
    assert footprint.shape == (1 + 2 * sum(rates),) * 2
    assert torch.equal(footprint > 0, _centre_gradient(rates, seed=0) > 0)


def test_all_ones_stack_gradient_counts_the_paths() -> None:
    rates = (1, 2)
    side = 1 + 2 * sum(rates)
    x = torch.zeros(1, 1, side, side, dtype=torch.float64, requires_grad=True)
    y = x
    for rate in rates:
        y = F.conv2d(y, torch.ones(1, 1, 3, 3, dtype=torch.float64), padding=rate, dilation=rate)
    y[0, 0, side // 2, side // 2].backward()
    torch.testing.assert_close(dilated_stack_footprint(rates), x.grad[0, 0])
    assert dilated_stack_footprint(rates).sum() == 9**2  # 9 taps per layer, every path counted once


def test_coverage_of_common_stacks() -> None:
    assert footprint_coverage((1, 2, 4)) == footprint_coverage((1, 2, 3)) == footprint_coverage((1, 1)) == 1.0
    assert footprint_coverage((2, 2, 2)) == pytest.approx(7**2 / 13**2)  # even offsets only
    assert footprint_coverage((2, 4, 8)) == pytest.approx(15**2 / 29**2)
    assert footprint_coverage((3, 3)) == pytest.approx(5**2 / 13**2)  # multiples of 3 only


@pytest.mark.parametrize("map_side, rate", [(8, 1), (8, 2), (8, 4), (8, 12), (33, 6), (33, 18), (4, 3), (1, 1)])
def test_valid_tap_fraction_equals_a_brute_force_count(map_side, rate) -> None:
    inside = 0
    for row in range(map_side):
        for column in range(map_side):
            for tap_row in (-rate, 0, rate):
                for tap_column in (-rate, 0, rate):
                    inside += 0 <= row + tap_row < map_side and 0 <= column + tap_column < map_side
    assert valid_tap_fraction(map_side, rate) == pytest.approx(inside / (9 * map_side**2))


def test_large_rates_leave_only_the_centre_tap() -> None:
    assert valid_tap_fraction(8, 8) == valid_tap_fraction(8, 100) == pytest.approx(1 / 9)
    assert valid_tap_fraction(8, 1) > valid_tap_fraction(8, 2) > valid_tap_fraction(8, 4)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="rates must be a non-empty sequence"):
        dilated_stack_footprint([])
    with pytest.raises(ValueError, match="rates must be"):
        footprint_coverage([2, 0])
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        valid_tap_fraction(8, 2, kernel_size=4)
    with pytest.raises(ValueError, match="map_side must be an int >= 1"):
        valid_tap_fraction(0, 2)


def test_reads_whole_window_agrees_with_the_count() -> None:
    from itertools import combinations_with_replacement

    from segedu.analysis.atrous import reads_whole_window

    assert not reads_whole_window([1, 4])  # no common factor, still holes
    assert round(footprint_coverage([1, 4]), 3) == 0.669
    assert reads_whole_window([4, 1, 1])  # the order of the layers does not matter
    for count in (1, 2, 3):
        for rates in combinations_with_replacement(range(1, 8), count):
            assert reads_whole_window(rates) == (footprint_coverage(rates) == 1.0), rates
    with pytest.raises(ValueError):
        reads_whole_window([])


def _backbone(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    for part in ("stem", "block1", "block2", "block3", "block4"):
        x = getattr(model, part)(x)
    return x


def _rates(model: torch.nn.Module, block: str) -> list[int]:
    return [m.dilation[0] for m in getattr(model, block).modules()
            if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]


@pytest.mark.parametrize("output_stride, step, expected", [(8, 4, {"block3": [1, 2, 2, 2], "block4": [2, 4, 4, 4]}),
                                                           (16, 2, {"block3": [1, 1, 1, 1], "block4": [1, 2, 2, 2]})])
def test_the_previous_rate_reproduces_the_strided_backbone(output_stride, step, expected) -> None:
    """torchvision's rule: the dense backbone equals the strided one at every step-th position; segedu's rule does not."""
    strided = get_model("deeplabv3", in_channels=3, num_classes=4, base_channels=8, output_stride=32).double().eval()
    dense = get_model("deeplabv3", in_channels=3, num_classes=4, base_channels=8, output_stride=output_stride,
                      atrous_rates=(1, 2, 3)).double().eval()
    dense.load_state_dict(strided.state_dict())
    kept = with_previous_rate(dense)
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference = _backbone(strided, x)  # (2, 64, 2, 2)
        assert torch.allclose(_backbone(kept, x)[..., ::step, ::step], reference, atol=1e-10)
        assert not torch.allclose(_backbone(dense, x)[..., ::step, ::step], reference, atol=1e-3)
    assert {block: _rates(kept, block) for block in expected} == expected
    assert _rates(dense, "block4") == [expected["block4"][-1]] * 4  # the model passed in is left unchanged


def test_previous_rate_needs_a_deeplab() -> None:
    with pytest.raises(ValueError, match="needs a segedu DeepLabV3"):
        with_previous_rate(get_model("segnet", in_channels=3, num_classes=4))
