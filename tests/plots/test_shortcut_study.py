"""The shortcut study's pictures: one panel per decoder-level merge, and paired differences that match the scores."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from segedu.analysis.shortcut_scores import score_runs  # noqa: E402
from segedu.models.shortcut_variants import CONTROLS, SHORTCUTS  # noqa: E402
from segedu.plots.primitives import SHORTCUT_COLOR  # noqa: E402
from segedu.plots.shortcut_study import (  # noqa: E402
    LEVEL_SHORTCUTS,
    decoder_level_diagram,
    paired_differences_figure,
    seed_gap_scatter,
)


def test_decoder_level_diagram_has_one_panel_per_shortcut_and_red_only_where_something_crosses() -> None:
    assert set(LEVEL_SHORTCUTS) == set(SHORTCUTS) | set(CONTROLS)
    figure = decoder_level_diagram()
    try:
        assert [axis.get_title().split("\n")[0] for axis in figure.axes] == [f'"{name}"' for name in LEVEL_SHORTCUTS]
        red = to_rgba(SHORTCUT_COLOR)
        crossing = [sum(isinstance(patch, FancyArrowPatch) and patch.get_edgecolor() == red for patch in axis.patches)
                    for axis in figure.axes]
        assert crossing == [0, 2, 1, 1, 0]  # add: encoder -> 1x1 -> sum; indices; concat; none and the control: none
        notes = [{text.get_text() for text in axis.texts} for axis in figure.axes]
        assert "2C channels reach the first conv" in notes[3]
        assert all("C channels reach the first conv" in note for i, note in enumerate(notes) if i != 3)
    finally:
        plt.close(figure)


def _run(seed: int, right: int, parameters: int) -> dict:
    return {"confusion": [[50, 50 - right], [0, right]], "band_confusion": [[10, 10 - right // 5], [0, right // 5]],
            "loss_curve": [[25, 1.0], [50, 0.5 + seed / 100]], "parameters": parameters}


def test_paired_differences_draw_one_dot_per_seed_at_the_paired_difference() -> None:
    runs = {"a": {str(seed): _run(seed, 30 + seed, 100) for seed in range(3)},
            "b": {str(seed): _run(seed, 40 - seed, 120) for seed in range(3)}}
    scores = score_runs(runs)
    curves = {name: np.array([by_seed[seed]["loss_curve"] for seed in scores.seeds]) for name, by_seed in runs.items()}
    figure = paired_differences_figure([("a", "b", scores)], curves, first_seeds=scores.seeds, highlight=("a", "2"))
    try:
        band, interior, loss = figure.axes[:3]
        for axis, region in ((band, "band"), (interior, "interior")):
            dots = [line.get_ydata()[0] for line in axis.lines if line.get_marker() in ("o", "D")]
            assert np.allclose(sorted(dots), sorted(scores.paired(region, "a", "b")))
        assert "size -17%" in band.get_xticklabels()[0].get_text()
        assert [line.get_label() for line in loss.lines] == ["a", "b", "a, seed 2 alone"]
        assert loss.get_yscale() == "log" and loss.get_xlabel() == "optimiser step"
    finally:
        plt.close(figure)


def test_seed_gap_scatter_puts_each_seed_at_its_two_gaps_and_marks_the_lower_loss_seeds() -> None:
    import pytest

    loss, score, seeds = [-0.01, 0.05, 0.2], [-0.02, -0.04, -0.14], ["0", "1", "3"]
    figure = seed_gap_scatter(loss, score, seeds, x_label="loss gap", y_label="score gap", title="t",
                              names=("indices", "control"))
    try:
        (axis,) = figure.axes
        higher, lower = axis.collections  # black dots, then orange diamonds
        assert np.allclose(higher.get_offsets(), [[0.05, -0.04], [0.2, -0.14]])
        assert np.allclose(lower.get_offsets(), [[-0.01, -0.02]])
        labels = {text.get_text(): text.xy for text in axis.texts}
        assert labels == {"seed 0": (-0.01, -0.02), "seed 1": (0.05, -0.04), "seed 3": (0.2, -0.14)}
        assert axis.get_xlabel() == "loss gap" and axis.get_ylabel() == "score gap" and axis.get_title() == "t"
        assert [text.get_text() for text in axis.get_legend().get_texts()] == [
            "indices ended with a higher training loss than control", "indices ended with the lower training loss"]
        left, right = axis.get_xlim()
        assert left < -0.01 and right > 0.2  # every dot and both zero lines inside
    finally:
        plt.close(figure)
    with pytest.raises(ValueError, match="one entry per seed"):
        seed_gap_scatter([0.1], [0.1, 0.2], ["0"], x_label="", y_label="", title="")


def test_seed_gap_scatter_moves_the_label_of_a_seed_that_sits_on_another() -> None:
    figure = seed_gap_scatter([-0.002, -0.004, 0.2], [-0.018, -0.019, -0.14], ["0", "2", "3"], x_label="", y_label="",
                              title="")
    try:
        offsets = {text.get_text(): text.xyann for text in figure.axes[0].texts}
        assert offsets["seed 0"] != offsets["seed 2"]  # the two nearly equal seeds get labels apart
    finally:
        plt.close(figure)


def test_paired_differences_explain_shaded_columns_and_average_the_loss_over_loss_seeds() -> None:
    runs = {"a": {str(seed): _run(seed, 30 + seed, 100) for seed in range(4)},
            "b": {str(seed): _run(seed, 40 - seed, 100) for seed in range(4)}}
    scores = score_runs(runs)
    curves = {name: np.array([by_seed[seed]["loss_curve"] for seed in scores.seeds]) for name, by_seed in runs.items()}
    figure = paired_differences_figure([("a", "b", scores)], curves, first_seeds=["0", "1"], loss_seeds=scores.seeds,
                                       highlight=("a", "3"), shaded={0: ("#EEEEEE", "what a changes")})
    try:
        loss = figure.axes[2]
        assert "seeds 0-3" in loss.get_title()
        mean_a = loss.lines[0].get_ydata()
        assert np.allclose(mean_a, curves["a"][:, :, 1].mean(axis=0))
        assert np.allclose(loss.lines[-1].get_ydata(), curves["a"][3, :, 1])  # seed 3 alone, found among loss_seeds
        legend_texts = [[text.get_text() for text in legend.get_texts()] for legend in figure.legends]
        assert ["what a changes"] in legend_texts
        dots = [line for line in figure.axes[0].lines if line.get_marker() == "o"]
        assert [line.get_markerfacecolor() for line in dots].count("white") == 1  # seed 2: after first_seeds
    finally:
        plt.close(figure)


def test_scene_predictions_count_wrong_pixels_in_the_band_and_the_interior() -> None:
    import torch

    from segedu.plots.shortcut_study import scene_predictions_figure

    truth = torch.zeros(8, 8, dtype=torch.int64)
    truth[2:6, 2:6] = 1
    in_band = torch.zeros(8, 8, dtype=torch.bool)
    in_band[1:7, 1:7] = True
    in_band[3:5, 3:5] = False
    perfect, off = truth.clone(), truth.clone()
    off[0, 0] = 2  # one wrong interior pixel
    off[2, 2] = 0  # one wrong band pixel
    off[1, 1] = 3  # another wrong band pixel
    figure = scene_predictions_figure(torch.rand(3, 8, 8), truth, in_band, {"none": perfect, "fixed_unpool": off},
                                      class_names=("background", "circle", "square", "triangle"), title="t")
    try:
        titles = [axis.get_title() for axis in figure.axes]
        assert titles[0] == "test scene, 8 x 8 px\n(paint colours random)"
        assert titles[2] == "none\nwrong px:\n0 band, 0 interior"
        assert titles[3] == "control\nwrong px:\n2 band, 1 interior"
        assert np.allclose(figure.axes[3].get_images()[0].get_array()[0, 0], [1.0, 0.9, 0.1])
        assert len(figure.legends[0].get_texts()) == 5 and figure.get_suptitle() == "t"
    finally:
        plt.close(figure)
