"""Look inside FCN's decoder: the class scores after conv7, after adding pool4 and after adding pool3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from segedu.analysis.hooks import recording
from segedu.models.fcn import FCN
from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc

__all__ = ["STAGE_LABELS", "fcn_explorer", "fcn_score_maps"]

# Decoder stages, coarse to fine, with the labels the widget shows.
STAGE_LABELS: dict[str, str] = {
    "conv7": "conv7 scores (1/32)",
    "fused_pool4": "+ pool4 (1/16)",
    "fused_pool3": "+ pool3 (1/8)",
    "final": "final (1/1)",
}


# Fused score maps are the inputs of the upsampler that follows each sum in FCN.forward.
_FUSED_INPUT_OF: dict[str, dict[str, str]] = {
    "32s": {},
    "16s": {"fused_pool4": "upscore16"},
    "8s": {"fused_pool4": "upscore_pool4", "fused_pool3": "upscore8"},
}


@torch.no_grad()
def fcn_score_maps(model: FCN, images: Tensor) -> dict[str, Tensor]:
    """Run an FCN once and keep the class scores of every decoder stage.

    The scores are recorded from the model's own layers (:func:`segedu.analysis.hooks.recording`):
    the output of ``score_fr`` and the inputs of the upsamplers that follow each skip sum.

    Args:
        model: An :class:`~segedu.models.FCN` of any variant (its train/eval mode is used as is).
        images: A batch of images.

    Returns:
        ``"conv7"`` (scores of conv7, 1/32), ``"fused_pool4"`` (16s and 8s: upsampled conv7
        scores + pool4 scores, 1/16), ``"fused_pool3"`` (8s only, 1/8) and ``"final"``, which
        is ``model(images)``.

    Shape:
        images ``(B, C, H, W)`` -> maps ``(B, K, H' / s, W' / s)`` for stride ``s`` (H' = H padded to
        a multiple of 32), and ``"final"`` ``(B, K, H, W)``.
    """
    if not isinstance(model, FCN):
        raise TypeError(f"fcn_score_maps expects a segedu.models.FCN; got {type(model).__name__}")
    fused_inputs = _FUSED_INPUT_OF[model.variant]
    upsamplers = list(fused_inputs.values())
    with recording(model, ["score_fr"]) as outputs, recording(model, upsamplers, inputs=True) as inputs:
        final = model(images)  # (B, K, H, W)
    maps = {"conv7": outputs["score_fr"]}  # (B, K, H'/32, W'/32)
    maps.update({stage: inputs[upsampler] for stage, upsampler in fused_inputs.items()})  # 1/16, 1/8
    maps["final"] = final
    return maps


def _blocks(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Enlarge a coarse label map by pixel repetition to cover ``height x width``."""
    repeat_y, repeat_x = -(-height // labels.shape[0]), -(-width // labels.shape[1])  # ceil division
    return labels.repeat(repeat_y, axis=0).repeat(repeat_x, axis=1)[:height, :width]


def fcn_explorer(models: Mapping[str, FCN], dataset: Any, *, index: int = 0, scale: int = 4) -> WidgetPanel:
    """Pick a scene, an FCN variant and a decoder stage; see that stage's class map and the prediction.

    The stage image shows the arg-max class of the chosen stage's scores, one block per score-map
    cell (a 64-pixel scene gives 2x2 blocks after conv7, 4x4 after pool4, 8x8 after pool3).

    Args:
        models: FCNs by display name, e.g. ``{"FCN-32s": fcn32, "FCN-8s": fcn8}``; put in eval mode.
        dataset: Segmentation dataset of ``(image, mask)`` pairs the models were trained for.
        index: Scene shown first.
        scale: Display enlargement of each pixel.

    Returns:
        A panel with controls ``"index"``, ``"variant"``, ``"stage"``, images ``"image"``, ``"truth"``,
        ``"stage"``, ``"prediction"``, and state ``index``, ``variant``, ``stage``,
        ``stages_available``, ``stage_shape`` (rows, columns of the chosen score map) and
        ``pixel_accuracy`` (of the final prediction on this scene).
    """
    import ipywidgets as widgets

    from segedu.plots.masks import colorize

    if not models:
        raise ValueError("models must name at least one FCN, e.g. {'FCN-8s': model}")
    if not 0 <= index < len(dataset):
        raise ValueError(f"index must be in [0, {len(dataset)}), got {index}")
    names = list(models)
    slider = widgets.IntSlider(value=index, min=0, max=len(dataset) - 1, description="scene")
    variant = widgets.Dropdown(options=names, value=names[0], description="model")
    stage = widgets.ToggleButtons(description="stage")
    views = {name: widgets.Image(format="png") for name in ("image", "truth", "stage", "prediction")}
    caption = widgets.Label()
    panel = WidgetPanel(
        widgets.VBox([slider, variant, stage, widgets.HBox(list(views.values())), caption]),
        {"index": slider, "variant": variant, "stage": stage},
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

    def show(change: Any = None) -> None:
        if updating["options"]:
            return
        model = models[variant.value]
        image, mask = dataset[slider.value]
        maps = fcn_score_maps(model, image[None])
        height, width = mask.shape
        chosen = maps[stage.value][0].argmax(0).numpy()  # (h, w) coarse labels
        prediction = maps["final"][0].argmax(0)  # (H, W)
        accuracy = float((prediction == mask).float().mean())
        views["image"].value = array_to_png(image_to_hwc(image), scale=scale)
        views["truth"].value = array_to_png(colorize(mask), scale=scale)
        views["stage"].value = array_to_png(colorize(_blocks(chosen, height, width)), scale=scale)
        views["prediction"].value = array_to_png(colorize(prediction), scale=scale)
        caption.value = (
            f"{variant.value}, {STAGE_LABELS[stage.value]}: {chosen.shape[0]}x{chosen.shape[1]} score map; "
            f"pixel accuracy of the prediction on this scene {accuracy:.3f}"
        )
        panel.state.update(index=slider.value, variant=variant.value, stage=stage.value,
                           stage_shape=tuple(chosen.shape), pixel_accuracy=accuracy)

    def change_variant(change: Any) -> None:
        set_stage_options()
        show()

    set_stage_options()
    slider.observe(show, names="value")
    stage.observe(show, names="value")
    variant.observe(change_variant, names="value")
    show()
    return panel


def _fused_stages(model: FCN) -> tuple[str, ...]:
    return tuple(_FUSED_INPUT_OF[model.variant])
