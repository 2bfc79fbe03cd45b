"""Compare several segmentation models on the same scene: predictions side by side, errors near boundaries.

:func:`model_comparison`: a slider picks a scene; every model's prediction is shown next to the image and the true mask.
The *errors* view paints each model's wrong pixels red over the dimmed image and tints the
boundary band (pixels within ``band_width`` of a class boundary, :func:`segedu.training.metrics.boundary_band`)
blue, so you can see whether a model's mistakes sit on the edges or inside objects. Each
model's accuracy on the scene is given overall, in the band and in the interior.

Each scene is run through every model once; changing the view or the band width reuses those
predictions.

:func:`feature_maps_per_model`: the feature-map explorer (:mod:`segedu.widgets.feature_maps`) for
one model at a time, picked from a menu; each model's explorer is built the first time it is picked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc

__all__ = ["VIEWS", "error_picture", "feature_maps_per_model", "model_comparison"]

VIEWS = ("prediction", "errors")
"""What each model's picture shows: its predicted classes, or its mistakes."""

_WRONG = np.array([220, 30, 30], dtype=np.uint8)  # red: wrong pixels
_BAND = np.array([70, 130, 220], dtype=np.float32)  # blue tint: the boundary band


def _grey(image: Tensor) -> np.ndarray:
    """(C, H, W) in [0, 1] -> (H, W, 3) float grey picture in [0, 255]."""
    array = image_to_hwc(image.detach().cpu().clamp(0, 1))  # (H, W, C)
    return np.repeat(array.mean(axis=2, keepdims=True), 3, axis=2) * 255.0


def error_picture(image: Tensor, prediction: Tensor, mask: Tensor, band: Tensor, *,
                  ignore_index: int = 255) -> np.ndarray:
    """Wrong pixels in red over the dimmed image, the boundary band tinted blue.

    Args:
        image: The input, float in [0, 1].
        prediction: Predicted classes.
        mask: True classes; ``ignore_index`` pixels never count as wrong.
        band: Bool mask of the boundary band.
        ignore_index: Mask value that is not scored.

    Returns:
        ``(H, W, 3)`` uint8 picture.

    Shape:
        image ``(C, H, W)``; prediction, mask, band ``(H, W)``.
    """
    picture = 0.45 * _grey(image) + 40.0  # (H, W, 3), dimmed so the colours stand out
    band_array = band.cpu().numpy().astype(bool)
    picture[band_array] = 0.5 * picture[band_array] + 0.5 * _BAND
    wrong = ((prediction != mask) & (mask != ignore_index)).cpu().numpy()
    picture = picture.round().clip(0, 255).astype(np.uint8)
    picture[wrong] = _WRONG
    return picture


def _accuracy(correct: Tensor, where: Tensor) -> float:
    """Fraction of ``where`` pixels that are ``correct`` (NaN when there are none)."""
    count = int(where.sum())
    return float((correct & where).sum()) / count if count else float("nan")


def _percent(value: float) -> str:
    return "–" if value != value else f"{100 * value:.1f}%"


