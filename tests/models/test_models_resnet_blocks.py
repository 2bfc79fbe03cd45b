"""ResNet's pieces: strides shrink like ceil(H / s), atrous rates keep the size, shortcuts add the input."""

import pytest
import torch

from segedu.models.resnet_blocks import ConvBN, ResidualBlock, ResidualUnit, Stem


@pytest.mark.parametrize("size", [(64, 64), (37, 53), (5, 6)])
def test_stem_quarters_the_size_rounding_up(size) -> None:
    out = Stem(3, 8).eval()(torch.rand(2, 3, *size))
    assert out.shape == (2, 8, -(-size[0] // 4), -(-size[1] // 4))


@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2), (1, 4)])
def test_residual_unit_shapes(stride, dilation) -> None:
    unit = ResidualUnit(4, 6, stride=stride, dilation=dilation).eval()
    out = unit(torch.rand(1, 4, 9, 12))
    assert out.shape == (1, 6, -(-9 // stride), -(-12 // stride))
    assert (out >= 0).all()  # ReLU after the sum
    assert {unit.conv1.conv.dilation, unit.conv2.conv.dilation} == {(dilation, dilation)}


def test_identity_shortcut_adds_the_input_unchanged() -> None:
    unit = ResidualUnit(5, 5).eval()
    assert isinstance(unit.shortcut, torch.nn.Identity)
    with torch.no_grad():
        for conv_bn in (unit.conv1, unit.conv2):
            conv_bn.conv.weight.zero_()  # the residual branch outputs BN's shift only
        unit.conv2.bn.bias.zero_()
    x = torch.rand(2, 5, 7, 7)
    torch.testing.assert_close(unit(x), torch.relu(x))
    assert isinstance(ResidualUnit(5, 6).shortcut, ConvBN)  # a 1x1 projection where the shape changes


def test_block_strides_only_in_its_first_unit() -> None:
    block = ResidualBlock(4, 8, num_units=3, stride=2, dilation=1)
    assert [unit.conv1.conv.stride for unit in block] == [(2, 2), (1, 1), (1, 1)]
    assert "stride=2, atrous_rate=1" in repr(block)


def test_conv_bn_repr_names_stride_and_rate() -> None:
    assert repr(ConvBN(3, 4, stride=2, dilation=3)) == "ConvBN(3 -> 4, kernel_size=3, stride=2, atrous_rate=3 -> ReLU)"
    assert repr(ConvBN(3, 4, kernel_size=1, relu=False)).endswith("atrous_rate=1)")
    assert ConvBN(3, 4, dilation=3).conv.padding == (3, 3)
