"""Pictures of the shortcut study: one ShortcutNet decoder level per merge, and the paired seed differences.

- :func:`decoder_level_diagram` draws one decoder level of
  :class:`segedu.models.shortcut_variants.ShortcutNet` for each of its five shortcuts side by side: what
  upsamples the decoder's map, what crosses from the encoder (red), and how many channels reach the
  level's convolutions.
- :func:`paired_differences_figure` draws a seed study scored by
  :func:`segedu.analysis.shortcut_scores.score_runs`: for each column ``a - b`` the per-seed difference in
  test mean IoU in the boundary band and in the interior (one dot per seed, a bar at the mean, optionally a
  second bar at the mean without one highlighted seed, and the dots of seeds the caller names labelled with
  their seed number), and the variants' mean training loss.
- :func:`scene_errors_figure` draws one scene's truth and each variant's prediction, and under each its wrong
  pixels, band and interior apart.

Example:
    >>> figure = decoder_level_diagram()
    >>> [axis.get_title().split("\\n")[0] for axis in figure.axes]
    ['"none"', '"add"', '"indices"', '"concat"', '"fixed_unpool"']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from segedu.analysis.shortcut_scores import SeedScores
from segedu.plots.primitives import (
    DECODER_COLOR,
    ENCODER_COLOR,
    SHORTCUT_COLOR,
    arrow,
    box,
    diagram_figure,
    finish_axis,
)

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from torch import Tensor

__all__ = [
    "LEVEL_SHORTCUTS",
    "VARIANT_STYLES",
    "decoder_level_diagram",
    "paired_differences_figure",
    "scene_errors_figure",
]

LEVEL_SHORTCUTS: dict[str, tuple[str, str]] = {
    "none": ("2x2 up-conv", "nothing crosses"),
    "add": ("2x2 up-conv", "encoder features cross (FCN-style)"),
    "indices": ("max-unpool", "pooling indices place the values"),
    "concat": ("2x2 up-conv", "encoder features cross (U-Net-style)"),
    "fixed_unpool": ("unpool to top-left", "nothing crosses (control)"),
}
"""Each shortcut of the diagram: (its upsampler, what crosses from the encoder)."""

VARIANT_STYLES: dict[str, tuple[str, str | tuple[int, tuple[int, int]]]] = {
    "none": ("#000000", "-"), "add": ("#E69F00", "--"), "indices": ("#009E73", ":"),
    "concat": ("#0072B2", "-."), "fixed_unpool": ("#777777", "-"),
}
"""Colour (Okabe-Ito) and line style of each variant's loss curve; the control is solid grey."""

_FONT = 11.0


