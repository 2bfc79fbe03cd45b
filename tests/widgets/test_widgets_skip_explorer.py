"""The skip explorer zeroes the chosen skip, reports what changed and redraws in place."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from segedu.datasets import ShapesScenes
from segedu.models import UNet
from segedu.analysis.unet_anatomy import zero_skips
from segedu.widgets.skip_explorer import skip_explorer


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture
def model() -> UNet:
    torch.manual_seed(1)
    model = UNet(3, 4, base_channels=4).eval()
    with torch.no_grad():  # class k = feature channel k: an untrained net then predicts varied labels
        model.outc.weight.copy_(torch.eye(4)[:, :, None, None])
        model.outc.bias.zero_()
    return model


@pytest.fixture
def scenes() -> ShapesScenes:
    return ShapesScenes("val", length=3, size=32, seed=1)


def test_first_view_is_the_intact_network(model: UNet, scenes: ShapesScenes) -> None:
    panel = skip_explorer(model, scenes, size=64)
    assert panel.state["block"] == "up4" and panel.state["source"] == "inc"
    assert panel.state["skip_shape"] == (4, 32, 32)
    assert panel.state["skip_kept"] and panel.state["changed_fraction"] == 0.0
    assert panel.state["accuracy"] == panel.state["accuracy_intact"]
    changed = _decode(panel.images["changed"].value)
    assert changed.shape == (64, 64, 3) and (changed == 40).all()  # nothing red


def test_dropping_a_skip_matches_zero_skips(model: UNet, scenes: ShapesScenes) -> None:
    panel = skip_explorer(model, scenes, index=1, block="up4", size=32)
    before = {name: view.value for name, view in panel.images.items()}
    panel.controls["skip"].value = False
    image, mask = scenes[1]
    with torch.no_grad(), zero_skips(model, "up4"):
        expected = model(image[None]).argmax(dim=1)[0]
    intact = model(image[None]).argmax(dim=1)[0]
    assert panel.state["skip_shape"] == (4, 32, 32) and panel.state["source"] == "inc"
    assert panel.state["accuracy"] == pytest.approx(float((expected == mask).float().mean()))
    assert panel.state["changed_fraction"] == pytest.approx(float((expected != intact).float().mean()))
    assert panel.state["changed_fraction"] > 0.05
    panel.controls["block"].value = "up3"
    assert panel.state["skip_shape"] == (8, 16, 16) and panel.state["source"] == "down1"
    assert panel.images["prediction"].value != before["prediction"]
    assert panel.images["image"].value == before["image"]
    red = (_decode(panel.images["changed"].value) == [230, 40, 40]).all(axis=2)
    assert red.mean() == pytest.approx(panel.state["changed_fraction"])


def test_all_skips_and_scene_changes(model: UNet, scenes: ShapesScenes) -> None:
    panel = skip_explorer(model, scenes, size=32)
    panel.controls["skip"].value = False
    panel.controls["block"].value = "all"
    assert panel.state["source"] == "all" and panel.state["skip_shape"] is None
    image, mask = scenes[0]
    with torch.no_grad(), zero_skips(model, "all"):
        expected = model(image[None]).argmax(dim=1)[0]
    assert panel.state["accuracy"] == pytest.approx(float((expected == mask).float().mean()))
    first = panel.images["image"].value
    panel.controls["index"].value = 2
    assert panel.state["index"] == 2 and panel.images["image"].value != first
    panel.controls["skip"].value = True
    assert panel.state["changed_fraction"] == 0.0
    assert not any(module._forward_pre_hooks for module in model.modules())


def test_bad_arguments_are_refused(model: UNet, scenes: ShapesScenes) -> None:
    with pytest.raises(ValueError, match="skip_connections=True"):
        skip_explorer(UNet(3, 4, base_channels=4, skip_connections=False), scenes)
    with pytest.raises(ValueError, match=r"index must be in \[0, 3\)"):
        skip_explorer(model, scenes, index=3)
    with pytest.raises(ValueError, match="block must be one of"):
        skip_explorer(model, scenes, block="up5")
