"""The shift explorer redraws its maps in place and reports the classifier's probabilities."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from segedu.models import TinyClassifier
from segedu.analysis.probes import place_shape
from segedu.analysis.receptive_field import receptive_field_table
from segedu.widgets.shift_explorer import VIEWS, shift_explorer

NAMES = ("circle", "square", "triangle")


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture()
def model() -> TinyClassifier:
    torch.manual_seed(0)
    return TinyClassifier(3, 3, base_channels=4, image_size=32, hidden_features=16)


def test_moving_the_shape_moves_image_maps_and_peaks(model: TinyClassifier) -> None:
    panel = shift_explorer(model, NAMES, center=(16, 6), seed=3, scale=1)
    left = panel.state["change_centres"]
    assert not model.training
    before = {name: view.value for name, view in panel.images.items()}
    assert _decode(before["image"]).shape == (32, 32, 3)
    assert _decode(before["stage3"]).shape == (32, 32, 3)  # 4x4 map shown at the input's size
    panel.controls["column"].value = 25
    assert panel.state["center"] == (16, 25)
    for name, view in panel.images.items():
        assert view.value != before[name], name
    # The change caused by the shape is zero outside its receptive field, so its centre of mass
    # lies within (radius + receptive field) of the shape's centre.
    radius = 0.13 * 32
    sizes = {row.name.split(".")[0]: row.size for row in receptive_field_table(model) if row.kind == "MaxPool2d"}
    for stage, (row, column) in panel.state["change_centres"].items():
        assert abs(column - 25.5) <= radius + sizes[stage] / 2, stage
        assert abs(row - 16.5) <= radius + sizes[stage] / 2, stage
        assert column > left[stage][1] + 10, stage  # moved right with the shape


def test_probabilities_are_the_models_and_the_view_changes_only_the_maps(model: TinyClassifier) -> None:
    panel = shift_explorer(model, NAMES, class_index=2, center=(10, 20), seed=1, scale=1)
    image, _ = place_shape(2, (10.5, 20.5), size=32, seed=1)
    with torch.no_grad():
        expected = torch.sigmoid(model(image[None]))[0].tolist()
    assert panel.state["shape"] == "square"
    assert list(panel.state["probabilities"]) == list(NAMES)
    assert np.allclose(list(panel.state["probabilities"].values()), expected, atol=1e-4)
    maps = panel.images["stage1"].value
    probabilities = dict(panel.state["probabilities"])
    panel.controls["view"].value = VIEWS[1]
    assert panel.images["stage1"].value != maps
    assert panel.state["probabilities"] == probabilities
    panel.controls["shape"].value = 1
    assert panel.state["shape"] == "circle"


def test_radius_and_background_are_drawn_as_asked(model: TinyClassifier) -> None:
    panel = shift_explorer(model, NAMES, class_index=1, center=(15, 15), seed=2, scale=1, radius=7.5, clutter=False)
    image, mask = place_shape(1, (15.5, 15.5), size=32, seed=2, radius=7.5, clutter=False)
    assert np.array_equal(_decode(panel.images["image"].value), (image.permute(1, 2, 0).numpy() * 255).round())
    with torch.no_grad():
        expected = torch.sigmoid(model(image[None]))[0].tolist()
    assert np.allclose(list(panel.state["probabilities"].values()), expected, atol=1e-4)
    assert abs(int((mask > 0).sum()) - np.pi * 7.5**2) < 0.1 * np.pi * 7.5**2  # about the circle's area
    default, default_mask = place_shape(1, (15.5, 15.5), size=32, seed=2)
    assert int((default_mask > 0).sum()) < int((mask > 0).sum()) / 2  # the default radius is 0.13 * 32 px
    assert not torch.equal(default, image)  # the lines of ShapesScenes' background are gone


def test_bad_arguments_are_refused(model: TinyClassifier) -> None:
    with pytest.raises(ValueError, match="name the model's 3 outputs"):
        shift_explorer(model, ("circle", "square"))
    with pytest.raises(ValueError, match="center must lie inside"):
        shift_explorer(model, NAMES, center=(40, 3))
    with pytest.raises(ValueError, match="radius must be in"):
        shift_explorer(model, NAMES, center=(16, 16), radius=0.0)
