"""The feature-map explorer shows what the model computed, reuses one forward pass per sample and is fast."""

from __future__ import annotations

import io
import statistics
import time

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from segedu.analysis.activations import LAYER_TYPES, explorable_layers, record_activations
from segedu.datasets import ShapesScenes
from segedu.models import FullResolutionNet, get_model, list_models
from segedu.plots.masks import colorize
from segedu.widgets.feature_map_pictures import (
    GRID_CHANNELS,
    grid_channels,
    render_channel_grid,
    render_class_scores,
    render_feature_map,
)
from segedu.widgets.feature_maps import feature_map_explorer

SMALL = {
    "full_resolution": {"width": 8, "depth": 3},
    "fcn32s": {"base_channels": 4, "fc_channels": 16},
    "fcn16s": {"base_channels": 4, "fc_channels": 16},
    "fcn8s": {"base_channels": 4, "fc_channels": 16},
    "segnet": {"base_channels": 4, "depth": 3},
    "unet": {"base_channels": 4},
    "deeplabv3": {"base_channels": 4},
    "shortcut_net": {"base_channels": 4, "shortcut": "add"},
}
FUSION = {
    "full_resolution": [],
    "fcn32s": [],
    "fcn16s": ["upscore2 + score_pool4"],
    "fcn8s": ["upscore2 + score_pool4", "upscore_pool4 + score_pool3"],
    "segnet": ["decoder.stage3", "decoder.stage2", "decoder.stage1"],
    "unet": ["up1", "up2", "up3", "up4"],
    "deeplabv3": [],
    "shortcut_net": [],
}


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _small_model(name: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return get_model(name, in_channels=3, num_classes=4, **SMALL[name])


@pytest.fixture(scope="module")
def scenes() -> ShapesScenes:
    return ShapesScenes("val", length=4, size=32, seed=1)


def _count_forwards(model: nn.Module) -> list[int]:
    calls: list[int] = []
    model.register_forward_hook(lambda *_: calls.append(1))
    return calls


def test_feature_map_picture_maps_the_range_to_viridis_and_adds_a_colour_bar() -> None:
    from matplotlib import colormaps

    values = torch.tensor([[0.0, 1.0], [2.0, 4.0]])
    picture = render_feature_map(values, height=8, width=6)
    assert picture.shape == (8, 6 + 64, 3) and picture.dtype == np.uint8
    viridis = (colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)
    assert np.array_equal(picture[0, 0], viridis[0])  # the minimum: darkest
    assert np.array_equal(picture[7, 5], viridis[255])  # the maximum: brightest
    assert np.array_equal(picture[0, 3], viridis[round(255 / 4)])  # 1 of [0, 4]
    assert np.array_equal(picture[4:, :3], np.broadcast_to(viridis[round(255 / 2)], (4, 3, 3)))  # nearest resize
    fixed = render_feature_map(values, height=8, width=6, value_range=(0.0, 8.0))
    assert np.array_equal(fixed[7, 5], viridis[round(255 / 2)])


def test_class_score_bars_are_as_long_as_the_probabilities() -> None:
    from segedu.plots.masks import PALETTE

    probabilities = [0.1, 0.6, 0.3]
    picture = render_class_scores(probabilities, ["a", "b", "c"])
    assert picture.shape == (18 * 3 + 8, 420, 3)  # wide enough for "0.600  predicted, true" in the 13 px font
    for index, probability in enumerate(probabilities):
        row = picture[4 + 18 * index + 9]  # the middle of the bar's row
        coloured = np.all(row == PALETTE[index], axis=1).sum()
        assert abs(coloured - (round(probability * 130) + 1)) <= 1


def test_receptive_field_tint_is_a_log_scale_of_the_gradient() -> None:
    from segedu.analysis.receptive_field import PixelReceptiveField
    from segedu.widgets.feature_map_pictures import TINT_DECADES, input_with_receptive_field

    gradient = torch.zeros(8, 8)
    gradient[5, 3:7] = torch.tensor([1.0, 0.1, 10 ** -TINT_DECADES, 1e-4])  # 0, 1, 2 and 4 decades below the top
    field = PixelReceptiveField(gradient=gradient, region=gradient > 0, box=None, class_index=0)
    grey = np.full((8, 8, 3), 100, dtype=np.uint8)
    picture = input_with_receptive_field(grey, field, 0, 0, scale=1).astype(int)  # (8, 8, 3); probe framed far away
    blue = picture[5, 3:7, 2]  # yellow (255, 225, 25) pulls the blue channel down
    assert blue[0] < blue[1] < blue[2] == 100 and picture[5, 4, 0] > 100  # one decade down: still clearly tinted
    assert np.array_equal(picture[5, 6], [100, 100, 100])  # beyond the tinted decades: the scene as it is
    assert np.all(picture[7, 7] == 35)  # outside the field: dimmed


def test_every_segmentation_model_is_covered() -> None:
    assert sorted(list_models(segmentation_only=True)) == sorted(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_layers_are_every_conv_pool_upsampling_and_fusion_point(name: str, scenes: ShapesScenes) -> None:
    model = _small_model(name)
    expected = {
        module_name for module_name, module in model.named_modules() if isinstance(module, LAYER_TYPES)
    } | set(FUSION[name])
    panel = feature_map_explorer(model, scenes, scale=1)
    assert set(panel.state["layers"]) == expected
    assert [value for _, value in panel.controls["layer"].options] == panel.state["layers"]
    assert {layer.name for layer in explorable_layers(model)} == expected
    # Layers appear in the order the forward pass runs them: a fusion point after everything feeding it.
    layers = panel.state["layers"]
    for fusion in FUSION[name]:
        inside = [layer for layer in layers if layer.startswith(fusion + ".")]  # a block's own layers
        feeding = fusion.split(" + ") if "+" in fusion else inside
        assert feeding and all(layers.index(layer) < layers.index(fusion) for layer in feeding)
    # Every view shows something and the prediction matches the model.
    assert all(view.value for view in panel.images.values())
    logits = model.eval()(scenes[0][0][None])
    picture = _decode(panel.images["prediction"].value)
    row, column = panel.state["row"], panel.state["column"]
    expected_colours = colorize(logits[0].argmax(dim=0))
    away = np.ones(expected_colours.shape[:2], dtype=bool)
    away[row - 3 : row + 4, column - 3 : column + 4] = False  # the probe's frame is drawn there
    assert np.array_equal(picture[away], expected_colours[away])


def test_activation_image_is_the_hooked_feature_map(scenes: ShapesScenes) -> None:
    model = _small_model("unet")
    panel = feature_map_explorer(model, scenes, layer="down2.convs.conv1.conv", channel=3, scale=2)
    seen: dict[str, torch.Tensor] = {}
    module = dict(model.named_modules())["down2.convs.conv1.conv"]
    handle = module.register_forward_hook(lambda _m, _i, output: seen.update(map=output[0].detach()))
    with torch.no_grad():
        model.eval()(scenes[0][0][None])
    handle.remove()
    expected = render_feature_map(seen["map"][3], height=64, width=64)
    assert np.array_equal(_decode(panel.images["activation"].value), expected)
    assert panel.state["activation_shape"] == tuple(seen["map"].shape)
    assert panel.state["value_range"] == pytest.approx((float(seen["map"][3].min()), float(seen["map"][3].max())))


def test_fcn_fusion_point_is_the_sum_in_the_forward_pass(scenes: ShapesScenes) -> None:
    model = _small_model("fcn8s")
    nn.init.normal_(model.score_pool4.weight)  # zero at initialisation, as in the paper: make the sum visible
    outputs: dict[str, torch.Tensor] = {}
    for name in ("upscore2", "score_pool4"):
        getattr(model, name).register_forward_hook(lambda _m, _i, output, name=name: outputs.update({name: output}))
    recording = record_activations(model, scenes[1][0])
    torch.testing.assert_close(
        recording.activations["upscore2 + score_pool4"], (outputs["upscore2"] + outputs["score_pool4"])[0]
    )
    panel = feature_map_explorer(model, scenes, layer="upscore2 + score_pool4", sample=1, channel=2, scale=1)
    assert panel.state["kind"] == "skip fusion"
    expected = render_feature_map(recording.activations["upscore2 + score_pool4"][2], height=32, width=32)
    assert np.array_equal(_decode(panel.images["activation"].value), expected)


def test_channel_layer_grid_and_probe_changes_never_rerun_the_model(scenes: ShapesScenes) -> None:
    model = _small_model("unet")
    calls = _count_forwards(model)
    panel = feature_map_explorer(model, scenes, scale=1)
    assert len(calls) == 1 and panel.state["forward_passes"] == 1
    before = panel.images["activation"].value
    panel.controls["channel"].value = 1
    assert panel.state["channel"] == 1 and panel.images["activation"].value != before
    panel.controls["layer"].value = "up2"
    assert panel.state["layer"] == "up2"
    panel.controls["grid"].value = True
    panel.controls["row"].value = 3
    panel.controls["column"].value = 30
    assert len(calls) == 1
    panel.controls["sample"].value = 2
    assert len(calls) == 2 and panel.state["forward_passes"] == 2
    panel.controls["sample"].value = 0  # cached
    assert len(calls) == 2 and panel.state["sample"] == 0
    assert all(parameter.grad is None for parameter in model.parameters())  # measuring fields trains nothing


def test_layer_change_clamps_the_channel_and_shows_the_new_layer(scenes: ShapesScenes) -> None:
    model = _small_model("unet")
    panel = feature_map_explorer(model, scenes, layer="up2", channel=15, scale=1)  # 16 channels
    assert panel.state["channel"] == 15
    panel.controls["layer"].value = "outc"  # 4 channels: the class scores
    assert panel.controls["channel"].max == 3
    assert panel.state["channel"] == 3 and panel.state["activation_shape"] == (4, 32, 32)
    logits = model.eval()(scenes[0][0][None]).detach()
    expected = render_feature_map(logits[0, 3], height=32, width=32)
    assert np.array_equal(_decode(panel.images["activation"].value), expected)


def test_grid_shows_the_page_holding_the_selected_channel(scenes: ShapesScenes) -> None:
    model = _small_model("unet")
    layer = "down3.convs.conv2.conv"  # 32 channels
    panel = feature_map_explorer(model, scenes, layer=layer, channel=20, scale=1)
    single = panel.images["activation"].value
    panel.controls["grid"].value = True
    assert panel.state["channels_shown"] == list(range(16, 32)) == grid_channels(32, 20)
    recording = record_activations(model, scenes[0][0])
    activation = recording.activations[layer]
    expected = render_channel_grid(activation, list(range(16, 32)), selected=20, height=32, width=32)
    assert np.array_equal(_decode(panel.images["activation"].value), expected)
    assert panel.images["activation"].value != single
    framed = panel.images["activation"].value
    panel.controls["channel"].value = 21  # same page, another frame
    assert panel.state["channels_shown"] == list(range(16, 32)) and panel.images["activation"].value != framed
    assert grid_channels(20, 19) == [16, 17, 18, 19] and len(grid_channels(64, 0)) == GRID_CHANNELS


def test_probe_scores_are_the_softmax_of_the_output(scenes: ShapesScenes) -> None:
    model = _small_model("fcn8s")
    panel = feature_map_explorer(model, scenes, sample=2, scale=1)
    image, mask = scenes[2]
    with torch.no_grad():
        probabilities = model.eval()(image[None]).softmax(dim=1)[0]  # (K, H, W)
    first_scores = panel.images["scores"].value
    for row, column in ((5, 9), (31, 0), (17, 22)):
        panel.controls["row"].value, panel.controls["column"].value = row, column
        expected = probabilities[:, row, column]
        torch.testing.assert_close(torch.tensor(panel.state["probabilities"]), expected)
        assert panel.state["predicted_class"] == int(expected.argmax())
        assert panel.state["true_class"] == int(mask[row, column])
        picture = render_class_scores(expected.tolist(), scenes.class_names, true_class=int(mask[row, column]))
        assert np.array_equal(_decode(panel.images["scores"].value), picture)
    assert panel.images["scores"].value != first_scores


@pytest.mark.parametrize("depth", [1, 3])
def test_full_resolution_net_has_a_2d_plus_1_receptive_field(depth: int, scenes: ShapesScenes) -> None:
    model = FullResolutionNet(3, 4, width=8, depth=depth)
    panel = feature_map_explorer(model, scenes, row=16, column=10, scale=1)
    assert panel.state["receptive_field_box"] == (16 - depth, 10 - depth, 17 + depth, 11 + depth)
    field = panel.state["receptive_field"]
    assert (field.height, field.width) == (2 * depth + 1, 2 * depth + 1) == (model.receptive_field,) * 2
    assert int(field.region.sum()) == (2 * depth + 1) ** 2
    before = panel.images["input"].value
    panel.controls["row"].value = 0  # at the border the field is cut off by the zero padding
    assert panel.state["receptive_field_box"] == (0, 10 - depth, depth + 1, 11 + depth)
    assert panel.images["input"].value != before
    # Outside the field the input is dimmed, inside it is not darker than the scene.
    picture = _decode(panel.images["input"].value).astype(int)
    scene = (scenes[0][0].permute(1, 2, 0).numpy() * 255).round().astype(int)
    assert np.all(picture[20:, 20:] <= scene[20:, 20:] * 0.35 + 1)


def test_model_mode_and_thread_count_are_restored(scenes: ShapesScenes) -> None:
    model = _small_model("segnet").train()
    torch.set_num_threads(2)  # the autouse fixture restores the count after the test
    panel = feature_map_explorer(model, scenes, scale=1)
    panel.controls["row"].value = 3
    assert model.training
    assert torch.get_num_threads() == 2


def test_unknown_layer_lists_the_valid_ones(scenes: ShapesScenes) -> None:
    with pytest.raises(ValueError, match=r"unknown layer 'up9'.*valid layers.*inc\.conv1\.conv.*up1"):
        feature_map_explorer(_small_model("unet"), scenes, layer="up9")


def test_model_without_convolutions_is_refused(scenes: ShapesScenes) -> None:
    with pytest.raises(ValueError, match="no Conv2d or ConvTranspose2d"):
        feature_map_explorer(nn.Sequential(nn.Identity()), scenes)


def test_samples_with_the_wrong_channel_count_are_refused() -> None:
    grey = ShapesScenes("val", length=2, size=32, channels=1, seed=1)
    with pytest.raises(ValueError, match=r"sample 0 has 1 channel\(s\).*model takes 3"):
        feature_map_explorer(_small_model("unet"), grey)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"sample": 4}, r"sample must be in \[0, 4\)"),
        ({"channel": 99}, r"channel must be in \[0, 4\) for layer 'inc\.conv1\.conv'"),
        ({"row": 32}, r"must lie in the 32x32 output"),
        ({"class_names": ["a", "b"]}, "has 2 names but the model predicts 4 classes"),
    ],
)
def test_out_of_range_arguments_are_refused(arguments: dict, message: str, scenes: ShapesScenes) -> None:
    with pytest.raises(ValueError, match=message):
        feature_map_explorer(_small_model("unet"), scenes, **arguments)


def test_empty_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        feature_map_explorer(_small_model("unet"), [])


def test_bare_images_without_masks_are_accepted() -> None:
    images = [torch.rand(3, 32, 32) for _ in range(2)]
    panel = feature_map_explorer(_small_model("unet"), images, scale=1)
    assert panel.state["true_class"] is None
    assert np.all(_decode(panel.images["truth"].value)[0, 0] == 128)  # a grey "no mask" picture


def test_channel_changes_are_fast() -> None:
    # A default-size U-Net on a 64x64 scene; the goal in a notebook is a median under 150 ms.
    scenes = ShapesScenes("val", length=2, size=64, seed=0)
    torch.manual_seed(0)
    panel = feature_map_explorer(get_model("unet", in_channels=3, num_classes=4), scenes, layer="up3")
    slider = panel.controls["channel"]
    times = []
    for step in range(15):
        start = time.perf_counter()
        slider.value = (step + 1) % (slider.max + 1)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.150, f"median channel change took {statistics.median(times) * 1000:.0f} ms"