def _draw_level(axis: Axes, shortcut: str) -> None:
    """One decoder level, top to bottom: decoder map from below, upsampler, merge, convs."""
    upsampler, crossing = LEVEL_SHORTCUTS[shortcut]
    below = box(axis, (0.6, 1.9), 0.5, 0.5, DECODER_COLOR, above="x from below\n(C, h, w)", font_size=_FONT)
    skip = box(axis, (-0.9, 0.4), 0.9, 0.9, ENCODER_COLOR, above="encoder map\n(C, 2h, 2w)", font_size=_FONT)
    up = box(axis, (0.6, 0.4), 0.9, 0.9, DECODER_COLOR, inside="up", font_size=_FONT)
    arrow(axis, below.bottom, up.top, label=upsampler, label_side="right", label_gap=0.08, font_size=_FONT - 1)
    channels = "C"
    if shortcut == "add":
        merged = box(axis, (0.6, -0.9), 0.9, 0.5, "white", inside="merge", font_size=_FONT - 1)
        project = box(axis, (-0.9, -0.9), 0.75, 0.5, "white", inside="1x1\nconv", font_size=_FONT - 1,
                      edge_color=DECODER_COLOR, edge_width=2.0)  # a layer, like "merge": white, the decoder's edge
        arrow(axis, skip.bottom, project.top, color=SHORTCUT_COLOR, width=1.8)
        arrow(axis, project.right, merged.left, color=SHORTCUT_COLOR, width=1.8)
        arrow(axis, up.bottom, merged.top)
        merged_bottom = merged.bottom
    elif shortcut == "concat":
        merged = box(axis, (0.4, -0.9), 2.0, 0.5, "white", inside="merge", font_size=_FONT - 1)
        arrow(axis, skip.bottom, (merged.left[0] + 0.15, merged.top[1]), color=SHORTCUT_COLOR, width=3.0)
        arrow(axis, up.bottom, (up.x, merged.top[1]))
        merged_bottom, channels = (up.x, merged.bottom[1]), "2C"
    else:
        if shortcut == "indices":  # into the max-unpool step: the middle of the upsampling arrow, beside its label
            unpool_step = (below.x, (below.bottom[1] + up.top[1]) / 2)
            start = (skip.right[0], skip.y + 0.25)
            arrow(axis, start, unpool_step, color=SHORTCUT_COLOR, width=1.8, line_style="--")
            angle = np.arctan2(unpool_step[1] - start[1], unpool_step[0] - start[0])  # equal aspect: as drawn
            along = 0.72  # past the encoder map's label, short of the max-unpool step
            anchor = (start[0] + along * (unpool_step[0] - start[0]), start[1] + along * (unpool_step[1] - start[1]))
            axis.annotate("indices", anchor,
                          xytext=(-4 * np.sin(angle), 4 * np.cos(angle)), textcoords="offset points",
                          color=SHORTCUT_COLOR, rotation=np.degrees(angle), rotation_mode="anchor", ha="center",
                          va="bottom", fontsize=_FONT - 1)  # along the arrow, just above it: the arrow stays whole
        merged_bottom = up.bottom
    convs = box(axis, (0.5, -2.3), 2.6, 0.8, DECODER_COLOR, inside="2 x (conv3x3,\nBN, ReLU)",
                below=f"{channels} channels reach the first conv", font_size=_FONT - 1)
    arrow(axis, merged_bottom, (merged_bottom[0], convs.top[1]))
    axis.set_title(f'"{shortcut}"\n{crossing}', fontsize=_FONT, color=SHORTCUT_COLOR if shortcut in (
        "add", "indices", "concat") else "black")


