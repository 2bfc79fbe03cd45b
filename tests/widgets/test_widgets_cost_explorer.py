"""The cost explorer recomputes its numbers and redraws its chart when a control moves."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from segedu.analysis.stack_costs import encoder_decoder_costs
from segedu.widgets.cost_explorer import cost_explorer, format_bytes


def test_initial_state_matches_the_formulas() -> None:
    panel = cost_explorer(image_size=128, width=16, depth=9, stages=2)
    assert panel.state["full_resolution"] == encoder_decoder_costs(128, width=16, depth=9, stages=0)
    assert panel.state["encoder_decoder"] == encoder_decoder_costs(128, width=16, depth=9, stages=2)
    expected = panel.state["full_resolution"]["macs"] / panel.state["encoder_decoder"]["macs"]
    assert panel.state["macs_ratio"] == pytest.approx(expected)
    saved = panel.state["full_resolution"]["saved_bytes"] / panel.state["encoder_decoder"]["saved_bytes"]
    assert panel.state["memory_ratio"] == pytest.approx(saved)  # training memory, not the sum of outputs
    assert Image.open(io.BytesIO(panel.images["chart"].value)).format == "PNG"


def test_image_size_scales_costs_by_pixels_and_redraws() -> None:
    panel = cost_explorer(image_size=128, width=16, depth=9, stages=2)
    before_macs = panel.state["full_resolution"]["macs"]
    before_chart = panel.images["chart"].value
    panel.controls["image_size"].value = 512
    assert panel.state["image_size"] == 512
    assert panel.state["full_resolution"]["macs"] == 16 * before_macs
    assert panel.images["chart"].value != before_chart


def test_turning_off_channel_doubling_makes_encoder_decoder_cheaper() -> None:
    panel = cost_explorer(image_size=256, width=32, depth=18, stages=4, double_channels=True)
    with_doubling = panel.state["macs_ratio"]
    panel.controls["double_channels"].value = False
    assert panel.state["macs_ratio"] > 2 * with_doubling
    assert panel.state["encoder_decoder"]["parameters"] == panel.state["full_resolution"]["parameters"]


def test_more_stages_raise_the_minimum_depth() -> None:
    panel = cost_explorer(image_size=256, width=8, depth=3, stages=1)
    panel.controls["stages"].value = 3
    assert panel.controls["depth"].min == 7
    assert panel.state["depth"] == 7 and panel.state["stages"] == 3
    panel.controls["stages"].value = 0
    assert panel.controls["depth"].min == 1 and panel.state["depth"] == 7
    assert panel.state["encoder_decoder"] == panel.state["full_resolution"]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="image_size must be one of"):
        cost_explorer(image_size=100)
    with pytest.raises(ValueError, match=r"depth must be in \[2 \* stages \+ 1, 100\] = \[9, 100\]"):
        cost_explorer(depth=5, stages=4)


def test_format_bytes() -> None:
    assert format_bytes(999) == "999 B"
    assert format_bytes(536_870_912) == "536.9 MB"
    assert format_bytes(25.8e9) == "25.8 GB"
