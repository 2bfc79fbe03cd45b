"""Lesson 15's loss-comparison pictures draw, and the zoom counts the halo inside its crop."""

from __future__ import annotations

import numpy as np
import torch

from segedu.plots.imbalance import digit_pixel_fates_figure, zoomed_predictions_figure


def test_both_figures_draw_and_the_zoom_counts_the_crop_halo() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = {name: {"to background": np.array([0.03, 0.02]), "to a wrong digit": np.array([0.1, 0.08])}
            for name in ("plain", "weighted")}
    figure = digit_pixel_fates_figure(arms, {"plain": np.array([0.02, 0.03]), "weighted": np.array([0.4, 0.5])}, "t")
    assert len(figure.axes) == 2
    plt.close(figure)
    truth = torch.zeros(8, 8, dtype=torch.long)
    truth[2:5, 2:5] = 3
    prediction = truth.clone()
    prediction[1, 2:4] = 3  # two halo pixels inside the crop
    prediction[7, 7] = 3  # one outside it
    prediction[4, 4] = 0  # one missed stroke pixel
    crop_halo, crop_classes = zoomed_predictions_figure(torch.rand(8, 8), truth, {"net": prediction},
                                                      (slice(0, 6), slice(0, 6)), [str(k) for k in range(11)], "t")
    assert crop_halo == {"net": 2} and crop_classes == [0, 3]
    plt.close("all")
