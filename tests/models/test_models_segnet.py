"""Tests for SegNet: the decoder puts values back exactly where the encoder's max-pool found them."""

import pytest
import torch
import torchvision

from segedu.models import SegNet


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def count(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def brute_force_argmax(x: torch.Tensor) -> torch.Tensor:
    """For every 2x2 window, the flat index (row * W + column) of its maximum, by looping."""
    batch, channels, height, width = x.shape
    indices = torch.zeros(batch, channels, height // 2, width // 2, dtype=torch.int64)
    for row in range(height // 2):
        for column in range(width // 2):
            window = x[:, :, 2 * row : 2 * row + 2, 2 * column : 2 * column + 2].reshape(batch, channels, 4)
            best = window.argmax(dim=-1)  # (B, C) in 0..3: row-major inside the window
            indices[:, :, row, column] = (2 * row + best // 2) * width + 2 * column + best % 2
    return indices


@pytest.mark.parametrize("stage", ["stage1", "stage2", "stage3"])
def test_unpooling_puts_values_back_at_the_pooling_argmax(stage, generator) -> None:
    model = SegNet(3, 4, base_channels=4, depth=3).eval()
    captured = {}
    model.encoder[stage].convs.register_forward_hook(lambda m, i, o: captured.update(before_pool=o.clone()))
    model.decoder[stage].unpool.register_forward_hook(lambda m, i, o: captured.update(unpool_input=i[0], unpooled=o))
    with torch.no_grad():
        model(torch.rand(2, 3, 32, 48, generator=generator))
    before_pool, unpooled = captured["before_pool"], captured["unpooled"]
    indices = brute_force_argmax(before_pool)
    expected = torch.zeros_like(before_pool).flatten(2)  # (B, C, H*W)
    expected.scatter_(2, indices.flatten(2), captured["unpool_input"].flatten(2))
    assert unpooled.shape == before_pool.shape
    assert torch.equal(unpooled, expected.view_as(before_pool))
    # At most one nonzero per 2x2 window, and only at the argmax.
    nonzero = unpooled != 0
    at_argmax = torch.zeros_like(nonzero).flatten(2).scatter_(2, indices.flatten(2), True).view_as(nonzero)
    assert not (nonzero & ~at_argmax).any()
    assert nonzero.sum() > 0


def test_decoder_mirrors_the_encoder() -> None:
    model = SegNet(1, 3, base_channels=8, depth=4)
    assert list(model.encoder) == ["stage1", "stage2", "stage3", "stage4"]
    assert list(model.decoder) == ["stage4", "stage3", "stage2", "stage1"]
    for name, encoder_stage in model.encoder.items():
        encoder_convs = list(encoder_stage.convs)
        decoder_convs = list(model.decoder[name].convs)
        # The encoder's first conv changes the width; the decoder's last conv changes it back.
        assert decoder_convs[-1].conv.out_channels == (encoder_convs[0].conv.in_channels if name != "stage1" else 8)
        assert decoder_convs[0].conv.in_channels == encoder_convs[-1].conv.out_channels
        assert len(decoder_convs) == (len(encoder_convs) if name != "stage1" else 1)


def test_paper_parameter_count() -> None:
    # VGG16 encoder with BN; convs followed by BN carry no bias (BN's shift does that job).
    # conv: 9 * C_in * C_out ; BN: 2 * C_out (scale and shift).
    encoder_convs = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
                     (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
    # Mirrored decoder: stage5 512->512 x3 | stage4 512,512,512->256 | stage3 256,256,256->128 |
    # stage2 128, 128->64 | stage1 64->64 ; then the 3x3 classifier 64 -> 11 with a bias.
    decoder_convs = [(512, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 256),
                     (256, 256), (256, 256), (256, 128), (128, 128), (128, 64), (64, 64)]
    conv_bn = sum(9 * c_in * c_out + 2 * c_out for c_in, c_out in encoder_convs + decoder_convs)
    classifier = 9 * 64 * 11 + 11
    expected = conv_bn + classifier
    # Written out: encoder 14,714,688 (VGG16 convs with biases) - 4,224 biases + 8,448 BN = 14,718,912;
    # decoder 14,712,448 (with biases) - 3,712 biases + 7,424 BN = 14,716,160; classifier 6,347.
    assert expected == 14_718_912 + 14_716_160 + 6_347 == 29_441_419
    # The original Caffe model also keeps the (redundant) conv biases: +4,224 +3,712 = 29,449,355.
    # Both are within 0.2% of the paper's "29.5M" (29.4M to one decimal).
    with torch.device("meta"):
        model = SegNet.paper()
        vgg16_bn = torchvision.models.vgg16_bn()
    assert count(model) == expected
    conv_biases = sum(c_out for _, c_out in encoder_convs)
    assert count(model.encoder) == count(vgg16_bn.features) - conv_biases
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 26  # 13 down, 12 up + classifier


def test_depth_and_padding(generator) -> None:
    model = SegNet(3, 2, base_channels=4, depth=2).eval()
    assert model.min_size == 4
    with torch.no_grad():
        assert model(torch.rand(1, 3, 5, 7, generator=generator)).shape == (1, 2, 5, 7)
    with pytest.raises(ValueError, match=r"SegNet needs H and W >= 4 because it halves the resolution 2 times"):
        model(torch.rand(1, 3, 3, 7))
    with pytest.raises(ValueError, match=r"depth must be in \[1, 5\]"):
        SegNet(3, 2, depth=6)
