"""The FCN skip diagram draws one panel per variant with that variant's fusions and upsampling."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from segedu.plots.fcn_diagram import FCN_SKIPS, fcn_skip_diagram  # noqa: E402
from segedu.models import get_model  # noqa: E402


def _texts(axis) -> list[str]:
    return [text.get_text() for text in axis.texts]


def test_one_panel_per_variant_with_its_fusions() -> None:
    figure = fcn_skip_diagram()
    try:
        assert len(figure.axes) == 3
        for axis, variant, final in zip(figure.axes, ("32s", "16s", "8s"), ("32x", "16x", "8x")):
            texts = _texts(axis)
            assert f"FCN-{variant}" in axis.get_title()
            assert texts.count("+") == len(FCN_SKIPS[variant])
            assert sum(text.startswith(final) for text in texts) == 1
            assert texts.count("2x up") == len(FCN_SKIPS[variant])
    finally:
        plt.close(figure)


@pytest.mark.parametrize("variant", ["32s", "16s", "8s"])
def test_drawn_skips_are_the_models_skips(variant: str) -> None:
    model = get_model(f"fcn{variant}", in_channels=1, num_classes=2, base_channels=4, fc_channels=4)
    built = tuple(pool for pool in ("pool4", "pool3") if hasattr(model, f"score_{pool}"))
    assert FCN_SKIPS[variant] == built


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="'32s', '16s', '8s'"):
        fcn_skip_diagram(["4s"])
