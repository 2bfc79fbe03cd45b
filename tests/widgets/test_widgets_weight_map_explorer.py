"""The weight-map explorer: the map follows w0, sigma and the choice of pixels."""

from __future__ import annotations

import pytest
import torch

from segedu.analysis.weight_map import unet_weight_map
from segedu.datasets import ShapesScenes
from segedu.widgets.weight_map_explorer import weight_map_explorer


@pytest.fixture(scope="module")
def scenes() -> ShapesScenes:
    return ShapesScenes("val", length=6)


def test_state_matches_the_package_map(scenes: ShapesScenes) -> None:
    panel = weight_map_explorer(scenes, index=1, w0=10.0, sigma=5.0, scale=1)
    expected = unet_weight_map(scenes.sample(1)["instances"], w0=10.0, sigma=5.0)
    assert panel.state["largest_weight"] == pytest.approx(float(expected.max()))
    assert panel.state["heavy_pixels"] == int((expected > 2).sum())


def test_w0_zero_removes_the_border_term_and_sigma_spreads_it(scenes: ShapesScenes) -> None:
    panel = weight_map_explorer(scenes, index=0, scale=1)
    picture = panel.images["weights"].value
    panel.controls["w0"].value = 0.0
    assert panel.state["largest_weight"] == 1.0 and panel.state["border_share"] == 0.0
    assert panel.images["weights"].value != picture
    panel.controls["w0"].value = 10.0
    narrow = panel.state["heavy_pixels"]
    panel.controls["sigma"].value = 10.0
    assert panel.state["heavy_pixels"] >= narrow


def test_all_pixels_weigh_at_least_as_much_as_background_only(scenes: ShapesScenes) -> None:
    panel = weight_map_explorer(scenes, index=2, scale=1)
    background_only = panel.state["border_share"]
    panel.controls["where"].value = "all"
    assert panel.state["border_share"] >= background_only
    panel.controls["index"].value = 3
    assert panel.state["index"] == 3


def test_bad_arguments_are_refused(scenes: ShapesScenes) -> None:
    with pytest.raises(ValueError, match="index"):
        weight_map_explorer(scenes, index=99)
    with pytest.raises(TypeError, match="instances"):
        weight_map_explorer([(torch.zeros(1, 4, 4), torch.zeros(4, 4, dtype=torch.int64))])
    assert torch.is_tensor(scenes.sample(0)["instances"])
