"""Tweak a paired augmentation (zoom, flip, elastic warp) and watch the image and its mask change together.

A toggle resamples the mask as a picture instead (bilinear, then rounded), the mistake that invents labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc

__all__ = ["augmentation_explorer"]

_IGNORE_INDEX = 255
_MASK_RESAMPLING = ("nearest", "bilinear")


def augmentation_explorer(
    dataset: Any,
    *,
    index: int = 0,
    zoom: float = 0.2,
    alpha: float = 40.0,
    sigma: float = 4.0,
    flip: bool = False,
    draw: int = 0,
    mask_resampling: str = "nearest",
    scale: int = 3,
) -> WidgetPanel:
    """Show one scene before and after :func:`segedu.datasets.transforms.training_transforms`.

    The augmentation zooms by a random factor in ``[1 - zoom, 1 + zoom]``, crops (or pads) back to the
    scene's size, optionally mirrors it, and warps it elastically (``alpha``: strength, ``sigma``:
    smoothness of the displacement field in pixels; ``alpha = 0`` switches the warp off). ``draw``
    seeds the random choices, so the same settings always give the same picture. ``mask_resampling``
    chooses how the mask follows: ``"nearest"`` (the paired transform: nearest neighbour, so no label is
    invented) or ``"bilinear"`` (the mask treated as a picture in the same draw: resampled bilinearly and
    rounded to whole classes, which blends neighbouring class numbers into labels that were not there).

    Args:
        dataset: A segedu dataset returning ``(image (C, H, W), mask (H, W))`` with square scenes.
        index: Scene shown first.
        zoom: Largest relative zoom, in ``[0, 0.5]``.
        alpha: Elastic strength, in ``[0, 200]``.
        sigma: Elastic smoothness in pixels, in ``[1, 12]``.
        flip: Allow a left-right mirror (with probability 1/2).
        draw: Seed of the random draw.
        mask_resampling: ``"nearest"`` or ``"bilinear"`` (bilinear, then rounded).
        scale: Display enlargement of each pixel.

    Returns:
        A panel with the controls ``"index"``, ``"zoom"``, ``"alpha"``, ``"sigma"``, ``"flip"``,
        ``"draw"`` and ``"mask_resampling"``; the images ``"image"``, ``"mask"``,
        ``"augmented_image"``, ``"augmented_mask"``; and
        ``state`` with ``labels_before`` and ``labels_after`` (sorted class numbers, 255 = ignored),
        ``invented_labels`` (labels after that were not there before, 255 excepted: empty for a mask
        resampled by nearest neighbour, not for one resampled bilinearly), ``mask_resampling``,
        ``ignored_share`` (pixels pulled in from outside the scene)
        and ``changed_share`` (mask pixels whose label changed).
    """
    import ipywidgets as widgets
    from torchvision import tv_tensors

    from segedu.datasets.transforms import training_transforms
    from segedu.plots.masks import colorize

    if not 0 <= index < len(dataset):
        raise ValueError(f"index must be in [0, {len(dataset)}), got {index}")
    if mask_resampling not in _MASK_RESAMPLING:
        raise ValueError(f"mask_resampling must be one of {_MASK_RESAMPLING}, got {mask_resampling!r}")
    controls = {
        "index": widgets.IntSlider(value=index, min=0, max=len(dataset) - 1, description="scene"),
        "zoom": widgets.FloatSlider(value=zoom, min=0.0, max=0.5, step=0.05, description="zoom ±"),
        "alpha": widgets.FloatSlider(value=alpha, min=0.0, max=200.0, step=10.0, description="elastic α"),
        "sigma": widgets.FloatSlider(value=sigma, min=1.0, max=12.0, step=0.5, description="elastic σ"),
        "flip": widgets.Checkbox(value=flip, description="allow flips"),
        "draw": widgets.IntSlider(value=draw, min=0, max=50, description="random draw"),
        "mask_resampling": widgets.ToggleButtons(
            options=[("mask: nearest (paired)", "nearest"), ("mask: bilinear, rounded", "bilinear")],
            value=mask_resampling, description="",
        ),
    }
    names = ("image", "mask", "augmented_image", "augmented_mask")
    views = {name: widgets.Image(format="png") for name in names}
    titles = ("scene", "mask", "augmented scene", "augmented mask (white: ignored, 255)")
    columns = [widgets.VBox([widgets.Label(title), views[name]]) for name, title in zip(names, titles)]
    caption = widgets.Label()
    panel = WidgetPanel(
        widgets.VBox([widgets.HBox([widgets.VBox(list(controls.values())[:3]),
                                    widgets.VBox(list(controls.values())[3:])]),
                      widgets.HBox(columns), caption]),
        controls, views,
    )

    def show(change: Any = None) -> None:
        image, mask = dataset[controls["index"].value]
        warp = None if controls["alpha"].value == 0 else (controls["alpha"].value, controls["sigma"].value)
        augment = training_transforms(tuple(mask.shape), scale=(1 - controls["zoom"].value, 1 + controls["zoom"].value),
                                      flip=controls["flip"].value, elastic=warp)
        with torch.random.fork_rng():  # the learner's own random stream is left as it was
            torch.manual_seed(controls["draw"].value)
            # one draw for three inputs: the image, the mask as a picture (bilinear) and the mask (nearest)
            new_image, as_picture, new_mask = (value.as_subclass(torch.Tensor) for value in augment.transform(
                tv_tensors.Image(image), tv_tensors.Image(mask[None].float()), tv_tensors.Mask(mask)))
        if controls["mask_resampling"].value == "bilinear":
            # rounded to whole classes; where the paired mask is ignored (padding), the picture is too
            new_mask = torch.where(new_mask == _IGNORE_INDEX, new_mask, as_picture[0].round().to(mask.dtype))
        views["image"].value = array_to_png(image_to_hwc(image), scale=scale)
        views["mask"].value = array_to_png(colorize(mask), scale=scale)
        views["augmented_image"].value = array_to_png(image_to_hwc(new_image), scale=scale)
        views["augmented_mask"].value = array_to_png(colorize(new_mask), scale=scale)
        before = sorted(int(value) for value in np.unique(mask.numpy()))
        after = sorted(int(value) for value in np.unique(new_mask.numpy()))
        invented = sorted(set(after) - set(before) - {_IGNORE_INDEX})
        ignored = float((new_mask == _IGNORE_INDEX).float().mean())
        changed = float((new_mask != mask).float().mean())
        panel.state.update(index=controls["index"].value, mask_resampling=controls["mask_resampling"].value,
                           labels_before=before, labels_after=after,
                           invented_labels=invented, ignored_share=ignored, changed_share=changed)
        caption.value = (f"labels before {before}, after {after}; invented: {invented or 'none'}; "
                         f"{ignored:.0%} of the pixels ignored, {changed:.0%} of the labels changed")

    for control in controls.values():
        control.observe(show, names="value")
    show()
    return panel
