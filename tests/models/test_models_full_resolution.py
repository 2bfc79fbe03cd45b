"""FullResolutionNet: size-keeping, receptive field by the formula and measured, dilations option."""

from __future__ import annotations

import pytest
import torch

from segedu.analysis.costs import count_macs, count_parameters
from segedu.analysis.receptive_field import measured_receptive_field, receptive_field_table
from segedu.models import FullResolutionNet


@pytest.mark.parametrize("dilations", [None, [1, 2, 4], [3, 1, 2]])
def test_output_keeps_the_size_and_the_window_is_the_formula(dilations: list[int] | None) -> None:
    torch.manual_seed(0)
    model = FullResolutionNet(3, 4, width=8, depth=3, dilations=dilations)
    assert model(torch.rand(2, 3, 13, 17)).shape == (2, 4, 13, 17)
    expected = 1 + 2 * sum(dilations or [1, 1, 1])
    assert model.receptive_field == expected == receptive_field_table(model.features)[-1].size
    assert measured_receptive_field(model, in_channels=3, input_size=expected + 10, samples=2) == expected


def test_dilations_one_two_four_see_two_to_the_l_plus_one_minus_one() -> None:
    for depth in range(1, 7):
        model = FullResolutionNet(1, 2, width=4, depth=depth, dilations=[2**k for k in range(depth)])
        assert model.receptive_field == 2 ** (depth + 1) - 1


def test_dilation_changes_neither_parameters_nor_macs() -> None:
    plain = FullResolutionNet(3, 4, width=8, depth=4)
    dilated = FullResolutionNet(3, 4, width=8, depth=4, dilations=[1, 2, 4, 8])
    assert count_parameters(plain) == count_parameters(dilated)
    assert count_macs(plain, (1, 3, 32, 32)) == count_macs(dilated, (1, 3, 32, 32))


def test_default_is_the_plain_stack() -> None:
    model = FullResolutionNet(3, 4, depth=5)
    assert model.dilations == (1,) * 5 and model.receptive_field == 11
    assert "dilations" not in repr(model)
    assert "dilations=[1, 2]" in repr(FullResolutionNet(3, 4, depth=2, dilations=[1, 2]))
    assert "dilation=2" in repr(FullResolutionNet(3, 4, depth=2, dilations=[1, 2]).features.conv2)


@pytest.mark.parametrize("dilations", [[1, 2], [1, 0, 2], [1, 2.0, 4], [True, 1, 1]])
def test_bad_dilations_are_refused(dilations: list) -> None:
    with pytest.raises(ValueError, match="dilations must list one int >= 1 per layer"):
        FullResolutionNet(3, 4, depth=3, dilations=dilations)
