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
from segedu.plots.primitives import DECODER_COLOR, ENCODER_COLOR, SHORTCUT_COLOR  # noqa: E402
from segedu.plots.shortcut_study import (  # noqa: E402
    LEVEL_SHORTCUTS,
    decoder_level_diagram,
    paired_differences_figure,
    scene_errors_figure,
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
        add = figure.axes[list(LEVEL_SHORTCUTS).index("add")]
        boxes = [patch for patch in add.patches if not isinstance(patch, FancyArrowPatch)]
        assert [patch.get_facecolor() for patch in boxes].count(to_rgba(ENCODER_COLOR)) == 1  # the encoder map only
        assert [patch.get_facecolor() for patch in boxes].count(to_rgba(DECODER_COLOR)) == 3  # x, up, convs: maps
        (project,) = [patch for patch in boxes if patch.get_edgecolor() == to_rgba(DECODER_COLOR)]
        assert project.get_facecolor() == to_rgba("white")  # the 1x1 conv is a layer, like the merge, not a map
        (label,) = [text for text in add.texts if text.get_text() == "1x1\nconv"]
        assert project.contains_point(add.transData.transform(label.get_position()))  # named inside its box
        into, out = [patch._posA_posB for patch in add.patches
                     if isinstance(patch, FancyArrowPatch) and patch.get_edgecolor() == red]
        x, y = project.get_xy()
        assert np.isclose(into[1][1], y + project.get_height()) and np.isclose(out[0][0], x + project.get_width())
        indices = figure.axes[list(LEVEL_SHORTCUTS).index("indices")]
        (into_unpool,) = [patch for patch in indices.patches
                          if isinstance(patch, FancyArrowPatch) and patch.get_edgecolor() == red]
        (step,) = [patch for patch in indices.patches
                   if isinstance(patch, FancyArrowPatch) and patch.get_edgecolor() != red
                   and patch._posA_posB[0][1] > patch._posA_posB[1][1] > 0]  # x from below -> up: the max-unpool step
        (label,) = [text for text in indices.texts if text.get_text() == "max-unpool"]
        (top_x, top_y), (bottom_x, bottom_y) = step._posA_posB
        end_x, end_y = into_unpool._posA_posB[1]
        assert end_x == top_x == bottom_x and bottom_y < end_y < top_y  # on the step, not on the box above it
        assert end_y == label.get_position()[1]  # beside its "max-unpool" label
        (name,) = [text for text in indices.texts if text.get_text() == "indices"]  # the red arrow's own label
        (start_x, start_y), _ = into_unpool._posA_posB
        along = (name.xy[0] - start_x) / (end_x - start_x)
        assert 0 < along < 1 and np.isclose(name.xy[1], start_y + along * (end_y - start_y))  # anchored on the arrow
        offset, direction = np.asarray(name.xyann), np.array([end_x - start_x, end_y - start_y])
        assert name.get_va() == "bottom" and np.isclose(offset @ direction, 0) and offset[1] > 0  # above it, not on it
        assert np.isclose(name.get_rotation(), np.degrees(np.arctan2(direction[1], direction[0])))  # along it
        figure.canvas.draw()
        extent = name.get_window_extent()
        assert not any(extent.overlaps(text.get_window_extent()) for text in indices.texts if text is not name)
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
        assert band.get_xticklabels()[0].get_text() == "a - b\nn = 3\nparameters\n-17%"
        assert [line.get_label() for line in loss.lines] == ["a", "b", "a, seed 2 alone"]
        assert loss.get_yscale() == "log" and loss.get_xlabel() == "optimiser step"
    finally:
        plt.close(figure)
    control = {"fixed_unpool": curves["a"]}  # the control's curve is labelled as the lesson names it
    figure = paired_differences_figure([("a", "b", scores)], control, first_seeds=scores.seeds)
    try:
        assert [line.get_label() for line in figure.axes[2].lines] == ["control"]
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


def test_paired_differences_keep_an_off_scale_seed_in_view_and_can_average_the_loss_without_it() -> None:
    runs = {"a": {str(seed): _run(seed, 30 + seed, 100) for seed in range(3)},
            "b": {str(seed): _run(seed, 40 - seed, 100) for seed in range(3)}}
    runs["a"]["2"] = _run(2, 0, 100)  # seed 2 of "a" far below the others
    scores = score_runs(runs)
    curves = {name: np.array([by_seed[seed]["loss_curve"] for seed in scores.seeds]) for name, by_seed in runs.items()}
    low = float(scores.paired("band", "a", "b")[2])
    figure = paired_differences_figure([("a", "b", scores)], curves, first_seeds=scores.seeds, highlight=("a", "2"),
                                       y_limits=(low / 2, 0.5), loss_without_highlight=True)
    try:
        band, loss = figure.axes[0], figure.axes[2]
        (diamond,) = [line for line in band.lines if line.get_marker() == "D"]
        bottom, top = band.get_ylim()
        assert (bottom, top) == (low / 2, 0.5) and bottom <= diamond.get_ydata()[0] <= top  # drawn, inside the panel
        (label,) = [text for text in band.texts if text.get_text().startswith(f"seed 2: {low:+.2f}")]
        assert label.xy[0] == 0 and label.get_horizontalalignment() == "center"  # centred on its own column
        assert [line.get_label() for line in loss.lines] == ["a, seeds other than 2 (check)", "b", "a, seed 2 alone"]
        assert np.allclose(loss.lines[0].get_ydata(), curves["a"][:2, :, 1].mean(axis=0))
    finally:
        plt.close(figure)


def test_paired_differences_can_draw_the_mean_without_the_highlighted_seed_beside_the_mean() -> None:
    runs = {"a": {str(seed): _run(seed, 30 + seed, 100) for seed in range(3)},
            "b": {str(seed): _run(seed, 40 - seed, 100) for seed in range(3)},
            "c": {str(seed): _run(seed, 35, 100) for seed in range(3)}}
    runs["a"]["2"] = _run(2, 0, 100)  # seed 2 of "a" far below the others
    scores = score_runs(runs)
    curves = {name: np.array([by_seed[seed]["loss_curve"] for seed in scores.seeds]) for name, by_seed in runs.items()}
    figure = paired_differences_figure([("a", "b", scores), ("c", "b", scores)], curves, first_seeds=scores.seeds,
                                       highlight=("a", "2"), mean_without_highlight=True)
    try:
        for axis, region in zip(figure.axes[:2], ("band", "interior")):
            bars = [(collection.get_segments()[0][0], collection.get_linestyle()) for collection in axis.collections]
            levels = [float(segment[1]) for segment, _ in bars]
            difference = scores.paired(region, "a", "b")
            assert np.isclose(levels[0], difference.mean())  # a's column: the mean of all three seeds
            assert np.isclose(levels[1], difference[:2].mean())  # and, dashed, the mean without seed 2
            assert np.isclose(levels[2], scores.paired(region, "c", "b").mean())  # c's column: one bar only
            assert len(levels) == 3
            assert [text.get_text() for text in axis.texts].count("mean incl. seed 2") == 1  # a's solid bar, named
        legend_texts = [text.get_text() for text in figure.legends[0].get_texts()]
        assert "mean without seed 2 (sensitivity check)" in legend_texts
        assert "seeds 0, 1, 2 (in a's columns, seed 2 is the diamond)" in legend_texts  # no dot claims seed 2 there
    finally:
        plt.close(figure)


def test_paired_differences_label_the_named_seeds_at_their_own_dots_in_every_column() -> None:
    runs = {"a": {str(seed): _run(seed, 30 + seed, 100) for seed in range(4)},
            "b": {str(seed): _run(seed, 40 - seed, 100) for seed in range(4)},
            "c": {str(seed): _run(seed, 35, 100) for seed in range(4)}}
    scores = score_runs(runs)
    curves = {name: np.array([by_seed[seed]["loss_curve"] for seed in scores.seeds]) for name, by_seed in runs.items()}
    figure = paired_differences_figure([("a", "b", scores), ("c", "b", scores)], curves, first_seeds=scores.seeds,
                                       labelled_seeds=["1"])
    try:
        for axis, region in zip(figure.axes[:2], ("band", "interior")):
            labels = [text for text in axis.texts if text.get_text().startswith("seed")]
            assert [text.get_text() for text in labels] == ["seed 1", "seed 1"]  # one per column, no other seed
            dots = [line for line in axis.lines if line.get_marker() == "o"]  # four per column, in seed order
            for column, (a, label) in enumerate(zip(("a", "c"), labels)):
                dot = dots[4 * column + 1]  # seed 1's dot in this column
                assert np.allclose(label.xy, (dot.get_xdata()[0], dot.get_ydata()[0]))  # the leader ends at its dot
                assert np.isclose(label.xy[1], scores.paired(region, a, "b")[1])
                column_dots = [line.get_xdata()[0] for line in dots[4 * column:4 * column + 4]]
                assert label.xyann[0] > max(column_dots) and label.arrow_patch is not None  # right of them, a leader
                assert dot.get_color() == label.get_color() != "#000000"  # its dot alone shares the label's colour
                others = [other for other in dots[4 * column:4 * column + 4] if other is not dot]
                assert all(other.get_color() == "#000000" for other in others)
            assert axis.get_xlim()[1] > len(("a", "c")) - 0.5  # room for the last column's label
        legend_texts = [text.get_text() for text in figure.legends[0].get_texts()]
        assert legend_texts[:2] == ["seeds 0, 2, 3", "seed 1 (labelled)"]
    finally:
        plt.close(figure)
    unlabelled = paired_differences_figure([("a", "b", scores)], curves, first_seeds=scores.seeds)
    try:
        assert not [text for text in unlabelled.axes[0].texts if text.get_text().startswith("seed")]
    finally:
        plt.close(unlabelled)


def test_scene_errors_figure_counts_wrong_pixels_in_the_band_and_the_interior() -> None:
    import torch

    from segedu.plots.masks import colorize

    truth = torch.zeros(6, 6, dtype=torch.int64)
    truth[:, 3:] = 1  # a vertical boundary between columns 2 and 3
    band = torch.zeros(6, 6, dtype=torch.bool)
    band[:, 2:4] = True
    predicted = truth.clone()
    predicted[0, 2] = 1  # wrong in the band
    predicted[5, 0] = 2  # wrong in the interior
    predicted[4, 0] = 2  # wrong in the interior
    figure, counts = scene_errors_figure(truth, band, {"a": predicted, "b": truth}, title="seed 0, test scene 0")
    try:
        assert counts == {"a": (1, 2), "b": (0, 0)}
        assert figure.get_suptitle() == "seed 0, test scene 0"
        assert [axis.get_title().split("\n")[0] for axis in figure.axes] == [
            "truth", '"a" predicts', '"b" predicts', "boundary band (grey)", "wrong: 1 band (white),",
            "wrong: 0 band (white),"]
        top_a, errors_a = figure.axes[1], figure.axes[4]
        assert np.array_equal(top_a.images[0].get_array(), colorize(predicted))  # the prediction, not painted over
        assert len(top_a.images) == 1
        marks = np.asarray(errors_a.images[0].get_array())  # (H, W, 3)
        assert np.allclose(marks[0, 2], (1.0, 1.0, 1.0)) and np.allclose(marks[5, 0], (1.0, 0.88, 0.1))
        legend = figure.legends[0]
        legend_texts = [text.get_text() for text in legend.get_texts()]
        assert legend_texts == ["background", "circle", "square", "triangle", "grey: band",  # triangle drawn nowhere
                                "white: wrong pixel in the band", "yellow: wrong pixel in the interior"]
        white = legend.legend_handles[5]  # filled white, edged dark, on a background that is not white
        assert white.get_facecolor()[:3] == (1.0, 1.0, 1.0) and max(white.get_edgecolor()[:3]) < 0.5
        assert legend.get_frame().get_facecolor()[:3] != (1.0, 1.0, 1.0)
    finally:
        plt.close(figure)
