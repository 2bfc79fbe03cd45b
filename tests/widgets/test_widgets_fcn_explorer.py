"""The FCN explorer: score maps of every decoder stage, and a panel that redraws them in place."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from segedu.analysis.fcn_stages import fcn_score_maps
from segedu.datasets import ShapesScenes
from segedu.models import FCN
from segedu.plots.masks import colorize
from segedu.training.metrics import boundary_band
from segedu.widgets.fcn_explorer import fcn_explorer


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_controls_change_state_and_images(small_fcn: Callable[..., FCN]) -> None:
    scenes = ShapesScenes("val", length=3, size=64, seed=2)
    models = {"32s": small_fcn("32s"), "8s": small_fcn("8s", seed=1)}
    panel = fcn_explorer(models, scenes, scale=1)
    assert panel.state["variant"] == "32s" and panel.state["stage"] == "final"
    assert panel.state["stages_available"] == ["conv7", "final"]

    panel.controls["variant"].value = "8s"
    assert panel.state["stages_available"] == ["conv7", "fused_pool4", "fused_pool3", "final"]
    assert panel.state["stage"] == "final"
    final_image = panel.images["stage"].value
    prediction = fcn_score_maps(models["8s"], scenes[0][0][None])["final"][0].argmax(0)
    assert np.array_equal(_decode(panel.images["prediction"].value), colorize(prediction))
    assert panel.state["pixel_accuracy"] == pytest.approx(float((prediction == scenes[0][1]).float().mean()))

    panel.controls["stage"].value = "fused_pool3"
    assert panel.state["stage_shape"] == (8, 8)
    coarse = fcn_score_maps(models["8s"], scenes[0][0][None])["fused_pool3"][0].argmax(0).numpy()
    assert np.array_equal(_decode(panel.images["stage"].value), colorize(coarse.repeat(8, 0).repeat(8, 1)))
    assert len(np.unique(coarse)) > 1  # the blocks show several classes ...
    assert bytes(panel.images["stage"].value) != bytes(final_image)  # ... and differ from the final map

    panel.controls["index"].value = 2
    assert panel.state["index"] == 2 and panel.state["stage"] == "fused_pool3"
    assert np.array_equal(_decode(panel.images["truth"].value), colorize(scenes[2][1]))

    panel.controls["variant"].value = "32s"  # 32s has no pool3 skip: fall back to the final scores
    assert panel.state["stage"] == "final" and panel.state["stage_shape"] == (64, 64)


def test_bad_arguments_are_refused(small_fcn: Callable[..., FCN]) -> None:
    scenes = ShapesScenes("val", length=2, size=32)
    with pytest.raises(ValueError, match="at least one FCN"):
        fcn_explorer({}, scenes)
    with pytest.raises(ValueError, match=r"index must be in \[0, 2\)"):
        fcn_explorer({"8s": small_fcn("8s")}, scenes, index=2)


def test_branch_switches_change_state_and_images(small_fcn: Callable[..., FCN]) -> None:
    scenes = ShapesScenes("val", length=3, size=64, seed=2)
    models = {"32s": small_fcn("32s"), "8s": small_fcn("8s", seed=1)}
    panel = fcn_explorer(models, scenes, scale=1)
    assert panel.controls["pool4"].disabled and panel.controls["pool3"].disabled  # FCN-32s has no skips
    panel.controls["pool3"].value = False
    assert panel.state["off"] == ()  # ignored where the branch does not exist

    panel.controls["pool3"].value = True
    panel.controls["variant"].value = "8s"
    assert not panel.controls["pool4"].disabled and not panel.controls["pool3"].disabled
    with_skips = bytes(panel.images["prediction"].value)
    panel.controls["pool3"].value = False
    assert panel.state["off"] == ("pool3",)
    prediction = fcn_score_maps(models["8s"], scenes[0][0][None], off=("pool3",))["final"][0].argmax(0)
    assert np.array_equal(_decode(panel.images["prediction"].value), colorize(prediction))
    assert bytes(panel.images["prediction"].value) != with_skips
    assert panel.state["pixel_accuracy"] == pytest.approx(float((prediction == scenes[0][1]).float().mean()))
    band = boundary_band(scenes[0][1][None], 2)[0]
    errors = band & (prediction != scenes[0][1])
    assert panel.state["band_accuracy"] == pytest.approx(1 - float(errors.sum()) / int(band.sum()))
    shown = _decode(panel.images["band_errors"].value)[..., 0]
    assert np.array_equal(shown == 255, errors.numpy())  # mistakes in the band are white

    panel.controls["pool4"].value = False
    assert panel.state["off"] == ("pool4", "pool3")
