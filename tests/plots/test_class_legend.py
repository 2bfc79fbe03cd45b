"""class_legend names every class with the colour colorize paints it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from segedu.plots.class_legend import class_legend
from segedu.plots.masks import PALETTE


def test_one_patch_per_class_in_the_palette_colour() -> None:
    figure, _ = plt.subplots()
    legend = class_legend(figure, ["background", "object"])
    assert [text.get_text() for text in legend.get_texts()] == ["background", "object"]
    for index, patch in enumerate(legend.get_patches()):
        np.testing.assert_allclose(patch.get_facecolor()[:3], PALETTE[index] / 255.0)
    plt.close(figure)


def test_works_with_a_constrained_layout() -> None:
    figure, _ = plt.subplots(layout="constrained")
    legend = class_legend(figure, ["a", "b", "c"])
    assert len(legend.get_patches()) == 3
    figure.canvas.draw()
    plt.close(figure)


def test_refuses_no_names() -> None:
    figure, _ = plt.subplots()
    with pytest.raises(ValueError, match="1 to 255"):
        class_legend(figure, [])
    plt.close(figure)
