"""Tests for DeepLabv3: atrous blocks keep the output stride, the ASPP uses the rates it names."""

import pytest
import torch
import torch.nn.functional as F

from segedu.models import DeepLabV3, get_model
from segedu.models.deeplab import ASPP, DEFAULT_ATROUS_RATES, ImagePooling


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def aspp_input_size(model: DeepLabV3, height: int, width: int) -> tuple[int, int]:
    """The (h, w) of the map entering the ASPP, seen by a forward hook."""
    seen = {}
    handle = model.aspp.register_forward_hook(lambda _m, inputs, _o: seen.update(size=tuple(inputs[0].shape[-2:])))
    with torch.no_grad():
        model.eval()(torch.rand(1, model.in_channels, height, width))
    handle.remove()
    return seen["size"]


@pytest.mark.parametrize("output_stride", [8, 16, 32])
@pytest.mark.parametrize("size", [(64, 64), (37, 53), (96, 40)])
def test_aspp_sees_the_input_divided_by_the_output_stride(output_stride, size) -> None:
    model = DeepLabV3(3, 4, base_channels=4, output_stride=output_stride)
    expected = tuple(-(-side // output_stride) for side in size)  # ceil: stride-2 convs pad
    assert aspp_input_size(model, *size) == expected


@pytest.mark.parametrize("in_channels", [1, 3])
@pytest.mark.parametrize("size", [(64, 64), (37, 53), (8, 9), (83, 84)])
def test_logits_have_the_input_size(in_channels, size, generator) -> None:
    model = DeepLabV3(in_channels, 5, base_channels=4).eval()
    with torch.no_grad():
        logits = model(torch.rand(2, in_channels, *size, generator=generator))
    assert logits.shape == (2, 5, *size)
    assert torch.isfinite(logits).all()


def test_wrong_channels_and_too_small_inputs_are_refused() -> None:
    model = DeepLabV3(1, 3, base_channels=4, output_stride=16)
    with pytest.raises(ValueError, match=r"expected input of shape \(B, 1, H, W\).*got \(1, 3, 64, 64\)"):
        model(torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError, match=r"DeepLabV3 needs H and W >= 16 because its output stride is 16; got 15x40"):
        model(torch.rand(1, 1, 15, 40))


@pytest.mark.parametrize(
    "output_stride, block3, block4", [(8, (1, 2), (1, 4)), (16, (2, 1), (1, 2)), (32, (2, 1), (2, 1))]
)
def test_every_skipped_stride_doubles_the_atrous_rate(output_stride, block3, block4) -> None:
    model = DeepLabV3(3, 2, base_channels=4, output_stride=output_stride)
    for block, (stride, rate) in ((model.block3, block3), (model.block4, block4)):
        convs = [module for module in block.modules() if isinstance(module, torch.nn.Conv2d)]
        three_by_three = [conv for conv in convs if conv.kernel_size == (3, 3)]
        assert {conv.dilation for conv in three_by_three} == {(rate, rate)}
        assert {conv.padding for conv in three_by_three} == {(rate, rate)}  # "same" padding
        assert max(conv.stride[0] for conv in convs) == stride
    # stem (4) x block2 (2) x block3 x block4 strides = output stride; block4's rate makes up the rest of 32.
    assert 4 * 2 * model.block3.stride * model.block4.stride == output_stride
    assert model.block4.dilation == 32 // output_stride
    assert model.block3.dilation == max(1, 16 // output_stride)


def test_aspp_branches_use_exactly_the_given_rates() -> None:
    model = DeepLabV3(3, 2, base_channels=4, atrous_rates=(2, 5, 7))
    assert list(model.aspp.branches) == ["conv1x1", "atrous2", "atrous5", "atrous7", "image_pooling"]
    branches = model.aspp.branches
    assert branches["conv1x1"].conv.kernel_size == (1, 1)
    for rate in (2, 5, 7):
        conv = branches[f"atrous{rate}"].conv
        assert conv.kernel_size == (3, 3) and conv.dilation == (rate, rate) and conv.padding == (rate, rate)
    assert model.aspp.project.conv.in_channels == 5 * model.aspp.project.conv.out_channels
    assert DeepLabV3(3, 2).atrous_rates == DEFAULT_ATROUS_RATES[8] == (2, 3, 4)
    assert DeepLabV3(3, 2, output_stride=16).atrous_rates == DEFAULT_ATROUS_RATES[16]


def test_atrous_branch_equals_a_dilated_functional_conv(generator) -> None:
    aspp = ASPP(6, 4, (3,)).eval()
    x = torch.rand(2, 6, 9, 11, generator=generator)
    branch = aspp.branches["atrous3"]
    expected = F.relu(branch.bn(F.conv2d(x, branch.conv.weight, padding=3, dilation=3)))
    torch.testing.assert_close(branch(x), expected)


def test_image_pooling_is_constant_over_the_map_and_sees_the_whole_image(generator) -> None:
    pooling = ImagePooling(3, 5).eval()
    x = torch.rand(2, 3, 6, 7, generator=generator)
    out = pooling(x)
    assert out.shape == (2, 5, 6, 7)
    assert torch.allclose(out, out[..., :1, :1].expand_as(out))
    changed = x.clone()
    changed[..., 5, 6] += 10.0  # one far corner pixel moves every output position
    assert not torch.allclose(pooling(changed)[..., 0, 0], out[..., 0, 0])


def test_one_training_step_reaches_every_parameter(generator) -> None:
    model = DeepLabV3(3, 4, base_channels=4).train()
    x = torch.rand(2, 3, 33, 40, generator=generator)
    target = torch.randint(0, 4, (2, 33, 40), generator=generator)
    F.cross_entropy(model(x), target).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_size_is_comparable_to_the_shipped_models() -> None:
    from segedu.training.recipes import _MODEL_KWARGS

    def count(name: str) -> int:
        return sum(p.numel() for p in get_model(name, in_channels=3, num_classes=4, **_MODEL_KWARGS[name]).parameters())

    deeplab = count("deeplabv3")
    assert 0.5 * count("segnet") < deeplab < 1.5 * count("segnet")
    assert 2 * deeplab * 2 < 5 * 2**20  # float16 weights on disk: well under the 5 MB budget


def test_bad_arguments_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="output_stride must be 8, 16 or 32; got 4"):
        DeepLabV3(3, 2, output_stride=4)
    with pytest.raises(ValueError, match=r"atrous_rates\[1\] must be an int >= 1; got 0"):
        DeepLabV3(3, 2, atrous_rates=(2, 0, 4))
    with pytest.raises(ValueError, match="atrous_rates must be distinct rates"):
        DeepLabV3(3, 2, atrous_rates=())
    with pytest.raises(ValueError, match=r"atrous_rates must be distinct rates.*got \(2, 2, 4\)"):
        DeepLabV3(3, 2, atrous_rates=(2, 2, 4))  # two branches would share one name
    with pytest.raises(ValueError, match="in_channels must be 1 .* or 3"):
        DeepLabV3(2, 2)


def test_print_names_the_strides_and_rates() -> None:
    text = str(DeepLabV3(3, 2, base_channels=4))
    assert "output_stride=8, atrous_rates=(2, 3, 4)" in text
    assert "ConvBN(16 -> 32, kernel_size=3, stride=1, atrous_rate=4 -> ReLU)" in text
    assert "ConvBN(3 -> 4, kernel_size=7, stride=2, atrous_rate=1 -> ReLU)" in text
