"""Tests for segedu.analysis.costs: parameter, MAC and activation-memory counts on hand-checkable models."""

import pytest
import torch
from torch import nn

from segedu.analysis.costs import (
    activation_memory,
    activation_memory_by_layer,
    cost_report,
    count_macs,
    count_parameters,
    macs_by_layer,
)

FLOAT32_BYTES = 4


def _assert_no_hooks(model: nn.Module) -> None:
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks


def _conv_relu_net() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 4, 3, padding=1),
        nn.ReLU(),
    )


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


def test_count_parameters_matches_sum_of_numel_and_skips_frozen():
    # 3x6x6 -> conv 3x3 -> 8x4x4 -> flatten -> 128 features -> 2.
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8 * 4 * 4, 2)
    )
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())
    # By hand: conv 8*3*3*3 + 8, batch norm 8 + 8, linear 128*2 + 2.
    assert count_parameters(model) == (8 * 3 * 9 + 8) + (8 + 8) + (128 * 2 + 2)
    model[0].requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == count_parameters(model) - (8 * 3 * 9 + 8)


def test_shared_parameter_counts_once():
    layer = nn.Linear(4, 4)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert count_parameters(model) == 4 * 4 + 4
    # ...but its MACs count at every call: two calls of batch * 4 * 4.
    assert count_macs(model, (3, 4)) == 2 * 3 * 4 * 4


# ----------------------------------------------------------------------------------------------
# MACs
# ----------------------------------------------------------------------------------------------


def test_conv_macs_by_hand():
    model = nn.Conv2d(3, 8, 3, padding=1)
    # padding=1 keeps 16x16, so the output has 1 * 8 * 16 * 16 elements; each is a dot product
    # over a 3-channel 3x3 window = 3 * 9 multiply-accumulates. The bias add is not counted.
    assert count_macs(model, (1, 3, 16, 16)) == (1 * 8 * 16 * 16) * (3 * 9)
    assert macs_by_layer(model, (1, 3, 16, 16)) == [("(model)", "Conv2d", 8 * 16 * 16 * 3 * 9)]
    _assert_no_hooks(model)


def test_grouped_and_strided_conv_macs_by_hand():
    model = nn.Conv2d(4, 6, 3, stride=2, groups=2)
    # Output (2, 6, 4, 4) from a 9x9 input: (9 - 3) // 2 + 1 = 4. Each output channel sees only
    # its group's 4 / 2 = 2 input channels, so each element costs 2 * 3 * 3 MACs.
    assert count_macs(model, (2, 4, 9, 9)) == (2 * 6 * 4 * 4) * (2 * 3 * 3)


def test_linear_macs_by_hand():
    model = nn.Linear(10, 4)
    # Each of the 5 * 4 outputs is a dot product of length 10.
    assert count_macs(model, (5, 10)) == 5 * 10 * 4


def test_transposed_conv_macs_by_hand():
    model = nn.ConvTranspose2d(4, 2, 3, stride=2)
    # Each of the 1 * 4 * 5 * 5 input elements stamps a (2, 3, 3) block: 2 * 9 MACs each.
    assert count_macs(model, (1, 4, 5, 5)) == (1 * 4 * 5 * 5) * (2 * 3 * 3)


@pytest.mark.parametrize("stride, padding, groups", [(1, 0, 1), (2, 1, 1), (3, 2, 2), (2, 0, 4)])
def test_transposed_conv_costs_the_same_as_its_convolution(stride, padding, groups):
    # A transposed convolution multiplies by C^T where C is the matrix of an ordinary
    # convolution with the same weight: the same connections, so the same number of MACs.
    transposed = nn.ConvTranspose2d(4, 8, 3, stride=stride, padding=padding, groups=groups)
    input_shape = (2, 4, 5, 6)
    out_shape = transposed(torch.zeros(input_shape)).shape
    convolution = nn.Conv2d(8, 4, 3, stride=stride, padding=padding, groups=groups)
    assert convolution(torch.zeros(out_shape)).shape == input_shape
    assert count_macs(transposed, input_shape) == count_macs(convolution, tuple(out_shape))


def test_sequential_macs_are_the_sum_of_layers():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3),  # 1x8x8 -> 4x6x6: 4*6*6 outputs, 1*9 MACs each
        nn.ReLU(),  # not counted
        nn.Conv2d(4, 2, 1),  # 4x6x6 -> 2x6x6: 2*6*6 outputs, 4*1 MACs each
        nn.ConvTranspose2d(2, 3, 2, stride=2),  # 2*6*6 inputs, each stamps 3*2*2 weights
        nn.Flatten(),
        nn.Linear(3 * 12 * 12, 5),  # 5 outputs, 432 MACs each
    )
    layers = macs_by_layer(model, (1, 1, 8, 8))
    expected = [
        ("0", "Conv2d", 4 * 6 * 6 * 9),
        ("2", "Conv2d", 2 * 6 * 6 * 4),
        ("3", "ConvTranspose2d", 2 * 6 * 6 * 3 * 2 * 2),
        ("5", "Linear", 5 * 3 * 12 * 12),
    ]
    assert layers == expected
    assert count_macs(model, (1, 1, 8, 8)) == sum(macs for _, _, macs in expected)
    # Twice the batch, twice the work.
    assert count_macs(model, (2, 1, 8, 8)) == 2 * count_macs(model, (1, 1, 8, 8))
    _assert_no_hooks(model)


