"""The aliasing explorer shows what each 4x downsampling makes of stripes, and its alias score."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segedu.analysis.aliasing import alias_response, stripes
from segedu.widgets.aliasing_explorer import DOWNSAMPLERS, aliasing_explorer


def test_strided_sampling_of_period_three_keeps_full_contrast() -> None:
    panel = aliasing_explorer(period=3.0)
    assert panel.state["method"] == "strided (every 4th)"
    torch.testing.assert_close(panel.state["output"], stripes(96, 1 / 3)[0, 0, ::4, ::4])
    assert panel.state["alias_score"] == pytest.approx(1.0, abs=0.02)
    assert panel.state["contrast"] > 0.3


def test_controls_change_state_and_pictures() -> None:
    panel = aliasing_explorer(period=3.0)
    before = panel.images["downsampled"].value
    panel.controls["method"].value = "max pool 4x4"
    torch.testing.assert_close(panel.state["output"], F.max_pool2d(stripes(96, 1 / 3), 4)[0, 0])
    assert panel.state["contrast"] < 1e-6  # flat at this shift
    assert panel.images["downsampled"].value != before
    level = panel.state["level"]
    panel.controls["shift"].value = 4
    assert panel.state["shift"] == 4 and abs(panel.state["level"] - level) > 0.1  # flat, but another level


@pytest.mark.parametrize("method", list(DOWNSAMPLERS))
def test_alias_score_is_the_analysis_measure(method: str) -> None:
    panel = aliasing_explorer(period=5.0, method=method)
    assert panel.state["alias_score"] == pytest.approx(alias_response(DOWNSAMPLERS[method], 1 / 5))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        aliasing_explorer(method="nearest")
    with pytest.raises(ValueError, match="period must be in"):
        aliasing_explorer(period=1.0)
