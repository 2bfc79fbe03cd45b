"""The small ipywidgets toolkit every lesson widget is built on.

Every widget is built by one function that returns a :class:`WidgetPanel`: the ipywidgets
container to display plus its controls and images by name, so tests (and curious learners)
can set ``panel.controls["index"].value = 3`` and read ``panel.images["mask"].value`` without a
browser. Images are PNG bytes in ``ipywidgets.Image`` views that are updated in place, so a
change never rebuilds a figure (fast, no flicker).

The widgets turn images into pictures with :mod:`segedu.plots.pictures`, under the names they
have always used: :func:`array_to_png` is :func:`segedu.plots.pictures.png_bytes` and
:func:`image_to_hwc` is :func:`segedu.plots.pictures.channels_last`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from segedu.plots.pictures import channels_last as image_to_hwc
from segedu.plots.pictures import png_bytes as array_to_png

__all__ = ["WidgetPanel", "array_to_png", "image_to_hwc"]


@dataclass
class WidgetPanel:
    """A displayable widget with named handles on its controls and images.

    Attributes:
        widget: The ipywidgets container; displaying the panel displays it.
        controls: Sliders, dropdowns, ... by name.
        images: ``ipywidgets.Image`` views by name (their ``.value`` is PNG bytes).
        state: Whatever the panel computed last (for tests and exercises).
    """

    widget: Any
    controls: dict[str, Any] = field(default_factory=dict)
    images: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
