"""A legend that names the class colours of :func:`segedu.plots.masks.colorize`.

Example:
    >>> import matplotlib.pyplot as plt
    >>> figure, axis = plt.subplots()
    >>> legend = class_legend(figure, ["background", "circle"])
    >>> [text.get_text() for text in legend.get_texts()]
    ['background', 'circle']
    >>> plt.close(figure)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from segedu.plots.masks import PALETTE

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend

__all__ = ["class_legend"]


def class_legend(figure: Figure, class_names: Sequence[str], *, columns: int | None = None,
                 **legend_options: Any) -> Legend:
    """Add a figure legend with one colour patch per class, in class order (class 0 first).

    Args:
        figure: The figure whose label images were painted with :func:`~segedu.plots.masks.colorize`.
        class_names: Name of class 0, 1, ...; at most 255 names (255 is the ignore colour).
        columns: Columns of the legend; all names in one row by default (at most 11).
        **legend_options: Passed on to ``figure.legend`` (default ``loc="outside lower center"``
            for constrained layouts, ``"lower center"`` otherwise).

    Returns:
        The legend.
    """
    from matplotlib.patches import Patch

    if not 0 < len(class_names) < 256:
        raise ValueError(f"class_names must hold 1 to 255 names; got {len(class_names)}")
    handles = [Patch(facecolor=PALETTE[index] / 255.0, edgecolor="grey", label=str(name))
               for index, name in enumerate(class_names)]
    constrained = figure.get_layout_engine() is not None and type(figure.get_layout_engine()).__name__ == (
        "ConstrainedLayoutEngine")
    options = {"loc": "outside lower center" if constrained else "lower center",
               "ncol": columns or min(len(handles), 11), "frameon": False, **legend_options}
    return figure.legend(handles=handles, **options)
