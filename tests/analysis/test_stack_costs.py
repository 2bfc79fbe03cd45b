"""The pencil-and-paper costs and receptive fields agree with measurements on real networks."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
from torch import nn

from segedu.analysis.costs import activation_memory_by_layer, count_macs, count_parameters
from segedu.models import FullResolutionNet
from segedu.analysis.receptive_field import measured_receptive_field
from segedu.analysis.stack_costs import (
    build_encoder_decoder,
    encoder_decoder_costs,
    encoder_decoder_levels,
    encoder_decoder_rf_layers,
    receptive_field,
)


@pytest.mark.parametrize(
    ("depth", "stages", "double_channels"), [(5, 0, True), (7, 1, False), (10, 2, True), (9, 4, True)]
)
def test_costs_match_segedu_costs_on_the_built_network(depth: int, stages: int, double_channels: bool) -> None:
    shape = (2, 3, 32, 48)
    model = build_encoder_decoder(3, width=4, depth=depth, stages=stages, double_channels=double_channels)
    costs = encoder_decoder_costs(
        (32, 48), width=4, depth=depth, stages=stages, double_channels=double_channels, batch_size=2
    )
    assert costs["macs"] == count_macs(model, shape)
    assert costs["parameters"] == count_parameters(model)
    conv_bytes = sum(size for _, kind, size in activation_memory_by_layer(model, shape) if kind == "Conv2d")
    assert costs["activation_bytes"] == conv_bytes
    assert model(torch.zeros(shape)).shape == (2, 4, 32, 48)


def test_full_resolution_stack_matches_full_resolution_net() -> None:
    net = FullResolutionNet(3, 2, width=8, depth=6, batch_norm=False)
    costs = encoder_decoder_costs(16, width=8, depth=6, stages=0)
    classifier_macs = 16 * 16 * 8 * 2
    assert costs["macs"] == count_macs(net, (1, 3, 16, 16)) - classifier_macs
    assert costs["receptive_field"] == net.receptive_field == 13


def test_levels_fill_the_u_evenly() -> None:
    assert encoder_decoder_levels(5, 0) == [0] * 5
    assert encoder_decoder_levels(18, 4) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0]
    assert encoder_decoder_levels(6, 1) == [0, 0, 1, 1, 0, 0]
    with pytest.raises(ValueError, match="depth must be >= 5"):
        encoder_decoder_levels(4, 2)
    with pytest.raises(ValueError, match="stages must be >= 0"):
        encoder_decoder_levels(4, -1)


def test_receptive_field_formula_by_hand() -> None:
    assert receptive_field([]) == 1
    assert receptive_field([(3, 1)] * 10) == 21
    # conv, conv (5 pixels), pool (+1 = 6, jump 2), conv (+4 = 10)
    assert receptive_field([(3, 1), (3, 1), (2, 2), (3, 1)]) == 10
    # pool (2 pixels, jump 2), upsample (jump 1), conv: 3 upsampled pixels span 2 pooled ones = 4
    assert receptive_field([(2, 2), (1, Fraction(1, 2)), (3, 1)]) == 4
    with pytest.raises(ValueError, match="kernel_size >= 1 and stride > 0"):
        receptive_field([(3, 0)])


@pytest.mark.parametrize("depth", [1, 4, 9])
def test_stride1_formula_matches_a_gradient_measurement(depth: int) -> None:
    # Seeded weights: with only 4 channels an unlucky draw can switch off every ReLU path to a
    # border pixel of the window, so an unseeded run would fail now and then.
    torch.manual_seed(depth)
    layers = build_encoder_decoder(1, width=4, depth=depth, stages=0)
    measured = measured_receptive_field(layers, in_channels=1, input_size=33, samples=16)
    assert measured == receptive_field([(3, 1)] * depth) == 2 * depth + 1


def test_encoder_formula_matches_a_gradient_measurement() -> None:
    # conv, conv, avg-pool, conv, conv, avg-pool, conv: no upsampling, so the formula is exact.
    layers = [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)]
    modules: list[nn.Module] = []
    channels = 1
    for kernel_size, _ in layers:
        if kernel_size == 2:
            modules.append(nn.AvgPool2d(2))
        else:
            modules += [nn.Conv2d(channels, 4, 3, padding=1), nn.Tanh()]
            channels = 4
    measured = measured_receptive_field(nn.Sequential(*modules), in_channels=1, input_size=64, samples=2)
    assert measured == receptive_field(layers)


def test_decoder_formula_is_close_to_a_gradient_measurement() -> None:
    built = build_encoder_decoder(1, width=4, depth=9, stages=2)
    # average pooling passes gradient to all 4 pixels of a window (max-pooling to one only)
    model = nn.Sequential(*[nn.AvgPool2d(2) if isinstance(layer, nn.MaxPool2d) else layer for layer in built])
    formula = receptive_field(encoder_decoder_rf_layers(9, 2))
    for input_size in (128, 132):  # the window depends a little on the pixel's place in the 2x2 grid
        measured = measured_receptive_field(model, in_channels=1, input_size=input_size, samples=2)
        assert abs(measured - formula) <= 4


def test_sizes_must_fit_the_stages() -> None:
    with pytest.raises(ValueError, match="multiple of 2\\*\\*stages = 8"):
        encoder_decoder_costs(36, width=4, depth=7, stages=3)
