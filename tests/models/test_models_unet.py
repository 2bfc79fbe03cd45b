"""Tests for U-Net: the named blocks of the U, valid padding, the skip ablation and the paper's model."""

import pytest
import torch

from segedu.analysis.unet_sizes import valid_border, valid_input_size, valid_output_size
from segedu.models import UNet
from segedu.models.unet import DoubleConv, _center_crop


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def count(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def reference_forward(model: UNet, x: torch.Tensor) -> torch.Tensor:
    """The U written out by hand from the blocks, for an input the model needs no padding for."""
    level0 = model.inc(x)
    level1 = model.down1(level0)
    level2 = model.down2(level1)
    level3 = model.down3(level2)
    bottom = model.down4(level3)
    up = model.up1.up(bottom)
    up = model.up1.convs(torch.cat([_center_crop(level3, up.shape[-2:]), up], dim=1))
    up = model.up2.up(up)
    up = model.up2.convs(torch.cat([_center_crop(level2, up.shape[-2:]), up], dim=1))
    up = model.up3.up(up)
    up = model.up3.convs(torch.cat([_center_crop(level1, up.shape[-2:]), up], dim=1))
    up = model.up4.up(up)
    up = model.up4.convs(torch.cat([_center_crop(level0, up.shape[-2:]), up], dim=1))
    return model.outc(up)


def test_named_blocks_in_the_order_of_the_figure() -> None:
    model = UNet(3, 4, base_channels=4)
    names = [name for name, _ in model.named_children()]
    assert names == ["inc", "down1", "down2", "down3", "down4", "up1", "up2", "up3", "up4", "outc"]
    assert [model.down1.convs.conv1.conv.out_channels, model.down4.convs.conv2.conv.out_channels] == [8, 64]
    assert model.up1.up.in_channels == 64 and model.up4.convs.conv2.conv.out_channels == 4
    assert isinstance(model.inc, DoubleConv) and model.depth == 4


@pytest.mark.parametrize("padding, size", [("same", 32), ("valid", 188 + 16)])
def test_forward_equals_the_hand_written_composition_of_its_blocks(padding, size, generator) -> None:
    model = UNet(3, 2, base_channels=4, padding=padding).eval()
    x = torch.rand(2, 3, size, size, generator=generator)
    with torch.no_grad():
        expected = reference_forward(model, x)
        found = model(x)
    side = size if padding == "same" else size - 184
    assert found.shape == expected.shape == (2, 2, side, side)
    torch.testing.assert_close(found, expected, rtol=0, atol=0)


def test_paper_sizes_572_to_388() -> None:
    with torch.device("meta"):
        model = UNet.paper()
        # On the meta device the forward pass computes shapes only, so the full paper size is cheap.
        logits = model(torch.empty(1, 1, 572, 572))
    assert logits.shape == (1, 2, 388, 388)
    # Hand trace: 572 -4-> 568 /2-> 284 -4-> 280 /2-> 140 -4-> 136 /2-> 68 -4-> 64 /2-> 32 -4-> 28
    #             x2-> 56 -4-> 52 x2-> 104 -4-> 100 x2-> 200 -4-> 196 x2-> 392 -4-> 388
    assert valid_output_size(572) == 388 and valid_input_size(388) == 572
    assert model.min_size == 188 == valid_input_size(1)  # bottleneck 4: 16 * (4 + 8) - 4, output 4


def test_valid_forward_passes_agree_with_the_size_planner(generator) -> None:
    model = UNet(1, 2, base_channels=2, padding="valid").eval()
    for wanted in (1, 5, 20):
        input_size = valid_input_size(wanted)
        output_size = valid_output_size(input_size)
        assert input_size - output_size == valid_border() == 184
        with torch.no_grad():
            logits = model(torch.rand(1, 1, input_size, input_size + 16, generator=generator))
        assert logits.shape == (1, 2, output_size, output_size + 16)


def test_valid_sizes_that_do_not_fit_are_refused_with_nearby_sizes() -> None:
    with torch.device("meta"):
        model = UNet.paper()
        with pytest.raises(ValueError, match=r"571 does not fit, nearest: \[556, 572\]"):
            model(torch.empty(1, 1, 572, 571))
        with pytest.raises(ValueError, match=r"needs H and W >= 188"):
            model(torch.empty(1, 1, 172, 172))
        assert model(torch.empty(1, 1, 556, 188)).shape == (1, 2, 372, 4)


def test_center_crop_keeps_the_middle() -> None:
    skip = torch.arange(8 * 8).view(1, 1, 8, 8)
    assert torch.equal(_center_crop(skip, (4, 6)), skip[..., 2:6, 1:7])


def test_double_conv_trims_four_pixels_with_valid_padding() -> None:
    x = torch.rand(1, 2, 20, 21)
    assert DoubleConv(2, 4, padding=1)(x).shape == (1, 4, 20, 21)
    assert DoubleConv(2, 4, padding=0)(x).shape == (1, 4, 16, 17)


def test_same_padding_keeps_any_size(generator) -> None:
    model = UNet(3, 4, base_channels=4).eval()
    for size in [(16, 16), (37, 53), (83, 84)]:
        with torch.no_grad():
            assert model(torch.rand(1, 3, *size, generator=generator)).shape == (1, 4, *size)
    assert model.min_size == 16
    with pytest.raises(ValueError, match="needs H and W >= 16 because it halves the resolution 4 times"):
        model(torch.rand(1, 3, 15, 40))


def test_skip_connections_can_be_removed() -> None:
    with_skips = UNet(1, 2, base_channels=4)
    without = UNet(1, 2, base_channels=4, skip_connections=False)
    for name in ("up1", "up2", "up3", "up4"):
        up = getattr(without, name)
        # Without "copy and crop" the DoubleConv sees only the upsampled path: C_out in, C_out out.
        first = up.convs.conv1.conv
        assert first.in_channels == first.out_channels == up.up.out_channels
        assert getattr(with_skips, name).convs.conv1.conv.in_channels == 2 * up.up.out_channels
    assert count(without) < count(with_skips)
    assert "skip_connection=False" in str(without)
    x = torch.rand(1, 1, 24, 24)
    assert without(x).shape == (1, 2, 24, 24)


def test_skips_are_the_only_short_path_from_inc_to_the_output(generator) -> None:
    # Gradients flow to inc only through down1 .. down4 when there are no skips; with skips,
    # inc's features also reach the output directly. Cut the down path and see what still reaches.
    x = torch.rand(1, 1, 32, 32, generator=generator)
    for skip_connections in (True, False):
        model = UNet(1, 2, base_channels=4, skip_connections=skip_connections).eval()
        captured = {}
        model.inc.register_forward_hook(lambda m, i, o: captured.update(inc=o))
        model.down1.pool.register_forward_hook(lambda m, i, o: o.detach())  # cut the down path
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