def model_comparison(
    models: Mapping[str, nn.Module],
    samples: Any,
    *,
    sample: int = 0,
    view: str = "prediction",
    band_width: int = 2,
    scale: int = 3,
    ignore_index: int = 255,
) -> WidgetPanel:
    """Build the side-by-side comparison of ``models`` on the scenes of ``samples``.

    Args:
        models: Display name -> segmentation model (logits ``(B, K, H, W)``), all taking the
            samples' number of channels; e.g. ``{"fcn32s": ..., "unet": ...}``.
        samples: Dataset of ``(image, mask)`` pairs.
        sample: Scene shown first.
        view: ``"prediction"`` or ``"errors"`` (see :data:`VIEWS`).
        band_width: Half-width of the boundary band in pixels (1 to 8).
        scale: Display enlargement of each pixel.
        ignore_index: Mask value that is not scored.

    Returns:
        A panel with controls ``"sample"``, ``"view"``, ``"band_width"``; images ``"image"``,
        ``"truth"`` and one per model name; and state ``sample``, ``view``, ``band_width``,
        ``band_pixels`` (pixels in the band), ``accuracy`` (model name -> dict with ``all``,
        ``band`` and ``interior`` pixel accuracy on this scene), ``wrong_pixels`` (model name ->
        count), ``best_in_band`` (the model with the highest band accuracy) and
        ``forward_passes`` (how many scenes have been run through the models).

    Raises:
        ValueError: For no models, an empty dataset, or values out of range.
    """
    import ipywidgets as widgets

    from segedu.training.metrics import boundary_band
    from segedu.training.evaluation import predict
    from segedu.plots.masks import colorize

    if not models:
        raise ValueError("models must name at least one model, e.g. {'unet': pretrained('unet', 'shapes')}")
    if len(samples) == 0:
        raise ValueError("samples must hold at least one scene; got an empty dataset")
    if not 0 <= sample < len(samples):
        raise ValueError(f"sample must be in [0, {len(samples)}); got {sample}")
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}; got {view!r}")
    if not 1 <= band_width <= 8:
        raise ValueError(f"band_width must be in [1, 8]; got {band_width}")
    if scale < 1:
        raise ValueError(f"scale must be >= 1; got {scale}")
    names = list(models)
    controls = {
        "sample": widgets.IntSlider(value=sample, min=0, max=len(samples) - 1, description="scene"),
        "view": widgets.ToggleButtons(options=list(VIEWS), value=view, description="show"),
        "band_width": widgets.IntSlider(value=band_width, min=1, max=8, description="band width"),
    }
    views = {name: widgets.Image(format="png") for name in ["image", "truth", *names]}
    captions = {name: widgets.HTML() for name in views}
    summary = widgets.HTML()

    def titled(name: str) -> Any:
        return widgets.VBox([captions[name], views[name]], layout=widgets.Layout(margin="0 12px 8px 0"))

    box = widgets.VBox([
        widgets.HBox([controls["sample"], controls["band_width"]], layout=widgets.Layout(flex_flow="row wrap")),
        controls["view"],
        widgets.HBox([titled(name) for name in views], layout=widgets.Layout(flex_flow="row wrap")),
        summary,
    ])
    box.add_class("segedu-model-comparison")
    panel = WidgetPanel(box, controls, views, {"forward_passes": 0})
    cache: dict[int, tuple[Tensor, Tensor, dict[str, Tensor]]] = {}

    def scene(index: int) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        if index not in cache:
            image, mask = samples[index]
            with torch.no_grad():
                predictions = {name: predict(model, image) for name, model in models.items()}  # each (H, W)
            cache.clear()  # one scene at a time: the predictions are cheap to recompute
            cache[index] = (image, torch.as_tensor(mask), predictions)
            panel.state["forward_passes"] += 1
        return cache[index]

    def show(change: Any = None) -> None:
        image, mask, predictions = scene(controls["sample"].value)
        band = boundary_band(mask, controls["band_width"].value)  # (H, W) bool
        scored = mask != ignore_index  # (H, W)
        errors = controls["view"].value == "errors"
        views["image"].value = array_to_png(image_to_hwc(image), scale=scale)
        captions["image"].value = f"<b>scene {controls['sample'].value}</b>"
        if errors:
            truth = colorize(mask).astype(np.float32)
            band_array = band.numpy()
            truth[band_array] = 0.5 * truth[band_array] + 0.5 * _BAND
            views["truth"].value = array_to_png(truth.round().astype(np.uint8), scale=scale)
            captions["truth"].value = f"true mask, band ({int(band.sum())} px) blue"
        else:
            views["truth"].value = array_to_png(colorize(mask), scale=scale)
            captions["truth"].value = "true mask"
        accuracy, wrong_pixels = {}, {}
        for name in names:
            prediction = predictions[name]
            correct = prediction == mask  # (H, W)
            accuracy[name] = {
                "all": _accuracy(correct, scored),
                "band": _accuracy(correct, scored & band),
                "interior": _accuracy(correct, scored & ~band),
            }
            wrong_pixels[name] = int((~correct & scored).sum())
            picture = error_picture(image, prediction, mask, band, ignore_index=ignore_index) if errors \
                else colorize(prediction)
            views[name].value = array_to_png(picture, scale=scale)
            captions[name].value = (
                f"<b>{name}</b>: {_percent(accuracy[name]['all'])}<br>band {_percent(accuracy[name]['band'])}, "
                f"interior {_percent(accuracy[name]['interior'])}"
            )
        in_band = {name: values["band"] for name, values in accuracy.items() if values["band"] == values["band"]}
        best = max(in_band, key=in_band.get) if in_band else None
        summary.value = (
            f"Pixel accuracy on this scene; the band holds the pixels within {controls['band_width'].value} px "
            f"of a class boundary. Best in the band: <b>{best}</b>."
        )
        panel.state.update(
            sample=controls["sample"].value, view=controls["view"].value, band_width=controls["band_width"].value,
            band_pixels=int((band & scored).sum()), accuracy=accuracy, wrong_pixels=wrong_pixels, best_in_band=best,
        )

    for control in controls.values():
        control.observe(show, names="value")
    show()
    return panel


def feature_maps_per_model(
    models: Mapping[str, nn.Module],
    samples: Any,
    *,
    model: str | None = None,
    layers: Mapping[str, str] | None = None,
    **explorer_options: Any,
) -> WidgetPanel:
    """A menu of models above the feature-map explorer of the one picked.

    Explorers are built lazily (the first time a model is picked) and kept, so switching back is
    instant and keeps that explorer's settings.

    Args:
        models: Display name -> segmentation model.
        samples: Dataset of ``(image, mask)`` pairs, as for :func:`~segedu.widgets.feature_maps.feature_map_explorer`.
        model: Name shown first (default: the first one).
        layers: Optional name -> layer each explorer starts at (e.g. its last skip-fusion point).
        **explorer_options: Passed to every explorer (``sample``, ``scale``, ...).

    Returns:
        A panel with the control ``"model"`` and state ``model`` (the name picked), ``explorer``
        (that model's explorer panel: drive it through its own ``controls``) and ``built`` (names
        whose explorer exists, in the order they were built).

    Raises:
        ValueError: For no models, or a ``model`` or ``layers`` key that is not in ``models``.
    """
    import ipywidgets as widgets

    from segedu.widgets.feature_maps import feature_map_explorer

    if not models:
        raise ValueError("models must name at least one model, e.g. {'unet': pretrained('unet', 'shapes')}")
    names = list(models)
    model = names[0] if model is None else model
    layers = dict(layers or {})
    unknown = [name for name in [model, *layers] if name not in models]
    if unknown:
        raise ValueError(f"unknown model name(s) {unknown}; choose from {names}")
    menu = widgets.Dropdown(options=names, value=model, description="model")
    box = widgets.VBox([menu])
    box.add_class("segedu-feature-maps-per-model")
    panel = WidgetPanel(box, {"model": menu}, {}, {"built": []})
    explorers: dict[str, WidgetPanel] = {}

    def show(change: Any = None) -> None:
        name = menu.value
        if name not in explorers:
            explorers[name] = feature_map_explorer(models[name], samples, layer=layers.get(name), **explorer_options)
            panel.state["built"].append(name)
        box.children = (menu, explorers[name].widget)
        panel.images = explorers[name].images
        panel.state.update(model=name, explorer=explorers[name])

    menu.observe(show, names="value")
    show()
    return panel
