"""The model comparison shows each model's own prediction and scores it overall, in the band and inside."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image
from torch import Tensor, nn

from segedu.datasets import ShapesScenes
from segedu.training.metrics import boundary_band
from segedu.plots.masks import colorize
from segedu.widgets.model_comparison import error_picture, feature_maps_per_model, model_comparison


class Constant(nn.Module):
    """Predicts one class everywhere."""

    def __init__(self, label: int, num_classes: int = 4) -> None:
        super().__init__()
        self.label, self.num_classes = label, num_classes
        self.anchor = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        logits = torch.zeros(x.shape[0], self.num_classes, *x.shape[-2:])  # (B, K, H, W)
        logits[:, self.label] = 1.0
        return logits + 0 * self.anchor


class Oracle(nn.Module):
    """Predicts the true mask of the scene it is given (looked up by the image)."""

    def __init__(self, scenes: ShapesScenes, num_classes: int = 4) -> None:
        super().__init__()
        self.pairs = [scenes[index] for index in range(len(scenes))]
        self.num_classes = num_classes

    def forward(self, x: Tensor) -> Tensor:
        for image, mask in self.pairs:
            if torch.equal(image, x[0]):
                return nn.functional.one_hot(mask, self.num_classes).permute(2, 0, 1)[None].float()
        raise AssertionError("unknown image")


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture(scope="module")
def scenes() -> ShapesScenes:
    return ShapesScenes("val", length=3, size=32, seed=2)


def test_each_model_shows_its_own_prediction_and_accuracy(scenes: ShapesScenes) -> None:
    panel = model_comparison({"oracle": Oracle(scenes), "background": Constant(0)}, scenes, scale=1)
    image, mask = scenes[0]
    assert np.array_equal(_decode(panel.images["oracle"].value), colorize(mask))
    assert np.array_equal(_decode(panel.images["truth"].value), colorize(mask))
    assert np.array_equal(_decode(panel.images["background"].value), colorize(torch.zeros_like(mask)))
    band = boundary_band(mask, 2)
    background = mask == 0
    assert panel.state["accuracy"]["oracle"] == {"all": 1.0, "band": 1.0, "interior": 1.0}
    expected = panel.state["accuracy"]["background"]
    assert expected["all"] == pytest.approx(float(background.float().mean()))
    assert expected["band"] == pytest.approx(float(background[band].float().mean()))
    assert expected["interior"] == pytest.approx(float(background[~band].float().mean()))
    assert panel.state["wrong_pixels"] == {"oracle": 0, "background": int((~background).sum())}
    assert panel.state["band_pixels"] == int(band.sum())
    assert panel.state["best_in_band"] == "oracle"


def test_changing_the_scene_runs_each_model_once_and_updates_the_pictures(scenes: ShapesScenes) -> None:
    calls: list[int] = []
    oracle = Oracle(scenes)
    oracle.register_forward_hook(lambda *_: calls.append(1))
    panel = model_comparison({"oracle": oracle}, scenes, scale=1)
    before = panel.images["oracle"].value
    panel.controls["sample"].value = 2
    assert panel.state["sample"] == 2 and len(calls) == 2 and panel.state["forward_passes"] == 2
    assert np.array_equal(_decode(panel.images["oracle"].value), colorize(scenes[2][1]))
    assert panel.images["oracle"].value != before
    panel.controls["view"].value = "errors"
    panel.controls["band_width"].value = 4
    assert len(calls) == 2  # view and band changes reuse the predictions


def test_errors_view_paints_wrong_pixels_red_and_the_band_blue(scenes: ShapesScenes) -> None:
    panel = model_comparison({"background": Constant(0)}, scenes, view="errors", scale=1)
    image, mask = scenes[0]
    picture = _decode(panel.images["background"].value)
    wrong = (mask != 0).numpy()
    assert np.all(picture[wrong] == [220, 30, 30])
    assert not np.any(np.all(picture[~wrong] == [220, 30, 30], axis=1))
    band = boundary_band(mask, 2)
    expected = error_picture(image, torch.zeros_like(mask), mask, band)
    assert np.array_equal(picture, expected)
    narrow = panel.images["truth"].value
    panel.controls["band_width"].value = 5
    assert panel.images["truth"].value != narrow  # a wider band is drawn
    assert panel.state["band_pixels"] == int(boundary_band(mask, 5).sum()) > int(band.sum())


def test_ignored_pixels_are_never_wrong() -> None:
    image = torch.rand(3, 4, 4)
    mask = torch.full((4, 4), 255)
    band = torch.zeros(4, 4, dtype=torch.bool)
    picture = error_picture(image, torch.zeros(4, 4, dtype=torch.long), mask, band)
    assert not np.any(np.all(picture == [220, 30, 30], axis=2))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"models": {}}, "at least one model"),
        ({"sample": 3}, "sample must be in"),
        ({"view": "heatmap"}, "view must be one of"),
        ({"band_width": 0}, "band_width must be in"),
        ({"scale": 0}, "scale must be"),
    ],
)
def test_bad_arguments_are_refused(scenes: ShapesScenes, arguments: dict, message: str) -> None:
    options = {"models": {"background": Constant(0)}, **arguments}
    models = options.pop("models")
    with pytest.raises(ValueError, match=message):
        model_comparison(models, scenes, **options)


# --- feature maps per model -------------------------------------------------------------------


def _tiny(name: str) -> nn.Module:
    from segedu.models import get_model

    torch.manual_seed(0)
    sizes = {"fcn8s": {"base_channels": 4, "fc_channels": 8}, "unet": {"base_channels": 4}}
    return get_model(name, in_channels=3, num_classes=4, **sizes[name])


def test_feature_maps_per_model_builds_each_explorer_once_when_picked(scenes: ShapesScenes) -> None:
    from segedu.widgets.feature_maps import feature_map_explorer

    models = {"fcn8s": _tiny("fcn8s"), "unet": _tiny("unet")}
    panel = feature_maps_per_model(models, scenes, layers={"unet": "up2"}, scale=1)
    assert panel.state["model"] == "fcn8s" and panel.state["built"] == ["fcn8s"]
    first = panel.state["explorer"]
    assert panel.widget.children[1] is first.widget
    panel.controls["model"].value = "unet"
    explorer = panel.state["explorer"]
    assert explorer is not first and panel.widget.children[1] is explorer.widget
    assert explorer.state["layer"] == "up2" and panel.state["built"] == ["fcn8s", "unet"]
    reference = feature_map_explorer(models["unet"], scenes, layer="up2", scale=1)
    assert explorer.images["activation"].value == reference.images["activation"].value
    panel.controls["model"].value = "fcn8s"
    assert panel.state["explorer"] is first and panel.state["built"] == ["fcn8s", "unet"]  # reused, not rebuilt


def test_feature_maps_per_model_refuses_unknown_names(scenes: ShapesScenes) -> None:
    with pytest.raises(ValueError, match="unknown model name"):
        feature_maps_per_model({"unet": _tiny("unet")}, scenes, model="segnet")
    with pytest.raises(ValueError, match="unknown model name"):
        feature_maps_per_model({"unet": _tiny("unet")}, scenes, layers={"fcn8s": "upscore8"})
    with pytest.raises(ValueError, match="at least one model"):
        feature_maps_per_model({}, scenes)
