"""The scene browser updates its pictures in place when the slider moves."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from segedu.datasets import ShapesScenes
from segedu.plots.masks import colorize
from segedu.widgets import array_to_png, scene_browser


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_array_to_png_round_trips_and_enlarges() -> None:
    image = np.random.default_rng(0).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    decoded = _decode(array_to_png(image, scale=3))
    assert decoded.shape == (15, 21, 3)
    assert np.array_equal(decoded[::3, ::3], image)


def test_array_to_png_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 3\)"):
        array_to_png(np.zeros((2, 3, 4, 5)))


def test_slider_changes_state_and_images() -> None:
    scenes = ShapesScenes("val", length=6, size=32, seed=1)
    panel = scene_browser(scenes, scale=1)
    first_mask = panel.images["mask"].value
    assert np.array_equal(_decode(first_mask), colorize(scenes[0][1]))
    panel.controls["index"].value = 4
    assert panel.state["index"] == 4
    assert np.array_equal(_decode(panel.images["mask"].value), colorize(scenes[4][1]))
    expected = sorted(int(value) for value in np.unique(scenes[4][1].numpy()))
    assert panel.state["mask_classes"] == expected
    assert expected[0] == 0  # background is listed too


def test_bad_start_index_is_refused() -> None:
    with pytest.raises(ValueError, match=r"index must be in \[0, 3\)"):
        scene_browser(ShapesScenes("val", length=3, size=32), index=3)
