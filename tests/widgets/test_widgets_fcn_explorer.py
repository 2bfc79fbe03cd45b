"""The FCN explorer: score maps of every decoder stage, and a panel that redraws them in place."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from segedu.datasets import ShapesScenes
from segedu.models import FCN
from segedu.plots.masks import colorize
from segedu.training.metrics import boundary_band
from segedu.widgets.fcn_explorer import fcn_explorer, fcn_score_maps, skip_branches_off


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _small_fcn(variant: str, seed: int = 0) -> FCN:
    torch.manual_seed(seed)
    model = FCN(3, 4, variant=variant, base_channels=4, fc_channels=8)
    with torch.no_grad():  # the skip scores start at zero; give them weights so every stage matters
        for name in ("score_fr", "score_pool4", "score_pool3"):
            if hasattr(model, name):
                getattr(model, name).weight.normal_(std=3.0)
        for module in model.modules():  # BatchNorm statistics of a few scenes, so features vary in space
            if isinstance(module, torch.nn.BatchNorm2d):
                module.momentum = None  # a plain average over the batches seen
        model.train()(torch.stack([image for image, _ in ShapesScenes("train", length=8, size=64)]))
    return model.eval()


@pytest.mark.parametrize("variant", ["32s", "16s", "8s"])
def test_score_maps_end_in_the_models_output(variant: str) -> None:
    model = _small_fcn(variant)
    images = torch.rand(2, 3, 40, 50)  # padded to 64 x 64 inside
    maps = fcn_score_maps(model, images)
    expected = {"32s": ["conv7", "final"], "16s": ["conv7", "fused_pool4", "final"],
                "8s": ["conv7", "fused_pool4", "fused_pool3", "final"]}[variant]
    assert list(maps) == expected
    strides = {"conv7": 32, "fused_pool4": 16, "fused_pool3": 8}
    for name, stride in strides.items():
        if name in maps:
            assert maps[name].shape == (2, 4, 64 // stride, 64 // stride)
    torch.testing.assert_close(maps["final"], model(images))


def test_fused_maps_are_the_sums_written_in_the_paper() -> None:
    # Reference: FCN-8s's decoder by hand, from the encoder's pool3 and pool4 (64 x 64: no padding).
    model = _small_fcn("8s")
    images = torch.rand(2, 3, 64, 64)
    maps = fcn_score_maps(model, images)
    with torch.no_grad():
        pool3 = model.stage3(model.stage2(model.stage1(images)))  # (B, 4c, 8, 8)
        pool4 = model.stage4(pool3)  # (B, 8c, 4, 4)
        conv7 = model.score_fr(model.fc7(model.fc6(model.stage5(pool4))))  # (B, K, 2, 2)
        fused_pool4 = model.upscore2(conv7) + model.score_pool4(pool4)  # (B, K, 4, 4)
        fused_pool3 = model.upscore_pool4(fused_pool4) + model.score_pool3(pool3)  # (B, K, 8, 8)
    torch.testing.assert_close(maps["conv7"], conv7)
    torch.testing.assert_close(maps["fused_pool4"], fused_pool4)
    torch.testing.assert_close(maps["fused_pool3"], fused_pool3)
    torch.testing.assert_close(maps["final"], model.upscore8(fused_pool3))


def test_score_maps_refuse_other_models() -> None:
    with pytest.raises(TypeError, match="expects a segedu.models.FCN"):
        fcn_score_maps(torch.nn.Identity(), torch.zeros(1, 3, 32, 32))


def test_controls_change_state_and_images() -> None:
    scenes = ShapesScenes("val", length=3, size=64, seed=2)
    models = {"32s": _small_fcn("32s"), "8s": _small_fcn("8s", seed=1)}
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


def test_bad_arguments_are_refused() -> None:
    scenes = ShapesScenes("val", length=2, size=32)
    with pytest.raises(ValueError, match="at least one FCN"):
        fcn_explorer({}, scenes)
    with pytest.raises(ValueError, match=r"index must be in \[0, 2\)"):
        fcn_explorer({"8s": _small_fcn("8s")}, scenes, index=2)


def test_switching_a_skip_branch_off_zeroes_its_scores() -> None:
    # Reference: FCN-8s's decoder by hand with score_pool3's output replaced by zeros.
    model = _small_fcn("8s")
    images = torch.rand(2, 3, 64, 64)
    maps = fcn_score_maps(model, images, off=("pool3",))
    with torch.no_grad():
        pool3 = model.stage3(model.stage2(model.stage1(images)))
        pool4 = model.stage4(pool3)
        conv7 = model.score_fr(model.fc7(model.fc6(model.stage5(pool4))))
        fused_pool4 = model.upscore2(conv7) + model.score_pool4(pool4)
        fused_pool3 = model.upscore_pool4(fused_pool4)  # + zeros
    torch.testing.assert_close(maps["fused_pool3"], fused_pool3)
    torch.testing.assert_close(maps["final"], model.upscore8(fused_pool3))
    with torch.no_grad():  # the hooks are gone afterwards
        torch.testing.assert_close(fcn_score_maps(model, images)["final"], model(images))
    with skip_branches_off(model, ["pool4", "pool3"]), torch.no_grad():
        both_off = model(images)
    with torch.no_grad():
        torch.testing.assert_close(both_off, model.upscore8(model.upscore_pool4(model.upscore2(conv7))))


def test_skip_branches_off_refuses_missing_branches() -> None:
    with pytest.raises(ValueError, match="has no pool3 branch"):
        with skip_branches_off(_small_fcn("16s"), ["pool3"]):
            pass
    with pytest.raises(ValueError, match="unknown skip branch"):
        with skip_branches_off(_small_fcn("8s"), ["pool5"]):
            pass


def test_branch_switches_change_state_and_images() -> None:
    scenes = ShapesScenes("val", length=3, size=64, seed=2)
    models = {"32s": _small_fcn("32s"), "8s": _small_fcn("8s", seed=1)}
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
