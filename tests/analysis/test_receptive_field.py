"""The receptive-field formulas (for a stack, for a model) agree with what autograd measures."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
from torch import nn

from segedu.analysis.activations import record_activations
from segedu.analysis.receptive_field import (
    centred_share,
    effective_receptive_field,
    measured_receptive_field,
    pixel_receptive_field,
    pixel_receptive_field_from_recording,
    receptive_field_table,
    stack_receptive_field,
)
from segedu.models import FullResolutionNet, TinyClassifier, get_model


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


# ----------------------------------------------------------------------------------------------
# The formula for a list of (kernel_size, stride) layers
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "first_decoder_layer"), [("unet", "up1"), ("segnet", "unpool"), ("fcn8s", "up"),
                                                          ("deeplabv3", "aspp")])
def test_rows_stop_before_the_decoder_or_parallel_branches(name: str, first_decoder_layer: str) -> None:
    # Chaining U-Net's decoder after its encoder gave 396 px, more than the 64-px image: a silent wrong answer.
    model = get_model(name, in_channels=3, num_classes=4)
    names = [module_name for module_name, _ in model.named_modules()]
    cut = next(index for index, module_name in enumerate(names) if first_decoder_layer in module_name)
    rows = receptive_field_table(model)
    assert rows and all(names.index(row.name) < cut for row in rows)
    # Every row equals the formula over the same chain of layers, taken alone.
    chain = nn.Sequential(*[module for module_name, module in model.named_modules()
                            if module_name in {row.name for row in rows}])
    assert [row.size for row in receptive_field_table(chain)] == [row.size for row in rows]


def test_a_model_that_upsamples_first_is_refused() -> None:
    with pytest.raises(ValueError, match="pixel_receptive_field"):
        receptive_field_table(nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(1, 1, 3)))


def test_stack_formula_by_hand() -> None:
    assert stack_receptive_field([]) == 1
    assert stack_receptive_field([(3, 1)] * 10) == 21
    # conv, conv (5 pixels), pool (+1 = 6, jump 2), conv (+4 = 10)
    assert stack_receptive_field([(3, 1), (3, 1), (2, 2), (3, 1)]) == 10
    # pool (2 pixels, jump 2), upsample (jump 1), conv: 3 upsampled pixels span 2 pooled ones = 4
    assert stack_receptive_field([(2, 2), (1, Fraction(1, 2)), (3, 1)]) == 4
    with pytest.raises(ValueError, match="kernel_size >= 1 and stride > 0"):
        stack_receptive_field([(3, 0)])


@pytest.mark.parametrize(
    "layers",
    [[(3, 1)] * 4, [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)], [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1)]],
)
def test_stack_formula_equals_the_table_and_brute_force(layers: list[tuple[int, int]]) -> None:
    modules = [nn.MaxPool2d(2) if layer == (2, 2) else nn.Conv2d(1, 1, layer[0], stride=layer[1]) for layer in layers]
    assert stack_receptive_field(layers) == receptive_field_table(nn.Sequential(*modules))[-1].size
    assert stack_receptive_field(layers) == _brute_force_size([(kernel, stride, 1) for kernel, stride in layers])


def test_stack_formula_matches_a_gradient_measurement_with_pooling() -> None:
    # conv, conv, avg-pool, conv, conv, avg-pool, conv: no upsampling, so the formula is exact.
    layers = [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)]
    torch.manual_seed(0)
    modules: list[nn.Module] = []
    channels = 1
    for kernel_size, _ in layers:
        if kernel_size == 2:
            modules.append(nn.AvgPool2d(2))
        else:
            modules += [nn.Conv2d(channels, 4, 3, padding=1), nn.Tanh()]
            channels = 4
    measured = measured_receptive_field(nn.Sequential(*modules), in_channels=1, input_size=64, samples=2)
    assert measured == stack_receptive_field(layers)


# ----------------------------------------------------------------------------------------------
# One output pixel of one image, by the gradient of its logit
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1, 3])
def test_pixel_field_of_a_stride1_stack_is_the_formula(depth: int) -> None:
    torch.manual_seed(depth)
    model = FullResolutionNet(3, 4, width=8, depth=depth)
    field = pixel_receptive_field(model, torch.rand(3, 32, 32), 16, 10)
    side = stack_receptive_field([(3, 1)] * depth)  # the 1x1 classifier adds nothing
    assert (field.height, field.width) == (side, side) == (model.receptive_field,) * 2
    assert field.box == (16 - depth, 10 - depth, 17 + depth, 11 + depth)
    assert int(field.region.sum()) == side**2 and field.gradient.shape == (32, 32)


def test_pixel_field_follows_strides_of_a_pooling_network() -> None:
    # conv3 -> 2x2 average pool -> conv3 -> 2x upsample: 3 pixels, +1 for the pool, +2 steps of 2 = 8.
    model = nn.Sequential(
        nn.Conv2d(1, 1, 3, padding=1), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3, padding=1), nn.Upsample(scale_factor=2)
    )
    for layer in (model[0], model[2]):
        nn.init.constant_(layer.weight, 1.0)  # positive weights: no cancellation inside the field
    field = pixel_receptive_field(model, torch.rand(1, 32, 32), 16, 16)
    assert (field.height, field.width) == (8, 8)
    assert (field.height, field.width) == (stack_receptive_field([(3, 1), (2, 2), (3, 1), (1, Fraction(1, 2))]),) * 2


def test_pixel_field_is_the_gradient_autograd_computes() -> None:
    torch.manual_seed(0)
    model = FullResolutionNet(1, 3, width=4, depth=2).eval()
    image = torch.rand(1, 16, 16)
    recording = record_activations(model, image, keep_graph=True)
    field = pixel_receptive_field_from_recording(recording, 5, 7, class_index=2)
    reference = image[None].clone().requires_grad_(True)
    model(reference)[0, 2, 5, 7].backward()
    torch.testing.assert_close(field.gradient, reference.grad[0].abs().sum(dim=0))
    assert field.class_index == 2
    again = pixel_receptive_field_from_recording(recording, 5, 7)  # the graph is kept for more pixels
    assert again.class_index == int(recording.logits[0, :, 5, 7].argmax())


def test_pixel_field_refuses_a_recording_without_graph_and_pixels_outside() -> None:
    model = FullResolutionNet(1, 3, width=4, depth=2)
    with pytest.raises(ValueError, match="keep_graph=True"):
        pixel_receptive_field_from_recording(record_activations(model, torch.rand(1, 16, 16)), 0, 0)
    with pytest.raises(ValueError, match=r"must lie in the 16x16 output; got \(16, 0\)"):
        pixel_receptive_field(model, torch.rand(1, 16, 16), 16, 0)


def test_effective_field_is_normalised_and_zero_outside_the_theoretical_window() -> None:
    torch.manual_seed(0)
    model = FullResolutionNet(3, 2, width=4, depth=3, dilations=[1, 2, 4]).features
    field = effective_receptive_field(model, in_channels=3, input_size=31, samples=4)
    assert field.shape == (31, 31)
    torch.testing.assert_close(field.sum(), torch.tensor(1.0))
    nonzero = (field > 0).nonzero()
    assert nonzero.min().item() == 15 - 7 and nonzero.max().item() == 15 + 7  # the 15-pixel window


def test_effective_field_of_one_linear_conv_is_its_kernel() -> None:
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[1.0, -2.0, 0.0], [0.0, 4.0, 1.0], [0.0, 0.0, 2.0]]]]))
    field = effective_receptive_field(conv, in_channels=1, input_size=7, samples=2)
    expected = torch.zeros(7, 7)
    expected[2:5, 2:5] = conv.weight[0, 0].abs() / 10  # |weights| at the centre, scaled to sum 1
    torch.testing.assert_close(field, expected)


def test_effective_field_is_concentrated_in_a_deep_plain_stack() -> None:
    torch.manual_seed(0)
    model = FullResolutionNet(3, 2, width=8, depth=10).features  # theoretical window 21 pixels
    field = effective_receptive_field(model, in_channels=3, input_size=41, samples=4)
    half = centred_share(field, 11)
    assert half > 0.6 > (11 / 21) ** 2  # far more than the square's share of the window


def test_centred_share_by_hand_and_refusals() -> None:
    weights = torch.zeros(5, 5)
    weights[2, 2], weights[0, 0], weights[1, 3] = 2.0, 1.0, 1.0
    assert centred_share(weights, 1) == 0.5
    assert centred_share(weights, 3) == 0.75
    assert centred_share(weights, 5) == 1.0
    assert centred_share(weights, 9) == 1.0  # larger than the map: everything
    with pytest.raises(ValueError, match="odd"):
        centred_share(weights, 4)
    with pytest.raises(ValueError, match="non-negative"):
        centred_share(-weights, 3)
