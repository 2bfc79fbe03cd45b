"""Tests for U-Net: valid-padding size arithmetic, skip-connection ablation and the paper's model."""

import pytest
import torch

from segedu.models import UNet
from segedu.models.unet import _center_crop


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def count(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def test_paper_sizes_572_to_388() -> None:
    with torch.device("meta"):
        model = UNet.paper()
        # On the meta device the forward pass computes shapes only, so the full paper size is cheap.
        logits = model(torch.empty(1, 1, 572, 572))
    assert logits.shape == (1, 2, 388, 388)
    assert model.output_size(572) == 388
    assert model.input_size_for(388) == 572
    # Hand trace: 572 -4-> 568 /2-> 284 -4-> 280 /2-> 140 -4-> 136 /2-> 68 -4-> 64 /2-> 32 -4-> 28
    #             x2-> 56 -4-> 52 x2-> 104 -4-> 100 x2-> 200 -4-> 196 x2-> 392 -4-> 388
    assert model.min_size == 188  # bottleneck 4: 16 * (4 + 8) - 4, output 4


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_valid_size_helpers_match_real_forward_passes(depth, generator) -> None:
    model = UNet(1, 2, base_channels=2, depth=depth, padding="valid").eval()
    for wanted in (1, 5, 20, 33):
        input_size = model.input_size_for(wanted)
        output_size = model.output_size(input_size)
        assert output_size >= wanted
        assert input_size - output_size == 12 * 2**depth - 8  # constant border lost, 184 for depth 4
        with torch.no_grad():
            logits = model(torch.rand(1, 1, input_size, input_size + 2**depth, generator=generator))
        assert logits.shape == (1, 2, output_size, output_size + 2**depth)
        # Smallest: the next smaller valid input gives a smaller output than wanted (or none at all).
        smaller = input_size - 2**depth
        if smaller >= model.min_size:
            assert model.output_size(smaller) < wanted


def test_valid_sizes_that_do_not_fit_are_refused_with_nearby_sizes() -> None:
    model = UNet.paper()
    with pytest.raises(ValueError, match=r"input 570 does not fit.*nearest: \[556, 572\]"):
        model.output_size(570)
    assert model.output_size(556) == 372
    with torch.device("meta"), pytest.raises(ValueError, match="input 571 does not fit"):
        model(torch.empty(1, 1, 572, 571))


def test_center_crop_keeps_the_middle() -> None:
    skip = torch.arange(8 * 8).view(1, 1, 8, 8)
    assert torch.equal(_center_crop(skip, (4, 6)), skip[..., 2:6, 1:7])


def test_same_padding_keeps_any_size(generator) -> None:
    model = UNet(3, 4, base_channels=4, depth=3).eval()
    for size in [(8, 8), (37, 53), (83, 84)]:
        with torch.no_grad():
            assert model(torch.rand(1, 3, *size, generator=generator)).shape == (1, 4, *size)
    assert model.output_size(37) == 37 and model.min_size == 8


def test_skip_connections_can_be_removed() -> None:
    with_skips = UNet(1, 2, base_channels=4, depth=3)
    without = UNet(1, 2, base_channels=4, depth=3, skip_connections=False)
    for name, up in without.decoder.items():
        # Without "copy and crop" the DoubleConv sees only the upsampled path: C_out in, C_out out.
        first = up.convs.conv1.conv
        assert first.in_channels == first.out_channels == up.up.out_channels
        assert with_skips.decoder[name].convs.conv1.conv.in_channels == 2 * up.up.out_channels
    assert count(without) < count(with_skips)
    assert "skip_connection=False" in str(without)
    x = torch.rand(1, 1, 24, 24)
    assert without(x).shape == (1, 2, 24, 24)


def test_skips_are_the_only_short_path_from_inc_to_the_output(generator) -> None:
    # Gradients flow to inc only through down1 .. down_depth when there are no skips; with skips,
    # inc's features also reach the output directly. Compare how strongly each reaches the output.
    x = torch.rand(1, 1, 32, 32, generator=generator)
    for skip_connections in (True, False):
        model = UNet(1, 2, base_channels=4, depth=2, skip_connections=skip_connections).eval()
        captured = {}
        model.inc.register_forward_hook(lambda m, i, o: captured.update(inc=o))
        model.encoder["down1"].pool.register_forward_hook(lambda m, i, o: o.detach())  # cut the down path
        output = model(x)
        (gradient,) = torch.autograd.grad(output.sum(), captured["inc"], allow_unused=True)
        reaches_output = gradient is not None and gradient.abs().sum() > 0
        assert reaches_output == skip_connections


def test_paper_parameter_count() -> None:
    # No BN, every conv has a bias. 3x3 conv: 9 * C_in * C_out + C_out; up-conv 2x2: 4 * C_in * C_out + C_out.
    def double_conv(c_in: int, c_out: int) -> int:
        return 9 * c_in * c_out + c_out + 9 * c_out * c_out + c_out

    def up(c_in: int, c_out: int) -> int:
        return 4 * c_in * c_out + c_out + double_conv(2 * c_out, c_out)

    inc = double_conv(1, 64)  # 37,568
    downs = double_conv(64, 128) + double_conv(128, 256) + double_conv(256, 512) + double_conv(512, 1024)
    ups = up(1024, 512) + up(512, 256) + up(256, 128) + up(128, 64)
    out_conv = 64 * 2 + 2
    expected = inc + downs + ups + out_conv
    # Written out: 37,568 + (221,440 + 885,248 + 3,539,968 + 14,157,824)
    #            + (9,176,576 + 2,294,528 + 573,824 + 143,552) + 130
    assert inc == 37_568 and downs == 18_804_480 and ups == 12_188_480
    assert expected == 31_030_658
    with torch.device("meta"):
        model = UNet.paper()
    assert count(model) == expected
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert (model.in_channels, model.num_classes, model.depth, model.padding) == (1, 2, 4, "valid")


def test_constructor_rejects_unknown_padding() -> None:
    with pytest.raises(ValueError, match="padding must be 'same' or 'valid'; got 'full'"):
        UNet(1, 2, padding="full")
