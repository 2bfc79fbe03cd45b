"""Tests for segedu.models.blocks: shared blocks and the input-contract helpers."""

import pytest
import torch
import torch.nn.functional as F
import torchvision

from segedu.models.blocks import (
    VGG16_STAGES,
    ConvBNReLU,
    VGGStage,
    crop_to,
    pad_to_multiple,
    vgg16_stages,
)
from segedu.models.contract import check_input


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def count(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


@pytest.mark.parametrize("size", [(37, 53), (32, 32), (17, 20), (63, 65)])
@pytest.mark.parametrize("mode", ["reflect", "zeros"])
def test_pad_then_crop_gives_back_the_input(size, mode, generator) -> None:
    x = torch.rand(2, 3, *size, generator=generator)
    multiple = 16
    padded, original = pad_to_multiple(x, multiple, mode=mode)
    assert original == size
    assert padded.shape[-2] % multiple == 0 and padded.shape[-1] % multiple == 0
    assert padded.shape[-2] - size[0] < multiple and padded.shape[-1] - size[1] < multiple
    assert torch.equal(padded[..., : size[0], : size[1]], x)  # the image stays at the top left
    assert torch.equal(crop_to(padded, original), x)


def test_padding_matches_torch_reflect_and_zero_padding(generator) -> None:
    x = torch.rand(1, 2, 37, 53, generator=generator)
    reflect, _ = pad_to_multiple(x, 32, mode="reflect")
    zeros, _ = pad_to_multiple(x, 32, mode="zeros")
    assert torch.equal(reflect, F.pad(x, (0, 11, 0, 27), mode="reflect"))
    assert torch.equal(zeros, F.pad(x, (0, 11, 0, 27)))
    assert zeros[..., 37:, :].abs().sum() == 0


def test_padding_is_skipped_when_the_size_already_fits(generator) -> None:
    x = torch.rand(1, 1, 64, 32, generator=generator)
    padded, size = pad_to_multiple(x, 32)
    assert padded is x and size == (64, 32)


def test_reflect_padding_larger_than_the_image_is_refused() -> None:
    with pytest.raises(ValueError, match="mode='zeros' or a larger image"):
        pad_to_multiple(torch.rand(1, 1, 5, 40), 16)
    with pytest.raises(ValueError, match="mode must be 'reflect' or 'zeros'"):
        pad_to_multiple(torch.rand(1, 1, 5, 40), 16, mode="circular")


def test_check_input_messages() -> None:
    check_input(torch.rand(2, 1, 8, 8), in_channels=1, min_size=8, model_name="Net")  # fine: no error
    message = r"\(B, 1, H, W\) — 1 channel because .*in_channels=1 — got \(2, 3, 8, 8\)"
    with pytest.raises(ValueError, match=message):
        check_input(torch.rand(2, 3, 8, 8), in_channels=1, min_size=8, model_name="Net")
    with pytest.raises(ValueError, match=r"Net needs H and W >= 8 because it pools 3 times; got 8x7"):
        check_input(torch.rand(2, 1, 8, 7), in_channels=1, min_size=8, model_name="Net", size_rule="it pools 3 times")
    with pytest.raises(TypeError, match="Net expects a torch.Tensor; got ndarray"):
        check_input(torch.rand(2, 1, 8, 8).numpy(), in_channels=1, min_size=8, model_name="Net")


@pytest.mark.parametrize("batch_norm", [True, False])
def test_conv_bn_relu_keeps_a_bias_only_without_batch_norm(batch_norm, generator) -> None:
    block = ConvBNReLU(3, 8, batch_norm=batch_norm).eval()
    assert (block.conv.bias is None) == batch_norm
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in block.modules()) == batch_norm
    # 3*8*9 weights, then either 8 biases or BN's 8 scales + 8 shifts
    assert count(block) == 3 * 8 * 9 + (16 if batch_norm else 8)
    y = block(torch.randn(2, 3, 10, 12, generator=generator))
    assert y.shape == (2, 8, 10, 12) and y.min() >= 0
    assert "ConvBNReLU(3 -> 8, kernel_size=3, padding=1" in repr(block)


def test_vgg_stage_halves_the_resolution() -> None:
    stage = VGGStage(3, 8, 3)
    assert stage(torch.rand(1, 3, 20, 22)).shape == (1, 8, 10, 11)
    assert [name for name, _ in stage.named_children()] == ["conv1", "conv2", "conv3", "pool"]


def test_vgg16_table_builds_torchvisions_vgg16_features() -> None:
    assert vgg16_stages(64) == list(VGG16_STAGES)
    assert vgg16_stages(16, depth=3) == [(16, 2), (32, 2), (64, 3)]
    with torch.device("meta"):
        reference = torchvision.models.vgg16().features
        ours = torch.nn.Sequential()
        in_channels = 3
        for width, convs in vgg16_stages(64):
            ours.append(VGGStage(in_channels, width, convs, batch_norm=False))
            in_channels = width
    assert count(ours) == count(reference) == 14_714_688
    reference_convs = [m for m in reference.modules() if isinstance(m, torch.nn.Conv2d)]
    our_convs = [m for m in ours.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.weight.shape for m in our_convs] == [m.weight.shape for m in reference_convs]


@pytest.mark.parametrize("depth", [0, 6])
def test_vgg16_stages_rejects_depths_vgg_does_not_have(depth) -> None:
    with pytest.raises(ValueError, match=r"depth must be in \[1, 5\]"):
        vgg16_stages(16, depth)
