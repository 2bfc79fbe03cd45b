"""Tests for FCN: bilinear-initialised upsampling, skip fusion and the paper's VGG16 configuration."""

import pytest
import torch
import torch.nn.functional as F
import torchvision

from segedu.models import FCN, BilinearUpsample
from segedu.models.bilinear import bilinear_upsample_weight


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def count(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def small_fcn(variant: str, **options) -> FCN:
    return FCN(3, 4, variant=variant, base_channels=4, fc_channels=16, **options)


@pytest.mark.parametrize("scale", [2, 3, 8, 32])
def test_bilinear_upsample_equals_interpolation_away_from_the_border(scale, generator) -> None:
    upsample = BilinearUpsample(3, scale)
    assert torch.equal(upsample.weight, bilinear_upsample_weight(3, scale))
    x = torch.rand(2, 3, 6, 7, generator=generator)
    with torch.no_grad():
        y = upsample(x)
    reference = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    assert y.shape == reference.shape == (2, 3, 6 * scale, 7 * scale)
    interior = (..., slice(scale, -scale), slice(scale, -scale))
    torch.testing.assert_close(y[interior], reference[interior], atol=1e-5, rtol=1e-5)
    # At the border the transposed conv sees zeros outside the image, interpolation does not.
    assert (y - reference).abs().max() > 1e-3


def test_bilinear_upsample_does_not_mix_channels(generator) -> None:
    x = torch.zeros(1, 3, 5, 5)
    x[:, 1] = torch.rand(5, 5, generator=generator)
    y = BilinearUpsample(3, 4)(x)
    assert y[:, [0, 2]].abs().sum() == 0 and y[:, 1].abs().sum() > 0


@pytest.mark.parametrize("learnable", [True, False])
def test_fixed_or_learnable_upsampling(learnable, generator) -> None:
    model = small_fcn("8s", learnable_upsampling=learnable)
    upsamplers = [m for m in model.modules() if isinstance(m, BilinearUpsample)]
    assert [u.scale for u in upsamplers] == [2, 2, 8]
    assert all(u.weight.requires_grad == learnable for u in upsamplers)
    assert all(f"learnable={learnable}" in repr(u) for u in upsamplers)
    target = torch.randint(0, 4, (2, 32, 32), generator=generator)
    F.cross_entropy(model(torch.rand(2, 3, 32, 32, generator=generator)), target).backward()
    assert all((u.weight.grad is not None) == learnable for u in upsamplers)
    assert model.score_fr.weight.grad is not None


def test_skip_score_layers_start_at_zero_and_fuse_at_their_stride(generator) -> None:
    model = small_fcn("8s").eval()
    for layer in (model.score_pool4, model.score_pool3):
        assert layer.weight.abs().sum() == 0 and layer.bias.abs().sum() == 0
    shapes = {}

    def record(name: str):
        def hook(module, inputs, output) -> None:
            shapes[name] = output.shape[-2:]

        return hook

    for name in ("stage3", "stage4", "stage5", "score_fr", "upscore2", "upscore_pool4", "upscore8"):
        getattr(model, name).register_forward_hook(record(name))
    with torch.no_grad():
        model(torch.rand(1, 3, 64, 96, generator=generator))
    assert shapes["stage3"] == (8, 12)  # pool3: 1/8
    assert shapes["stage4"] == shapes["upscore2"] == (4, 6)  # pool4 and 2x(score): 1/16
    assert shapes["stage5"] == shapes["score_fr"] == (2, 3)  # pool5: 1/32
    assert shapes["upscore_pool4"] == (8, 12)
    assert shapes["upscore8"] == (64, 96)


def test_skips_change_the_prediction_once_trained(generator) -> None:
    model = small_fcn("8s").eval()
    x = torch.rand(1, 3, 64, 64, generator=generator)
    with torch.no_grad():
        before = model(x)
        model.score_pool3.weight.normal_(generator=generator)
        after = model(x)
    assert not torch.allclose(before, after)


def test_variants_have_only_their_own_layers() -> None:
    assert not hasattr(small_fcn("32s"), "score_pool4")
    assert hasattr(small_fcn("16s"), "score_pool4") and not hasattr(small_fcn("16s"), "score_pool3")
    with pytest.raises(ValueError, match="variant must be '32s', '16s' or '8s'; got '4s'"):
        small_fcn("4s")


def test_paper_fcn8s_parameter_count() -> None:
    # VGG16 without BN, every conv with a bias, 3x3 kernels: params = 9 * C_in * C_out + C_out.
    #   stage1: 9*3*64+64 + 9*64*64+64                            =     38,720
    #   stage2: 9*64*128+128 + 9*128*128+128                      =    221,440
    #   stage3: 9*128*256+256 + 2 * (9*256*256+256)               =  1,475,328
    #   stage4: 9*256*512+512 + 2 * (9*512*512+512)               =  5,899,776
    #   stage5: 3 * (9*512*512+512)                               =  7,079,424
    #   encoder total (= torchvision's vgg16().features)          = 14,714,688
    #   fc6: 7x7 conv 512 -> 4096: 49*512*4096 + 4096             = 102,764,544
    #   fc7: 1x1 conv 4096 -> 4096: 4096*4096 + 4096              =  16,781,312
    #   score_fr: 4096*21 + 21                                    =      86,037
    #   score_pool4: 512*21 + 21 ; score_pool3: 256*21 + 21       = 10,773 + 5,397
    #   upscore2, upscore_pool4: 21*21*4*4 each (no bias)         = 2 * 7,056
    #   upscore8: 21*21*16*16 (no bias)                           =     112,896
    encoder = 38_720 + 221_440 + 1_475_328 + 5_899_776 + 7_079_424
    expected = encoder + 102_764_544 + 16_781_312 + 86_037 + 10_773 + 5_397 + 2 * 7_056 + 112_896
    assert expected == 134_489_759
    with torch.device("meta"):
        model = FCN.paper("8s")
        vgg16 = torchvision.models.vgg16()
    assert count(model) == expected
    encoder_modules = [model.stage1, model.stage2, model.stage3, model.stage4, model.stage5]
    assert sum(count(stage) for stage in encoder_modules) == encoder == count(vgg16.features)
    # fc6 / fc7 hold exactly as many numbers as VGG16's first two fully connected layers.
    assert count(model.fc6) == count(vgg16.classifier[0]) and count(model.fc7) == count(vgg16.classifier[3])
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert model.fc6.conv.conv.kernel_size == (7, 7) and model.num_classes == 21 and model.in_channels == 3


def test_paper_variants_differ_by_their_skip_and_upsampling_layers() -> None:
    with torch.device("meta"):
        counts = {variant: count(FCN.paper(variant)) for variant in ("32s", "16s", "8s")}
    shared = 14_714_688 + 102_764_544 + 16_781_312 + 86_037  # encoder + fc6 + fc7 + score_fr
    assert counts["32s"] == shared + 21 * 21 * 64 * 64  # upscore32: kernel 64
    assert counts["16s"] == shared + (512 * 21 + 21) + 21 * 21 * 4 * 4 + 21 * 21 * 32 * 32
