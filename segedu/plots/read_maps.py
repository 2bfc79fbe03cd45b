"""Pictures of what one output reads: the input positions where its gradient is not zero, and how large it is.

- :data:`UNREAD_COLOR` is the light grey of positions an output never reads, the same grey as
  :mod:`segedu.widgets.atrous_explorer`'s, so static figures and the explorer read alike.
- :func:`read_colormap` is viridis with masked (never read) positions drawn in that grey.
- :func:`read_maps_figure` draws one panel per map: never-read positions grey, read ones on a log colour
  scale with their own colour bar, and the output's own cell outlined in red.

Example:
    >>> import torch
    >>> gradient = torch.zeros(8, 8)
    >>> gradient[::4, ::4] = 1.0
    >>> figure = read_maps_figure({"demo": gradient}, title="demo", marked_cell=(4, 4))
    >>> figure.axes[0].get_title()
    'demo: 4 of 64 read'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from torch import Tensor

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

__all__ = ["UNREAD_COLOR", "read_colormap", "read_maps_figure"]

UNREAD_COLOR = (225 / 255, 225 / 255, 225 / 255)
"""RGB in [0, 1] of a position that is never read (light grey, as in the atrous explorer)."""


def read_colormap() -> Colormap:
    """Viridis with masked values (positions never read) in :data:`UNREAD_COLOR`."""
    from matplotlib import colormaps

    return colormaps["viridis"].with_extremes(bad=UNREAD_COLOR)


def read_maps_figure(
    maps: Mapping[str, Tensor],
    *,
    title: str,
    grid: int = 8,
    marked_cell: tuple[int, int] | None = None,
    colour_label: str = "|gradient|, log scale",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """One panel per map: the positions read (coloured, log scale) and those never read (grey).

    Args:
        maps: Panel title -> ``(S, S)`` non-negative values, e.g. ``|d output / d input|``; 0 means "never read".
            A title may hold a line break; its first line is followed by ``": N of M read"``.
        title: The figure's title.
        grid: Side of the map the output lives on. A panel of side ``S == grid`` is labelled in cells, any other
            in pixels, and ``S`` must be a multiple of ``grid``.
        marked_cell: ``(row, column)`` of the output on the ``grid``; outlined in red in every panel
            (``S // grid`` positions wide).
        colour_label: Label of each colour bar; ``" (grey: 0)"`` is added.
        figsize: Figure size in inches; by default 4 inches per panel by 4.2.

    Returns:
        The figure: for each map one image axis and one colour-bar axis.

    Raises:
        ValueError: If ``maps`` is empty, a map is not square, negative, without any read position, or of a side
            that is not a multiple of ``grid``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    if not maps:
        raise ValueError("maps is empty: pass at least one (S, S) map")
    arrays = {}
    for name, values in maps.items():
        array = np.asarray(values.detach().cpu() if isinstance(values, Tensor) else values, dtype=float)
        if array.ndim != 2 or array.shape[0] != array.shape[1]:
            raise ValueError(f"map {name!r} must be square (S, S); got shape {array.shape}")
        if array.shape[0] % grid:
            raise ValueError(f"map {name!r} has side {array.shape[0]}, not a multiple of grid={grid}")
        if (array < 0).any() or not (array > 0).any():
            raise ValueError(f"map {name!r} must be non-negative with at least one read (> 0) position")
        arrays[name] = array
    figure, axes = plt.subplots(1, len(arrays), figsize=figsize or (4 * len(arrays), 4.2), squeeze=False)
    for axis, (name, array) in zip(axes[0], arrays.items()):
        read = array > 0
        low, high = float(array[read].min()), float(array.max())
        image = axis.imshow(np.ma.masked_equal(array, 0), cmap=read_colormap(),
                            norm=LogNorm(vmin=low, vmax=max(high, low * 1.0001)))
        first, *rest = name.split("\n")
        axis.set_title("\n".join([f"{first}: {int(read.sum())} of {array.size} read", *rest]), fontsize=10)
        unit = "cells" if array.shape[0] == grid else "pixels"
        axis.set_xlabel(f"column ({unit})")
        axis.set_ylabel(f"row ({unit})")
        colour_bar = figure.colorbar(image, ax=axis, fraction=0.046, label=f"{colour_label} (grey: 0)")
        if high > low:
            ticks = np.geomspace(low, high, 4)  # four labelled ticks from the smallest read value to the largest
            colour_bar.set_ticks(ticks, labels=[f"{tick:.0e}" for tick in ticks])
            colour_bar.minorticks_off()
        if marked_cell is not None:
            cell = array.shape[0] // grid  # positions per cell of the grid
            row, column = marked_cell
            axis.add_patch(plt.Rectangle((column * cell - 0.5, row * cell - 0.5), cell, cell, fill=False,
                                         edgecolor="red", linewidth=1.5))
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    return figure