# ----------------------------------------------------------------------------------------------
# Activation memory
# ----------------------------------------------------------------------------------------------


def test_forward_activation_memory_by_hand():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
    # Both layers output (2, 8, 16, 16) float32 tensors.
    one_output = 2 * 8 * 16 * 16 * FLOAT32_BYTES
    assert activation_memory_by_layer(model, (2, 3, 16, 16)) == [
        ("0", "Conv2d", one_output),
        ("1", "ReLU", one_output),
    ]
    assert activation_memory(model, (2, 3, 16, 16)) == 2 * one_output
    # In float64 every number takes 8 bytes instead of 4.
    assert activation_memory(model.double(), (2, 3, 16, 16), dtype=torch.float64) == 4 * one_output
    _assert_no_hooks(model)


def test_saved_for_backward_by_hand():
    model = _conv_relu_net()
    # Autograd keeps: the input (conv 1 needs it for its weight gradient), ReLU 1's output (its
    # own gradient mask, and conv 2's input: one storage, counted once) and ReLU 2's output.
    # The conv outputs are not kept, nor are the weights (parameters are excluded).
    pixels = 2 * 5 * 7
    expected = (3 * pixels + 8 * pixels + 4 * pixels) * FLOAT32_BYTES
    assert activation_memory(model, (2, 3, 5, 7), backward=True) == expected
    # The forward definition instead counts all four layer outputs.
    assert activation_memory(model, (2, 3, 5, 7)) == (8 + 8 + 4 + 4) * pixels * FLOAT32_BYTES
    _assert_no_hooks(model)


def test_saved_for_backward_grows_with_depth_and_vanishes_when_frozen():
    model = _conv_relu_net()
    deeper = nn.Sequential(*_conv_relu_net(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
    shallow_bytes = activation_memory(model, (1, 3, 8, 8), backward=True)
    # The extra ReLU keeps one more (1, 4, 8, 8) output; the extra conv's input is already kept.
    deeper_bytes = activation_memory(deeper, (1, 3, 8, 8), backward=True)
    assert deeper_bytes == shallow_bytes + 4 * 64 * FLOAT32_BYTES
    model.requires_grad_(False)  # no gradients needed: autograd keeps nothing
    assert activation_memory(model, (1, 3, 8, 8), backward=True) == 0


def test_in_place_relu_keeps_the_same_bytes_for_backward():
    plain = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU())
    in_place = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(inplace=True))
    # Either way autograd keeps the input and one (1, 4, 6, 6) ReLU result.
    expected = (2 * 36 + 4 * 36) * FLOAT32_BYTES
    assert activation_memory(plain, (1, 2, 6, 6), backward=True) == expected
    assert activation_memory(in_place, (1, 2, 6, 6), backward=True) == expected


def test_measuring_leaves_the_model_unchanged():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
    model.train()
    buffers_before = {name: b.clone() for name, b in model.named_buffers()}
    report = cost_report(model, (2, 1, 6, 6))
    for name, buffer in model.named_buffers():
        assert torch.equal(buffer, buffers_before[name]), name
    assert model.training and all(m.training for m in model.modules())
    _assert_no_hooks(model)
    # The report agrees with the individual tools.
    assert report == {
        "parameters": count_parameters(model),
        "trainable_parameters": count_parameters(model, trainable_only=True),
        "parameter_bytes": count_parameters(model) * FLOAT32_BYTES,
        "macs": count_macs(model, (2, 1, 6, 6)),
        "activation_bytes_forward": activation_memory(model, (2, 1, 6, 6)),
        "activation_bytes_saved_for_backward": activation_memory(
            model, (2, 1, 6, 6), backward=True
        ),
    }


def test_hooks_are_removed_even_when_the_forward_fails():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(5, 2))  # wrong Linear size
    with pytest.raises(RuntimeError):
        count_macs(model, (1, 3, 6, 6))
    with pytest.raises(RuntimeError):
        activation_memory(model, (1, 3, 6, 6))
    _assert_no_hooks(model)


def test_bad_arguments_are_refused():
    model = nn.Conv2d(1, 1, 1)
    with pytest.raises(ValueError, match=r"input_shape must be positive ints .* got \(1, 0, 4\)"):
        count_macs(model, (1, 0, 4))
    with pytest.raises(ValueError, match=r"dtype=torch.float64 must match .*torch.float32"):
        activation_memory(model, (1, 1, 4, 4), dtype=torch.float64)


def test_saved_for_backward_refuses_the_meta_device():
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
    assert activation_memory(model, (1, 1, 8, 8)) == 2 * 4 * 8 * 8 * 4  # forward works on meta
    with pytest.raises(ValueError, match="meta"):
        activation_memory(model, (1, 1, 8, 8), backward=True)
