"""The unpooling explorer shows the chosen scene, stage and channel, and updates in place."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from segedu.datasets import ShapesScenes
from segedu.models import SegNet, UNet
from segedu.analysis.pooling_indices import trace_segnet, zero_fraction
from segedu.widgets.unpooling_explorer import CORNER_COLORS, unpooling_explorer


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture
def model() -> SegNet:
    torch.manual_seed(0)
    return SegNet(3, 4, base_channels=8, depth=3).eval()


@pytest.fixture
def scenes() -> ShapesScenes:
    return ShapesScenes("val", length=4, size=32, seed=1)


def test_first_view_shows_the_strongest_channel(model: SegNet, scenes: ShapesScenes) -> None:
    panel = unpooling_explorer(model, scenes, size=64)
    trace = trace_segnet(model, scenes[0][0])
    unpooled = trace.unpooled["stage1"][0]  # (8, 32, 32)
    assert panel.state["channel"] == int(unpooled.flatten(1).sum(dim=1).argmax())
    assert panel.state["unpooled_shape"] == (8, 32, 32)
    assert panel.state["unpooled_zero_fraction"] == zero_fraction(unpooled)
    assert panel.state["unpooled_zero_fraction"] >= 0.75
    assert sum(panel.state["corner_counts"]) == 16 * 16  # one switch per 2x2 window
    assert _decode(panel.images["unpooled"].value).shape == (64, 64, 3)  # 32 px x scale 2


def test_switch_picture_lights_one_pixel_per_window_in_its_corner_colour(model: SegNet, scenes: ShapesScenes) -> None:
    panel = unpooling_explorer(model, scenes, size=32)  # scale 1: one screen pixel per map pixel
    switches = _decode(panel.images["switches"].value)  # (32, 32, 3)
    lit = switches.reshape(16, 2, 16, 2, 3).transpose(0, 2, 1, 3, 4).reshape(16, 16, 4, 3).any(axis=3)
    assert (lit.sum(axis=2) == 1).all()
    counts = [int((lit.argmax(axis=2) == corner).sum()) for corner in range(4)]
    assert counts == panel.state["corner_counts"]
    colours = {tuple(pixel) for pixel in switches.reshape(-1, 3) if pixel.any()}
    assert colours <= {tuple(np.round(colour * 255).astype(int)) for colour in CORNER_COLORS}


def test_controls_update_state_and_images(model: SegNet, scenes: ShapesScenes) -> None:
    panel = unpooling_explorer(model, scenes, size=64, channel=0)
    before = {name: view.value for name, view in panel.images.items()}
    panel.controls["stage"].value = "stage3"
    assert panel.state["stage"] == "stage3"
    assert panel.state["unpooled_shape"] == (32, 8, 8)
    assert panel.state["decoded_shape"] == (16, 8, 8)
    assert panel.controls["channel"].max == 15
    assert panel.images["unpooled"].value != before["unpooled"]
    assert panel.images["image"].value == before["image"]  # same scene
    panel.controls["channel"].value = 7
    assert panel.state["channel"] == 7
    decoded = trace_segnet(model, scenes[0][0]).decoded["stage3"][0, 7].numpy()
    assert panel.state["decoded_zero_fraction"] == zero_fraction(trace_segnet(model, scenes[0][0]).decoded["stage3"])
    brightest = np.unravel_index(decoded.argmax(), decoded.shape)
    picture = _decode(panel.images["decoded"].value)  # 8 px x scale 8
    assert picture[brightest[0] * 8, brightest[1] * 8].sum() == picture.sum(axis=2).max()
    panel.controls["index"].value = 2
    assert panel.state["index"] == 2 and panel.state["channel"] == 7
    assert panel.images["image"].value != before["image"]
    panel.controls["stage"].value = "stage1"  # back to full resolution: channel range shrinks to 8
    assert panel.controls["channel"].max == 7 and panel.state["unpooled_shape"] == (8, 32, 32)


def test_bad_arguments_are_refused(model: SegNet, scenes: ShapesScenes) -> None:
    with pytest.raises(ValueError, match="must be a segedu.models.SegNet"):
        unpooling_explorer(UNet(3, 4, base_channels=4), scenes)
    with pytest.raises(ValueError, match=r"index must be in \[0, 4\)"):
        unpooling_explorer(model, scenes, index=4)
    with pytest.raises(ValueError, match="stage must be one of"):
        unpooling_explorer(model, scenes, stage="stage4")
    with pytest.raises(ValueError, match=r"channel must be in \[0, 8\) for stage1"):
        unpooling_explorer(model, scenes, channel=8)
