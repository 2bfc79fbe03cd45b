"""The receptive-field formula agrees with what autograd measures."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from segedu.models import TinyClassifier
from segedu.analysis.receptive_field import measured_receptive_field, receptive_field_table


def _brute_force_size(layers: list[tuple[int, int, int]]) -> int:
    """Receptive field of a 1-D chain by following the interval of input pixels one unit covers."""
    low, high = 0, 0  # the window of one output position, in input pixels (inclusive)
    # Walk from the output back to the input: a unit at position p of a layer with kernel k,
    # stride s, dilation d covers positions p*s .. p*s + d*(k-1) of the layer's input.
    for kernel_size, stride, dilation in reversed(layers):
        low, high = low * stride, high * stride + dilation * (kernel_size - 1)
    return high - low + 1


@pytest.mark.parametrize(
    "layers",
    [
        [(3, 1, 1)] * 4,
        [(3, 1, 1), (3, 1, 1), (2, 2, 1), (3, 1, 1), (3, 1, 1), (2, 2, 1)],
        [(11, 4, 1), (3, 2, 1), (5, 1, 1), (3, 2, 1), (3, 1, 1)],  # AlexNet-like
        [(3, 1, 2), (3, 1, 4), (2, 2, 1)],
    ],
)
def test_formula_matches_brute_force(layers: list[tuple[int, int, int]]) -> None:
    modules: list[nn.Module] = []
    for kernel_size, stride, dilation in layers:
        if stride == 2 and kernel_size == 2:
            modules.append(nn.MaxPool2d(2))
        else:
            modules.append(nn.Conv2d(1, 1, kernel_size, stride=stride, dilation=dilation))
    table = receptive_field_table(nn.Sequential(*modules))
    assert table[-1].size == _brute_force_size(layers)
    expected_jump = 1
    for row, (_, stride, _) in zip(table, layers):
        expected_jump *= stride
        assert row.jump == expected_jump


def test_tiny_classifier_stages_match_measurement() -> None:
    torch.manual_seed(0)
    model = TinyClassifier(3, 3, base_channels=4, image_size=64)
    stages = [model.stage1, model.stage2, model.stage3]
    for depth in range(1, 4):
        chain = nn.Sequential(*stages[:depth])
        expected = receptive_field_table(chain)[-1].size
        measured = measured_receptive_field(chain, in_channels=3, input_size=96, samples=16)
        assert measured == expected, f"stage {depth}: formula {expected}, measured {measured}"


def test_one_image_can_show_less_than_the_formula_with_max_pooling() -> None:
    torch.manual_seed(0)
    conv = [nn.Conv2d(1, 1, 3, padding=1) for _ in range(2)]
    chain = nn.Sequential(conv[0], nn.MaxPool2d(2), conv[1], nn.MaxPool2d(2))
    formula = receptive_field_table(chain)[-1].size
    assert measured_receptive_field(chain, in_channels=1, input_size=40, samples=32) == formula
    assert measured_receptive_field(chain, in_channels=1, input_size=40, samples=1) <= formula


def test_layers_are_named_and_model_mode_is_restored() -> None:
    model = TinyClassifier(3, 3, base_channels=4, image_size=64)
    names = [row.name for row in receptive_field_table(model)]
    assert names[0] == "stage1.conv1.conv" and names[-1] == "stage3.pool"
    stage_layers = [(3, 1, 1), (3, 1, 1), (2, 2, 1)]  # conv, conv, pool
    pools = [row.size for row in receptive_field_table(model) if row.kind == "MaxPool2d"]
    assert pools == [_brute_force_size(stage_layers * depth) for depth in (1, 2, 3)]
    model.train()
    measured_receptive_field(model.stage1, in_channels=3, input_size=32)
    assert model.stage1.training


def test_bad_models_are_refused() -> None:
    with pytest.raises(ValueError, match="no Conv2d"):
        receptive_field_table(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="non-square kernel_size"):
        receptive_field_table(nn.Conv2d(1, 1, (3, 5)))
