"""The segmentation contract, checked for every registered model, and the registry itself.

Contract: float (B, C_in, H, W), C_in = 1 or 3, any H, W >= the model's minimum
-> logits (B, num_classes, H, W); clear ValueErrors otherwise.
"""

import pytest
import torch
import torch.nn.functional as F

from segedu.models import get_model, list_models

SEGMENTATION_MODELS = ["full_resolution", "fcn32s", "fcn16s", "fcn8s", "segnet", "unet", "deeplabv3",
                       "shortcut_net"]

# Small widths keep every forward pass to milliseconds on a CPU.
SMALL = {
    "full_resolution": dict(width=8, depth=3),
    "fcn32s": dict(base_channels=4, fc_channels=16),
    "fcn16s": dict(base_channels=4, fc_channels=16),
    "fcn8s": dict(base_channels=4, fc_channels=16),
    "segnet": dict(base_channels=4),
    "unet": dict(base_channels=4),
    "deeplabv3": dict(base_channels=4),
    "shortcut_net": dict(base_channels=4, shortcut="concat"),
}
# Smallest H = W each model accepts with its default depth: 2**(number of 2x2 poolings); DeepLabv3: its output stride.
MIN_SIZE = {"full_resolution": 1, "fcn32s": 32, "fcn16s": 32, "fcn8s": 32, "segnet": 16, "unet": 16, "deeplabv3": 8,
            "shortcut_net": 8}
# The names that print(model) must show: the boxes of each paper's figure.
BLOCK_NAMES = {
    "full_resolution": ["ConvBNReLU", "receptive_field=7x7"],
    "fcn32s": ["VGGStage", "FullyConnectedConv", "fc6", "fc7", "score_fr", "BilinearUpsample", "upscore32"],
    "fcn16s": ["score_pool4", "upscore2", "upscore16"],
    "fcn8s": ["score_pool4", "score_pool3", "upscore_pool4", "upscore8"],
    "segnet": ["EncoderStage", "DecoderStage", "MaxUnpool2d", "MaxPool2d"],
    "unet": ["DoubleConv", "Down", "Up", "OutConv", "skip_connection=True"],
    "deeplabv3": ["Stem", "block1", "block4", "ResidualUnit", "ASPP", "image_pooling", "atrous_rate=4", "classifier"],
    "shortcut_net": ["EncoderLevel", "bottleneck", "DecoderLevel", "shortcut='concat'", "classifier"],
}


def build(name: str, in_channels: int = 3, num_classes: int = 5) -> torch.nn.Module:
    return get_model(name, in_channels=in_channels, num_classes=num_classes, **SMALL[name])


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def test_list_models_names_every_model_once() -> None:
    assert list_models() == ["tiny_classifier", *SEGMENTATION_MODELS]
    assert list_models(segmentation_only=True) == SEGMENTATION_MODELS


@pytest.mark.parametrize("name", SEGMENTATION_MODELS)
@pytest.mark.parametrize("size", [(32, 32), (64, 64), (37, 53), (83, 84)])
@pytest.mark.parametrize("in_channels", [1, 3])
def test_output_is_logits_of_input_size(name, size, in_channels, generator) -> None:
    model = build(name, in_channels=in_channels, num_classes=5).eval()
    x = torch.rand(2, in_channels, *size, generator=generator)
    with torch.no_grad():
        logits = model(x)
    assert logits.shape == (2, 5, *size)
    assert logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", ["fcn8s", "segnet", "unet"])
def test_odd_sizes_are_reflect_padded_at_bottom_right_then_cropped(name, generator) -> None:
    model = build(name).eval()
    x = torch.rand(1, 3, 37, 53, generator=generator)
    multiple = 32 if name.startswith("fcn") else 16
    padded = F.pad(x, (0, -53 % multiple, 0, -37 % multiple), mode="reflect")
    with torch.no_grad():
        expected = model(padded)[..., :37, :53]
        torch.testing.assert_close(model(x), expected)


