"""Browse a segmentation dataset: image, mask and overlay for the scene a slider picks."""

from __future__ import annotations

from typing import Any

import numpy as np

from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc

__all__ = ["scene_browser"]


def scene_browser(dataset: Any, *, index: int = 0, scale: int = 4) -> WidgetPanel:
    """Browse a segmentation dataset: a slider picks a scene, shown as image, mask and overlay.

    Args:
        dataset: Any segedu dataset returning ``(image (C, H, W), mask (H, W))``.
        index: Scene shown first.
        scale: Display enlargement of each pixel.

    Returns:
        A panel with the control ``"index"``, the images ``"image"``, ``"mask"``, ``"overlay"``, and
        ``state`` with ``index`` and ``mask_classes``: the sorted class numbers found in the mask,
        background (0) included (unlike the "classes present" of multi-label classification).
    """
    import ipywidgets as widgets

    from segedu.plots.masks import colorize, overlay

    if not 0 <= index < len(dataset):
        raise ValueError(f"index must be in [0, {len(dataset)}), got {index}")
    slider = widgets.IntSlider(value=index, min=0, max=len(dataset) - 1, description="scene")
    views = {name: widgets.Image(format="png") for name in ("image", "mask", "overlay")}
    caption = widgets.Label()
    panel = WidgetPanel(
        widgets.VBox([slider, widgets.HBox(list(views.values())), caption]), {"index": slider}, views
    )

    def show(change: Any = None) -> None:
        image, mask = dataset[slider.value]
        views["image"].value = array_to_png(image_to_hwc(image), scale=scale)
        views["mask"].value = array_to_png(colorize(mask), scale=scale)
        views["overlay"].value = array_to_png(overlay(image, mask), scale=scale)
        present = sorted({int(value) for value in np.unique(np.asarray(mask))})
        names = [dataset.class_names[value] for value in present if value < len(dataset.class_names)]
        caption.value = f"scene {slider.value}: classes in the mask (background included) = {', '.join(names)}"
        panel.state.update(index=slider.value, mask_classes=present)

    slider.observe(show, names="value")
    show()
    return panel
