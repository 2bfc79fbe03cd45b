"""The atrous explorer: its state and picture follow the sliders and agree with the analysis module."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from segedu.analysis.atrous import dilated_stack_footprint, footprint_coverage
from segedu.widgets.atrous_explorer import atrous_explorer


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _grey_pixels(panel) -> int:
    picture = _decode(panel.images["footprint"].value)
    return int(np.all(picture == 225, axis=2).sum())


def test_state_matches_the_analysis_module() -> None:
    panel = atrous_explorer((2, 4, 8), max_layers=4, max_rate=8, scale=1)
    state = panel.state
    assert state["rates"] == (2, 4, 8)
    assert state["receptive_field"] == 29
    assert state["coverage"] == pytest.approx(footprint_coverage((2, 4, 8)))
    assert state["read_pixels"] == int((dilated_stack_footprint((2, 4, 8)) > 0).sum())
    assert state["macs_per_output"] == 27
    canvas = 1 + 2 * 4 * 8
    assert _decode(panel.images["footprint"].value).shape == (canvas, canvas, 3)
    assert _grey_pixels(panel) == canvas * canvas - state["read_pixels"]


def test_changing_one_rate_to_one_fills_the_grid() -> None:
    panel = atrous_explorer((2, 2, 2), scale=1)
    assert panel.state["coverage"] < 0.3
    before = panel.images["footprint"].value
    panel.controls["rate1"].value = 1  # rates (1, 2, 2): no common factor any more
    assert panel.state["rates"] == (1, 2, 2) and panel.state["coverage"] == 1.0
    assert panel.images["footprint"].value != before


def test_layer_slider_adds_and_removes_layers() -> None:
    panel = atrous_explorer((1, 2), max_layers=4, scale=1)
    assert panel.controls["rate3"].disabled and panel.controls["rate4"].disabled
    panel.controls["layers"].value = 3  # the third slider starts at rate 1
    assert panel.state["rates"] == (1, 2, 1) and panel.state["receptive_field"] == 9
    assert not panel.controls["rate3"].disabled
    panel.controls["rate3"].value = 4
    assert panel.state["receptive_field"] == 1 + 2 * (1 + 2 + 4)
    assert panel.state["macs_per_output"] == 27  # cost grows with layers, not with rates


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="rates must hold"):
        atrous_explorer((2, 20))
    with pytest.raises(ValueError, match="rates must hold"):
        atrous_explorer((1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="max_layers"):
        atrous_explorer((1,), max_layers=0)
