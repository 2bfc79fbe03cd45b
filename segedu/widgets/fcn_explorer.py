"""Look inside FCN's decoder: the class scores after conv7, after adding pool4 and after adding pool3.

The explorer can also switch a skip branch off (its score layer then adds zeros), to see how much the
final prediction and its boundary band owe to each branch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from segedu.analysis.fcn_stages import FUSED_INPUT_OF, SKIP_BRANCHES, fcn_score_maps
from segedu.models.fcn import FCN
from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc

__all__ = ["STAGE_LABELS", "fcn_explorer"]

# Decoder stages, coarse to fine, with the labels the widget shows.
STAGE_LABELS: dict[str, str] = {
    "conv7": "conv7 scores (1/32)",
    "fused_pool4": "+ pool4 (1/16)",
    "fused_pool3": "+ pool3 (1/8)",
    "final": "final (1/1)",
}


def _blocks(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Enlarge a coarse label map by pixel repetition to cover ``height x width``."""
    repeat_y, repeat_x = -(-height // labels.shape[0]), -(-width // labels.shape[1])  # ceil division
    return labels.repeat(repeat_y, axis=0).repeat(repeat_x, axis=1)[:height, :width]


def fcn_explorer(models: Mapping[str, FCN], dataset: Any, *, index: int = 0, scale: int = 4) -> WidgetPanel:
    """Pick a scene, an FCN variant and a decoder stage; see that stage's class map and the prediction.

    The stage image shows the arg-max class of the chosen stage's scores, one block per score-map
    cell (a 64-pixel scene gives 2x2 blocks after conv7, 4x4 after pool4, 8x8 after pool3). Two
    check boxes switch the pool4 and pool3 skip branches off
    (:func:`segedu.analysis.fcn_stages.skip_branches_off`; a branch the chosen variant lacks is
    greyed out); the last image shows the prediction's mistakes in the 2-pixel boundary band (white).

    Args:
        models: FCNs by display name, e.g. ``{"FCN-32s": fcn32, "FCN-8s": fcn8}``; put in eval mode.
        dataset: Segmentation dataset of ``(image, mask)`` pairs the models were trained for.
        index: Scene shown first.
        scale: Display enlargement of each pixel.

    Returns:
        A panel with controls ``"index"``, ``"variant"``, ``"stage"``, ``"pool4"``, ``"pool3"`` (True:
        the branch is on), images ``"image"``, ``"truth"``, ``"stage"``, ``"prediction"``,
        ``"band_errors"``, and state ``index``, ``variant``, ``stage``, ``stages_available``,
        ``stage_shape`` (rows, columns of the chosen score map), ``off`` (the branches switched off
        in the chosen model), ``pixel_accuracy`` and ``band_accuracy`` (of the final prediction on
        this scene, over all pixels and in the boundary band).
    """
    import ipywidgets as widgets

    from segedu.plots.masks import colorize
    from segedu.training.metrics import boundary_band

    if not models:
        raise ValueError("models must name at least one FCN, e.g. {'FCN-8s': model}")
    if not 0 <= index < len(dataset):
        raise ValueError(f"index must be in [0, {len(dataset)}), got {index}")
    names = list(models)
    slider = widgets.IntSlider(value=index, min=0, max=len(dataset) - 1, description="scene")
    variant = widgets.Dropdown(options=names, value=names[0], description="model")
    stage = widgets.ToggleButtons(description="stage")
    branch_boxes = {branch: widgets.Checkbox(value=True, description=f"{branch} branch on", indent=False)
                    for branch in SKIP_BRANCHES}
    views = {name: widgets.Image(format="png")
             for name in ("image", "truth", "stage", "prediction", "band_errors")}
    caption = widgets.Label()
    panel = WidgetPanel(
        widgets.VBox([slider, variant, stage, widgets.HBox(list(branch_boxes.values())),
                      widgets.HBox(list(views.values())), caption]),
        {"index": slider, "variant": variant, "stage": stage, **branch_boxes},
        views,
    )
    updating = {"options": False}

    def set_stage_options() -> None:
        model = models[variant.value]
        available = [key for key in STAGE_LABELS if key in ("conv7", "final") or key in _fused_stages(model)]
        keep = stage.value if stage.value in available else "final"
        updating["options"] = True  # changing options fires value events: draw once, afterwards
        stage.options = [(STAGE_LABELS[key], key) for key in available]
        stage.value = keep
        updating["options"] = False
        panel.state["stages_available"] = available
        for branch, box in branch_boxes.items():
            box.disabled = not hasattr(model, SKIP_BRANCHES[branch])

    def show(change: Any = None) -> None:
        if updating["options"]:
            return
        model = models[variant.value]
        image, mask = dataset[slider.value]
        off = tuple(branch for branch, box in branch_boxes.items()
                    if not box.value and hasattr(model, SKIP_BRANCHES[branch]))
        maps = fcn_score_maps(model, image[None], off)
        height, width = mask.shape
        chosen = maps[stage.value][0].argmax(0).numpy()  # (h, w) coarse labels
        prediction = maps["final"][0].argmax(0)  # (H, W)
        accuracy = float((prediction == mask).float().mean())
        band = boundary_band(mask[None], 2)[0]  # (H, W) bool
        band_errors = band & (prediction != mask)
        band_accuracy = 1 - float(band_errors.sum()) / max(int(band.sum()), 1)
        views["image"].value = array_to_png(image_to_hwc(image), scale=scale)
        views["truth"].value = array_to_png(colorize(mask), scale=scale)
        views["stage"].value = array_to_png(colorize(_blocks(chosen, height, width)), scale=scale)
        views["prediction"].value = array_to_png(colorize(prediction), scale=scale)
        band_picture = np.where(band_errors.numpy()[..., None], 255, np.where(band.numpy()[..., None], 80, 0))
        views["band_errors"].value = array_to_png(np.repeat(band_picture, 3, axis=2).astype(np.uint8), scale=scale)
        switched = f"; switched off: {', '.join(off)}" if off else ""
        caption.value = (
            f"{variant.value}{switched}, {STAGE_LABELS[stage.value]}: {chosen.shape[0]}x{chosen.shape[1]} score map; "
            f"prediction on this scene: pixel accuracy {accuracy:.3f}, in the boundary band {band_accuracy:.3f} "
            f"(last image: band grey, mistakes in it white)"
        )
        panel.state.update(index=slider.value, variant=variant.value, stage=stage.value, off=off,
                           stage_shape=tuple(chosen.shape), pixel_accuracy=accuracy, band_accuracy=band_accuracy)

    def change_variant(change: Any) -> None:
        set_stage_options()
        show()

    set_stage_options()
    slider.observe(show, names="value")
    stage.observe(show, names="value")
    for box in branch_boxes.values():
        box.observe(show, names="value")
    variant.observe(change_variant, names="value")
    show()
    return panel


def _fused_stages(model: FCN) -> tuple[str, ...]:
    return tuple(FUSED_INPUT_OF[model.variant])
