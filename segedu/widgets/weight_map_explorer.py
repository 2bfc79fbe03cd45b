"""Tweak U-Net's weight map (w0, sigma, which pixels) and watch where the loss puts its weight."""

from __future__ import annotations

from typing import Any

import numpy as np

from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc

__all__ = ["weight_map_explorer"]

_W0_MAX = 20.0


def weight_map_explorer(
    dataset: Any,
    *,
    index: int = 0,
    w0: float = 10.0,
    sigma: float = 5.0,
    where: str = "background",
    scale: int = 3,
) -> WidgetPanel:
    """Show a shape scene, its instances and :func:`segedu.analysis.weight_map.unet_weight_map` (``w_c = 1``).

    The weight map is drawn on one fixed colour scale, from 1 (black) to ``1 + 20`` (yellow, the
    largest ``w0`` the slider allows), so raising ``w0`` brightens the gaps and raising ``sigma``
    spreads them.

    Args:
        dataset: A :class:`segedu.datasets.ShapesScenes` (it needs ``sample(i)["instances"]``).
        index: Scene shown first.
        w0: Border weight, in ``[0, 20]``.
        sigma: Fall-off in pixels, in ``[1, 12]``.
        where: ``"background"`` or ``"all"`` (see :func:`segedu.analysis.weight_map.border_weight`).
        scale: Display enlargement of each pixel.

    Returns:
        A panel with the controls ``"index"``, ``"w0"``, ``"sigma"`` and ``"where"``; the images
        ``"image"``, ``"instances"`` and ``"weights"``; and ``state`` with ``largest_weight``,
        ``border_share`` (the part of the scene's total weight that the border term adds) and
        ``heavy_pixels`` (pixels weighing more than 2).
    """
    import ipywidgets as widgets
    from matplotlib import colormaps

    from segedu.analysis.weight_map import unet_weight_map
    from segedu.plots.masks import colorize_instances

    if not 0 <= index < len(dataset):
        raise ValueError(f"index must be in [0, {len(dataset)}), got {index}")
    if not hasattr(dataset, "sample"):
        raise TypeError("dataset must provide sample(i) with an 'instances' map, e.g. ShapesScenes")
    controls = {
        "index": widgets.IntSlider(value=index, min=0, max=len(dataset) - 1, description="scene"),
        "w0": widgets.FloatSlider(value=w0, min=0.0, max=_W0_MAX, step=1.0, description="w0"),
        "sigma": widgets.FloatSlider(value=sigma, min=1.0, max=12.0, step=0.5, description="σ (px)"),
        "where": widgets.Dropdown(options=["background", "all"], value=where, description="border on"),
    }
    names = ("image", "instances", "weights")
    views = {name: widgets.Image(format="png") for name in names}
    titles = ("scene", "instances (one colour per object)", f"weight w(x): black 1, yellow {1 + _W0_MAX:.0f}")
    columns = [widgets.VBox([widgets.Label(title), views[name]]) for name, title in zip(names, titles)]
    caption = widgets.Label()
    panel = WidgetPanel(
        widgets.VBox([widgets.HBox([widgets.VBox(list(controls.values())[:2]),
                                    widgets.VBox(list(controls.values())[2:])]),
                      widgets.HBox(columns), caption]),
        controls, views,
    )
    colour_map = colormaps["inferno"]

    def show(change: Any = None) -> None:
        scene = dataset.sample(controls["index"].value)
        weights = unet_weight_map(scene["instances"], w0=controls["w0"].value, sigma=controls["sigma"].value,
                                  where=controls["where"].value).numpy()  # (H, W)
        shade = np.clip((weights - 1.0) / _W0_MAX, 0.0, 1.0)
        views["image"].value = array_to_png(image_to_hwc(scene["image"]), scale=scale)
        views["instances"].value = array_to_png(colorize_instances(scene["instances"]), scale=scale)
        views["weights"].value = array_to_png(colour_map(shade)[..., :3].astype(np.float32), scale=scale)
        border_share = float((weights - 1.0).sum() / weights.sum())
        heavy = int((weights > 2.0).sum())
        panel.state.update(index=controls["index"].value, largest_weight=float(weights.max()),
                           border_share=border_share, heavy_pixels=heavy)
        caption.value = (f"largest weight {weights.max():.2f}; {heavy} pixels weigh more than 2; the border term "
                         f"adds {border_share:.0%} of the scene's total weight")

    for control in controls.values():
        control.observe(show, names="value")
    show()
    return panel