@pytest.mark.parametrize("name", SEGMENTATION_MODELS)
def test_wrong_channel_count_names_the_expected_shape(name) -> None:
    model = build(name, in_channels=3)
    message = r"expected input of shape \(B, 3, H, W\) — 3 channels because the model was built with in_channels=3"
    with pytest.raises(ValueError, match=message + r" — got \(2, 1, 64, 64\)"):
        model(torch.rand(2, 1, 64, 64))


@pytest.mark.parametrize("name", SEGMENTATION_MODELS)
def test_unbatched_and_integer_inputs_are_rejected_with_a_fix(name) -> None:
    model = build(name, in_channels=1)
    with pytest.raises(ValueError, match=r"unsqueeze\(0\)"):
        model(torch.rand(1, 64, 64))
    with pytest.raises(ValueError, match=r"x.float\(\) / 255"):
        model(torch.zeros(1, 1, 64, 64, dtype=torch.uint8))


@pytest.mark.parametrize("name", [name for name in SEGMENTATION_MODELS if MIN_SIZE[name] > 1])
def test_minimum_size_is_accepted_and_one_pixel_less_is_not(name) -> None:
    model = build(name).eval()
    smallest = MIN_SIZE[name]
    assert model.min_size == smallest
    with torch.no_grad():
        assert model(torch.rand(2, 3, smallest, smallest + 5)).shape == (2, 5, smallest, smallest + 5)
    with pytest.raises(ValueError, match=rf"H and W >= {smallest}\b.*got {smallest - 1}x{smallest + 5}"):
        model(torch.rand(2, 3, smallest - 1, smallest + 5))


@pytest.mark.parametrize("name", SEGMENTATION_MODELS)
def test_one_training_step_reaches_every_trainable_parameter(name, generator) -> None:
    model = build(name, in_channels=3, num_classes=4).train()
    x = torch.rand(2, 3, 40, 48, generator=generator)
    target = torch.randint(0, 4, (2, 40, 48), generator=generator)
    loss = F.cross_entropy(model(x), target)
    loss.backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None, f"{parameter_name} got no gradient"
        assert torch.isfinite(parameter.grad).all(), parameter_name
        assert parameter.grad.abs().sum() > 0, f"{parameter_name} has an all-zero gradient"


@pytest.mark.parametrize("name", SEGMENTATION_MODELS)
def test_print_shows_the_named_blocks(name) -> None:
    text = str(build(name))
    for block in BLOCK_NAMES[name]:
        assert block in text


def test_fcn_names_fix_the_variant() -> None:
    for variant in ("32s", "16s", "8s"):
        assert build(f"fcn{variant}").variant == variant
    with pytest.raises(ValueError, match=r"'fcn8s' fixes \{'variant': '8s'\}"):
        get_model("fcn8s", in_channels=3, num_classes=2, variant="16s")


def test_unknown_name_lists_the_valid_names() -> None:
    suggestion = r"unknown model 'unet3d' \(did you mean 'unet'\?\); "
    with pytest.raises(ValueError, match=suggestion + "valid names: tiny_classifier, .*, shortcut_net$"):
        get_model("unet3d")
    with pytest.raises(ValueError, match="unknown model 'transformer'; valid names: tiny_classifier, .*, shortcut_net$"):
        get_model("transformer")


def test_misspelled_argument_lists_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match=r"unexpected argument\(s\) \['base_channel'\].*'base_channels'"):
        get_model("unet", in_channels=3, num_classes=2, base_channel=8)


def test_registry_passes_arguments_through() -> None:
    model = get_model("unet", in_channels=1, num_classes=7, base_channels=4, padding="valid")
    assert model(torch.rand(1, 1, 188, 204)).shape == (1, 7, 4, 20)
    assert model.outc.in_channels == 4 and model.padding == "valid"
    classifier = get_model("tiny_classifier", num_classes=6, image_size=32)
    assert classifier(torch.rand(3, 3, 32, 32)).shape == (3, 6)
