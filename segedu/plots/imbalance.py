"""Pictures of lesson 15's loss comparison: where each loss sends the digit pixels, and one zoomed crop.

- :func:`digit_pixel_fates_figure` draws, per loss, the share of true digit pixels missed (sent to background) and
  misnamed (given a wrong digit), and the halo (background painted as a digit, per true digit pixel), seed means
  with one dot per seed.
- :func:`zoomed_predictions_figure` draws one crop's image, truth and each network's prediction, with the halo
  orange and ringed and missed stroke pixels magenta.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["HALO_COLOUR", "MISSED_COLOUR", "digit_pixel_fates_figure", "zoomed_predictions_figure"]

HALO_COLOUR, MISSED_COLOUR = (255, 90, 0), (255, 0, 255)  # orange and magenta: no digit's colour in the zoomed crop


def digit_pixel_fates_figure(arms: dict[str, dict[str, np.ndarray]], halo: dict[str, np.ndarray], title: str) -> Any:
    """Section 3's error-fate figure: where each arm's digit pixels go, and the halo it paints.

    Args:
        arms: Arm name (plain cross-entropy first) to scores per seed, with ``"to background"`` and
            ``"to a wrong digit"`` arrays ``(seeds,)`` (see :func:`segedu.course.exercises.lesson15.digit_pixel_fates`).
        halo: Arm name to the halo per seed, ``(seeds,)`` (see :func:`segedu.course.exercises.lesson15.halo_area`).
        title: The figure's title.

    Returns:
        The matplotlib figure: left, stacked bars of the seed means (missed, misnamed) with one dot per seed; right,
        the halo's seed mean with one dot per seed.
    """
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 3.6), sharey=True, gridspec_kw={"width_ratios": [3, 2]},
                                         constrained_layout=True)
    for row, (name, arm) in enumerate(reversed(list(arms.items()))):  # the first arm on top
        missed, misnamed = arm["to background"].mean(), arm["to a wrong digit"].mean()  # seed means
        left.barh(row, missed, color="tab:gray", label="missed (sent to background)" if row == 0 else None)
        left.barh(row, misnamed, left=missed, color="tab:red", alpha=0.8,
                  label="misnamed (given a wrong digit)" if row == 0 else None)
        lost = arm["to background"] + arm["to a wrong digit"]  # (seeds,)
        left.scatter(lost, np.full(len(lost), row), color="black", s=12, zorder=3,
                     label="one seed, missed + misnamed" if row == 0 else None)
        left.text(missed + misnamed + 0.003, row + 0.27, f"{missed:.3f} + {misnamed:.3f}", va="center", fontsize=10)
        right.barh(row, halo[name].mean(), color="tab:purple", alpha=0.6, label="seed mean" if row == 0 else None)
        right.scatter(halo[name], np.full(len(halo[name]), row), color="black", s=12, zorder=3,
                      label="one seed" if row == 0 else None)
        right.text(halo[name].max() + 0.01, row, f"{halo[name].mean():.3f}", va="center", fontsize=10)
    left.set_yticks(range(len(arms)), list(reversed(list(arms))), fontsize=10)
    left.set_xlim(0, 0.30)  # every seed's dot and its label fit
    left.set_xlabel("share of the true digit pixels (bars: seed means; the rest, to 1, are named right)", fontsize=10)
    left.set_title("where the digit pixels go (labels: missed + misnamed)", fontsize=12)
    left.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3)
    right.set_xlim(0, 0.7)
    right.set_xlabel("background pixels painted as some digit,\nper true digit pixel (can exceed 1)", fontsize=10)
    right.set_title("the halo, per true digit pixel (a different x-scale)", fontsize=12)
    right.legend(fontsize=9, loc="lower right")
    figure.suptitle(title, fontsize=13)
    return figure



def zoomed_predictions_figure(image: torch.Tensor, truth: torch.Tensor, predictions: dict[str, torch.Tensor],
                            crop: tuple[slice, slice], class_names: list[str], title: str) -> tuple[dict[str, int], list[int]]:
    """Section 3's zoomed figure: the image, the truth and each prediction of one crop, the halo orange and ringed.

    Args:
        image: The scene's image, ``(H, W)``.
        truth: Its true mask, ``(H, W)``, class 0 background.
        predictions: Panel title (one per network) to its predicted mask, ``(H, W)``; at most four.
        crop: ``(rows, columns)`` slices of the crop.
        class_names: The class names, background first.
        title: The figure's title.

    Returns:
        The halo pixels inside the crop per prediction, and the sorted classes that appear in some panel's crop.
        Missed stroke pixels are magenta; the cyan line is the true stroke's outline; the image's colour bar sits
        just under the image panel (an inset, so the panel keeps its size).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from segedu.plots.masks import colorize

    rows, columns = crop
    extent = (columns.start - 0.5, columns.stop - 0.5, rows.stop - 0.5, rows.start - 0.5)
    figure, grid = plt.subplots(2, 3, figsize=(12, 11), sharey=True, constrained_layout=True)
    crop_halo: dict[str, int] = {}
    panels = [("image", image.numpy(), "gray", None), ("truth", colorize(truth), None, None)]
    for name, prediction in predictions.items():
        painted = colorize(prediction)  # (H, W, 3) uint8
        halo_here = ((truth == 0) & (prediction > 0)).numpy()  # background predicted as a digit
        painted[halo_here] = HALO_COLOUR
        painted[((truth > 0) & (prediction == 0)).numpy()] = MISSED_COLOUR
        crop_halo[name] = int(halo_here[rows, columns].sum())
        panels.append((f"{name}: halo {crop_halo[name]} pixels", painted, None, halo_here))
    for axis, (panel_title, picture, colour_map, halo_here) in zip(grid.flat, panels):
        shown = axis.imshow(picture[rows, columns], cmap=colour_map, interpolation="nearest", extent=extent)
        axis.contour(np.arange(columns.start, columns.stop), np.arange(rows.start, rows.stop),
                     (truth[rows, columns] > 0).numpy(), levels=[0.5], colors="cyan", linewidths=1)
        if halo_here is not None:  # a white ring on each halo pixel, so that a few stand out at display size
            halo_y, halo_x = np.nonzero(halo_here[rows, columns])
            axis.scatter(halo_x + columns.start, halo_y + rows.start, s=110, marker="s", facecolors="none",
                         edgecolors="white", linewidths=1.5, zorder=3)
        axis.set_title(panel_title, fontsize=12)
        if colour_map == "gray":
            image_shown = shown
    for row_axis in grid[:, 0]:
        row_axis.set_ylabel("y (px)", fontsize=10)
    for column_axis in grid[1, :2]:  # on the lower row only: an upper label would meet the lower titles
        column_axis.set_xlabel("x (px)", fontsize=10)
    crop_classes = sorted({int(value) for picture in [truth, *predictions.values()]
                           for value in picture[rows, columns].unique()})
    legend_axis = grid.flat[-1]
    legend_axis.axis("off")
    legend_axis.legend(handles=[*(Patch(facecolor=colorize(torch.tensor([[index]]))[0, 0] / 255, edgecolor="black",
                                        label="background" if index == 0 else f"digit {class_names[index]}")
                                  for index in crop_classes),
                                Patch(facecolor=np.array(HALO_COLOUR) / 255, edgecolor="black",
                                      label="halo (ringed): background\npredicted as a digit"),
                                Patch(facecolor=np.array(MISSED_COLOUR) / 255, edgecolor="black",
                                      label="missed: a true stroke\npixel predicted as background"),
                                Patch(facecolor="none", edgecolor="cyan", linewidth=1.5,
                                      label="cyan line: the true\nstroke's outline")],
                       loc="upper center", fontsize=11)
    image_axis = grid.flat[0]  # the colour bar hangs just under the image panel's x ticks, the panel keeps its size
    figure.colorbar(image_shown, cax=image_axis.inset_axes([0.0, -0.19, 1.0, 0.04]), orientation="horizontal",
                    label="intensity (pixel value)")
    figure.get_layout_engine().set(hspace=0.1)  # the layout ignores the inset: room for it above the lower titles
    figure.suptitle(title, fontsize=13)
    return crop_halo, crop_classes