def decoder_level_diagram() -> Figure:
    """Draw one ShortcutNet decoder level for each shortcut, three to a row (encoder blue, decoder orange, red crosses).

    Every level upsamples the decoder's map ``x`` (C channels, h x w) to 2h x 2w, merges, then applies two
    conv-BN-ReLU blocks. ``"add"`` merges a 1x1 convolution of the encoder map (a learned decoder layer, drawn as a
    white box edged in the decoder's orange, like the merge step, not as a map) with ``up`` (C channels);
    ``"concat"`` merges the encoder map with ``up`` (2C channels); the merges are left unnamed (lesson 11's
    exercise 1); ``"indices"`` passes only the encoder's pooling indices, which max-unpooling uses to place
    ``x``'s values; ``"fixed_unpool"`` unpools the same way but always to each window's top-left pixel, so nothing
    crosses; ``"none"`` passes nothing.

    Returns:
        The figure, five panels in two rows (close it with ``matplotlib.pyplot.close(figure)``).
    """
    columns = 3  # two rows, so the text stays readable at notebook width
    rows = -(-len(LEVEL_SHORTCUTS) // columns)
    figure, axes = diagram_figure(rows, columns, (12.0, 5.4 * rows))
    for axis in axes[len(LEVEL_SHORTCUTS):]:
        figure.delaxes(axis)  # the grid's spare panel
    for axis, shortcut in zip(axes, LEVEL_SHORTCUTS):
        _draw_level(axis, shortcut)
        finish_axis(axis, (-1.5, 1.9), (-3.25, 3.3))
    figure.suptitle("One ShortcutNet decoder level per shortcut\n(blue: encoder map, orange: decoder maps, white: "
                    "merge and 1x1 conv steps, red: what crosses from the encoder)", fontsize=_FONT + 1)
    figure.tight_layout()
    return figure


def _tick(a: str, b: str, scores: SeedScores) -> str:
    """Column label: the pair, its seed count and its difference in parameter count."""
    change = scores.parameters[a] / scores.parameters[b] - 1
    label = f"{a} - {b}\nn = {len(scores.seeds)}\nparameters\n{change:+.0%}"
    return label.replace("fixed_unpool", "control")


def paired_differences_figure(
    columns: Sequence[tuple[str, str, SeedScores]],
    loss_curves: Mapping[str, np.ndarray],
    *,
    first_seeds: Sequence[str],
    highlight: tuple[str, str] | None = None,
    labelled_seeds: Sequence[str] = (),
    shaded: Mapping[int, tuple[str, str]] | None = None,
    loss_seeds: Sequence[str] | None = None,
    y_limits: tuple[float, float] | None = None,
    loss_without_highlight: bool = False,
    mean_without_highlight: bool = False,
    title: str = "",
) -> Figure:
    """Draw per-seed differences ``a - b`` in the band and the interior, and mean training loss curves.

    Args:
        columns: ``(a, b, scores)`` per column: the two variants and the :class:`SeedScores` holding both.
        loss_curves: Variant -> ``(seeds, points, 2)`` loss curves (step, loss) of ``loss_seeds``, in that order;
            their mean over the seeds is drawn, ``"fixed_unpool"``'s labelled "control".
        first_seeds: Seeds drawn as filled dots; the others (added later) are drawn as open dots.
        highlight: ``(variant, seed)`` drawn as a labelled orange diamond in the columns that hold the variant and,
            alone, in the loss panel; elsewhere the seed is an ordinary dot.
        labelled_seeds: Seeds whose dot is drawn in the highlight colour and labelled "seed N" in every column of
            both left panels, the label right of the column's dots and joined to its own dot by a short leader line,
            so that a seed the text names (one far from the others, say) can be found and no other dot can be read
            as it; an off-scale seed's label already names it. The legend gives the labelled seeds their own entry.
        shaded: Column index -> (face colour, what the column isolates): a hatched band behind the column,
            explained in a legend of its own.
        loss_seeds: The seeds of ``loss_curves``, in order (default ``first_seeds``).
        y_limits: ``(low, high)`` of the two left panels. A seed beyond them is drawn at the panel's edge, its
            marker unclipped, and labelled with its value just inside the edge, centred on its own column, so every
            marker of the legend stays in view and no label sits under a neighbouring column.
        loss_without_highlight: Draw the highlighted variant's mean loss over its other seeds (labelled as a
            sensitivity check), beside the highlighted seed alone, so that one outlying run does not move its mean
            curve.
        mean_without_highlight: In the columns that hold the highlighted variant, also draw the mean without the
            highlighted seed (a dashed bar in its colour, labelled in the legend as a sensitivity check) beside the
            mean of all seeds, whose bar is then labelled "mean incl. seed ..." beside it.
        title: The figure's title.

    Returns:
        The figure: band panel, interior panel (one y-scale) and loss panel.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    from matplotlib.patches import Patch

    highlight_colour = "#D55E00"
    loss_seeds = list(first_seeds if loss_seeds is None else loss_seeds)
    figure, axes = plt.subplots(1, 3, figsize=(13.5, 6.0), gridspec_kw={"width_ratios": [1.15, 1.15, 1]})
    axes[1].sharey(axes[0])  # one y-scale for the band and the interior
    positions = np.arange(len(columns))
    for axis, (panel, region) in zip(axes[:2], (("2-px boundary band", "band"),
                                                ("interior (outside the band)", "interior"))):
        for index, (colour, _) in (shaded or {}).items():
            axis.axvspan(index - 0.45, index + 0.45, facecolor=colour, edgecolor="#AAAAAA", hatch="//", linewidth=0)
        axis.axhline(0, color="#999999", linewidth=0.8)  # no difference: both runs of the seed score the same
        for position, (a, b, scores) in zip(positions, columns):
            difference = scores.paired(region, a, b)  # (seeds,)
            offsets = 0.3 * (np.arange(len(difference)) / max(len(difference) - 1, 1) - 0.5)
            for offset, seed, value in zip(offsets, scores.seeds, difference):
                shown, off_scale = value, False
                if y_limits is not None and not y_limits[0] <= value <= y_limits[1]:
                    inset = 0.03 * (y_limits[1] - y_limits[0])  # just inside the edge, so the marker is whole
                    shown = y_limits[0] + inset if value < y_limits[0] else y_limits[1] - inset
                    off_scale = True
                highlighted = highlight is not None and seed == highlight[1] and highlight[0] in (a, b)
                if highlighted:
                    axis.plot(position + offset, shown, "D", color=highlight_colour, markersize=8, clip_on=False)
                else:
                    colour = highlight_colour if seed in labelled_seeds else "#000000"
                    axis.plot(position + offset, shown, "o", markersize=6, color=colour, clip_on=False,
                              markerfacecolor=colour if seed in first_seeds else "white")
                if off_scale:  # the value, centred on this column just inside the edge the marker sits on
                    axis.annotate(f"seed {seed}: {value:+.2f},\noff the scale", (position, shown),
                                  textcoords="offset points", xytext=(0, 9 if value < y_limits[0] else -9),
                                  fontsize=10, color=highlight_colour if highlighted else "#000000", ha="center",
                                  va="bottom" if value < y_limits[0] else "top",
                                  bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
                elif highlighted:
                    axis.annotate(f"seed {seed}", (position + offset, shown), textcoords="offset points",
                                  xytext=(6, -3), fontsize=10, color=highlight_colour,
                                  bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
                elif seed in labelled_seeds:  # right of the column's dots and mean bar, a leader line to its own dot
                    axis.annotate(f"seed {seed}", (position + offset, shown), xytext=(position + 0.28, shown),
                                  textcoords="data", ha="left", va="center", fontsize=10, color=highlight_colour,
                                  arrowprops={"arrowstyle": "-", "color": highlight_colour, "linewidth": 0.9,
                                              "shrinkA": 1, "shrinkB": 3.5},
                                  bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.5})
            axis.hlines(difference.mean(), position - 0.25, position + 0.25, color="#0072B2", linewidth=2)
            if mean_without_highlight and highlight is not None and highlight[0] in (a, b):
                axis.annotate(f"mean incl. seed {highlight[1]}", (position, difference.mean()),  # under its bar
                              textcoords="offset points", xytext=(0, -5), fontsize=9.5, color="#0072B2",
                              ha="center", va="top")
                others = np.delete(difference, list(scores.seeds).index(highlight[1]))  # (seeds - 1,)
                axis.hlines(others.mean(), position - 0.25, position + 0.25, color=highlight_colour, linewidth=2,
                            linestyle="--")
        axis.set_xticks(positions, [_tick(a, b, scores) for a, b, scores in columns], fontsize=9.5)
        axis.set_xlim(-0.5, len(columns) - (0.3 if labelled_seeds else 0.5))  # room for the last column's labels
        axis.margins(y=0.12)  # room for the seed labels at the extremes
        if y_limits is not None:
            axis.set_ylim(*y_limits)
        axis.set_ylabel("difference in test mean IoU, same seed")
        axis.set_title(f"{panel}:\na minus b, paired by seed", fontsize=11)
    dots = f"seeds {', '.join(seed for seed in first_seeds if seed not in labelled_seeds)}"
    if highlight is not None:  # in the highlighted variant's columns its seed is the diamond, not a dot
        dots += f" (in {highlight[0]}'s columns, seed {highlight[1]} is the diamond)"
    key = [Line2D([], [], linestyle="none", marker="o", color="#000000", label=dots)]
    key += [Line2D([], [], linestyle="none", marker="o", color=highlight_colour, label=f"seed {seed} (labelled)")
            for seed in labelled_seeds]
    later = sorted({seed for _, _, scores in columns for seed in scores.seeds} - set(first_seeds), key=int)
    if later:
        key.append(Line2D([], [], linestyle="none", marker="o", color="#000000", markerfacecolor="white",
                          label=f"seeds {later[0]}-{later[-1]} (more seeds)"))
    if highlight is not None:
        key.append(Line2D([], [], linestyle="none", marker="D", color=highlight_colour,
                          label=f"seed {highlight[1]} in {highlight[0]}'s columns"))
    key.append(Line2D([], [], color="#0072B2", linewidth=2, label="mean of the column's n seeds"))
    if mean_without_highlight and highlight is not None:
        key.append(Line2D([], [], color=highlight_colour, linewidth=2, linestyle="--",
                          label=f"mean without seed {highlight[1]} (sensitivity check)"))
    figure.legend(handles=key, loc="lower left", bbox_to_anchor=(0.01, 0), ncol=2, fontsize=10,
                  title="markers (both left panels)", title_fontsize=10, borderaxespad=0.2)
    if shaded:
        figure.legend(handles=[Patch(facecolor=colour, edgecolor="#AAAAAA", hatch="//", label=label)
                               for colour, label in shaded.values()],
                      loc="lower center", bbox_to_anchor=(0.55, 0), fontsize=9, title="shaded columns",
                      title_fontsize=9)
    for name, curves in loss_curves.items():
        curves = np.asarray(curves, dtype=float)  # (seeds, points, 2)
        colour, style = VARIANT_STYLES.get(name, ("#000000", "-"))
        label = "control" if name == "fixed_unpool" else name  # the lessons' word for it
        if loss_without_highlight and highlight is not None and highlight[0] == name:
            curves = np.delete(curves, loss_seeds.index(highlight[1]), axis=0)  # (seeds - 1, points, 2)
            label = f"{name}, seeds other than {highlight[1]} (check)"
        axes[2].plot(curves[0, :, 0], curves[:, :, 1].mean(axis=0), color=colour, linestyle=style,
                     linewidth=1.6, label=label)
    if highlight is not None and highlight[0] in loss_curves:
        variant, seed = highlight
        alone = np.asarray(loss_curves[variant], dtype=float)[loss_seeds.index(seed)]  # (points, 2)
        axes[2].plot(alone[:, 0], alone[:, 1], color=highlight_colour, linewidth=1.0, marker="D", markersize=4,
                     markevery=4, label=f"{variant}, seed {seed} alone")
    axes[2].set_yscale("log")
    axes[2].set_yticks([0.2, 0.3, 0.4, 0.6, 1.0])
    axes[2].yaxis.set_major_formatter(FormatStrFormatter("%.1f"))
    axes[2].yaxis.set_minor_formatter(NullFormatter())
    axes[2].set_xlabel("optimiser step")
    axes[2].set_ylabel("training loss (CE + Dice), log scale")
    apart = (f", {highlight[0]} without seed {highlight[1]}"
             if loss_without_highlight and highlight is not None and highlight[0] in loss_curves else "")
    axes[2].set_title(f"training loss: mean of seeds {loss_seeds[0]}-{loss_seeds[-1]}{apart}\n"
                      "(each point a mean over 25 steps)", fontsize=11)
    handles, labels = axes[2].get_legend_handles_labels()  # the loss panel's key goes under it, off the curves
    figure.legend(handles, labels, loc="lower right", bbox_to_anchor=(0.99, 0), ncol=2, fontsize=9,
                  title="variant (loss panel)", title_fontsize=9, borderaxespad=0.2)
    figure.suptitle(title, fontsize=12)
    figure.tight_layout(rect=(0, 0.14, 1, 1))  # room below for the legends
    return figure


WRONG_COLORS = {"band": (1.0, 1.0, 1.0), "interior": (1.0, 0.88, 0.1)}  # white and yellow, RGB
BAND_GREY, OUTSIDE = (0.5, 0.5, 0.5), (0.15, 0.15, 0.15)  # the error row: band and interior, right pixels
LEGEND_FACE = "#E6E6E6"  # the scene legend's background: pale grey, so its white swatch does not read as empty


def scene_errors_figure(truth: Tensor, band: Tensor, predictions: Mapping[str, Tensor], title: str | None = None
                        ) -> tuple[Figure, dict[str, tuple[int, int]]]:
    """Draw one scene's truth and each prediction, and under each its wrong pixels, band and interior apart.

    The top row shows the classes, untouched: the truth, then each prediction. The row below shows the boundary
    band (grey) under the truth and, under each prediction, its wrong pixels: white in the band, yellow in the
    interior. The legend lists all four classes and the three colours of the lower row, on a pale grey background
    so that the white swatch (thin dark edge) reads as white, not as an empty box.

    Args:
        truth: ``(H, W)`` class indices of the scene.
        band: ``(H, W)`` bool, ``True`` in the boundary band (:func:`segedu.training.metrics.boundary_band`).
        predictions: Variant -> ``(H, W)`` predicted classes, one column each in this order.
        title: The figure's title (which scene, which seed), if any.

    Returns:
        The figure, and per variant its wrong pixels ``(in the band, in the interior)``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from segedu.datasets import SHAPE_CLASS_NAMES
    from segedu.plots.masks import PALETTE, colorize

    if truth.shape != band.shape or any(predicted.shape != truth.shape for predicted in predictions.values()):
        raise ValueError(f"truth, band and every prediction must share one (H, W) shape; got {tuple(truth.shape)}, "
                         f"{tuple(band.shape)} and {[tuple(p.shape) for p in predictions.values()]}")
    in_band = band.numpy().astype(bool)  # (H, W)

    def error_map(wrong: np.ndarray) -> np.ndarray:  # (H, W) bool -> (H, W, 3)
        image = np.where(in_band[..., None], BAND_GREY, OUTSIDE)
        image[wrong & in_band], image[wrong & ~in_band] = WRONG_COLORS["band"], WRONG_COLORS["interior"]
        return image

    columns = 1 + len(predictions)
    figure, axes = plt.subplots(2, columns, figsize=(3.0 * columns, 7.0), squeeze=False)
    axes[0, 0].imshow(colorize(truth))
    axes[0, 0].set_title("truth", fontsize=11)
    axes[1, 0].imshow(error_map(np.zeros_like(in_band)))
    axes[1, 0].set_title(f"boundary band (grey)\n{in_band.mean():.0%} of this scene", fontsize=11)
    counts = {}
    for column, (name, predicted) in enumerate(predictions.items(), start=1):
        wrong = (predicted != truth).numpy()  # (H, W)
        counts[name] = int((wrong & in_band).sum()), int((wrong & ~in_band).sum())
        axes[0, column].imshow(colorize(predicted))
        axes[0, column].set_title(f'"{name}" predicts', fontsize=11)
        axes[1, column].imshow(error_map(wrong))
        axes[1, column].set_title(f"wrong: {counts[name][0]} band (white),\n{counts[name][1]} interior (yellow)",
                                  fontsize=11)
    for axis in axes.flat:
        axis.set_axis_off()
    key = [Patch(color=PALETTE[index] / 255, label=name) for index, name in enumerate(SHAPE_CLASS_NAMES)]
    key += [Patch(facecolor=BAND_GREY, label="grey: band"),
            Patch(facecolor=WRONG_COLORS["band"], edgecolor=OUTSIDE, linewidth=0.8,
                  label="white: wrong pixel in the band"),
            Patch(facecolor=WRONG_COLORS["interior"], label="yellow: wrong pixel in the interior")]
    figure.legend(handles=key, loc="lower center", ncol=4, fontsize=10, borderaxespad=0.2,
                  facecolor=LEGEND_FACE, framealpha=1.0)  # a pale grey, so the white swatch reads as filled
    if title is not None:
        figure.suptitle(title, fontsize=13)
    figure.subplots_adjust(left=0.01, right=0.99, top=0.88 if title else 0.93, bottom=0.11, wspace=0.06, hspace=0.3)
    return figure, counts
