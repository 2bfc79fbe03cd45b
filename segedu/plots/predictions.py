"""One figure of scenes and what several models predicted for them.

Example:
    >>> figure = prediction_grid(images, masks, {"FCN-8s": fcn8s_maps, "U-Net": unet_maps})  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from segedu.plots.class_legend import class_legend
from segedu.plots.masks import colorize
from segedu.plots.pictures import to_picture

if TYPE_CHECKING:
    import torch
    from matplotlib.figure import Figure

__all__ = ["prediction_grid"]


def prediction_grid(
    images: Sequence[torch.Tensor],
    masks: Sequence[torch.Tensor],
    predictions: Mapping[str, Sequence[torch.Tensor]],
    *,
    class_names: Sequence[str] | None = None,
    row_labels: Sequence[str] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    legend_space: float | None = None,
) -> Figure:
    """Plot one row per scene: the image, the true mask, then each model's predicted mask.

    Args:
        images: One ``(C, H, W)`` image per row (``C`` = 1 or 3, values in [0, 1]).
        masks: One ``(H, W)`` true class mask per row.
        predictions: Model name -> one ``(H, W)`` predicted class mask per row; one column each,
            in the mapping's order, titled with the name.
        class_names: Name of class 0, 1, ...; adds a class legend under the grid.
        row_labels: One label per row, written left of the image.
        title: A title over the whole figure.
        figsize: Figure size in inches; by default 1.6 per column and 1.75 per row.
        legend_space: Share of the figure height kept free at the bottom for legends; 0.08 by
            default when ``class_names`` is given, else 0 (give it to add your own legends).

    Returns:
        The matplotlib figure (close it with ``matplotlib.pyplot.close(figure)``).
    """
    import matplotlib.pyplot as plt

    rows = len(images)
    if rows == 0:
        raise ValueError("images must hold at least one image; got an empty sequence")
    if len(masks) != rows:
        raise ValueError(f"masks must hold one mask per image: got {len(masks)} masks for {rows} images")
    for name, predicted in predictions.items():
        if len(predicted) != rows:
            raise ValueError(f"predictions[{name!r}] must hold one mask per image: got {len(predicted)} "
                             f"for {rows} images")
    if row_labels is not None and len(row_labels) != rows:
        raise ValueError(f"row_labels must hold one label per image: got {len(row_labels)} for {rows} images")
    for row in range(rows):
        shape = tuple(masks[row].shape)
        if len(shape) != 2:
            raise ValueError(f"masks[{row}] must be an (H, W) class mask; got shape {shape}")
        if tuple(images[row].shape[-2:]) != shape:
            raise ValueError(f"images[{row}] has size {tuple(images[row].shape[-2:])} but masks[{row}] has {shape}; "
                             "give each image with its own mask")
        for name, predicted in predictions.items():
            if tuple(predicted[row].shape) != shape:
                raise ValueError(f"predictions[{name!r}][{row}] has shape {tuple(predicted[row].shape)} but "
                                 f"masks[{row}] has {shape}; predict class numbers (argmax over classes) per pixel")
    columns = 2 + len(predictions)
    figure, axes = plt.subplots(rows, columns, figsize=figsize or (1.6 * columns, 1.75 * rows), squeeze=False)
    for row in range(rows):
        axes[row, 0].imshow(to_picture(images[row]))
        axes[row, 1].imshow(colorize(masks[row]))
        for column, predicted in enumerate(predictions.values(), start=2):
            axes[row, column].imshow(colorize(predicted[row]))
        if row_labels is not None:
            axes[row, 0].set_ylabel(row_labels[row])
    for column, column_title in enumerate(["image", "truth", *predictions]):
        axes[0, column].set_title(column_title)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    if title is not None:
        figure.suptitle(title)
    if legend_space is None:
        legend_space = 0.08 if class_names else 0.0
    figure.tight_layout(rect=(0, legend_space, 1, 1))
    if class_names:
        class_legend(figure, class_names)
    return figure
