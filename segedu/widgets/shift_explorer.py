"""Move one shape around and watch a classifier's feature maps and class probabilities respond.

Two sliders place a shape (drawn with :func:`segedu.analysis.probes.place_shape` on a fixed background;
pass the ``radius`` and ``clutter`` the classifier was trained with, so that it sees inputs like its training's);
the panel shows the image, the feature map after each of TinyClassifier's three pooling stages
and the classifier's probability for each class. The maps are either the mean over channels or
the *change caused by the shape*: the mean absolute difference from the features of the empty
background, which shows where in each map the shape is "seen".
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from segedu.models import TinyClassifier
from segedu.analysis.probes import classifier_activations, place_shape
from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc

__all__ = ["VIEWS", "shift_explorer"]

VIEWS = ("change caused by the shape", "mean over channels")
_STAGES = ("stage1", "stage2", "stage3")
_OUTSIDE = (-1000.0, -1000.0)  # a centre far outside the image: the empty background


@functools.lru_cache(maxsize=None)
def _viridis() -> np.ndarray:
    """The viridis colour map as a (256, 3) uint8 lookup table."""
    from matplotlib import colormaps

    return (colormaps["viridis"](np.linspace(0.0, 1.0, 256))[:, :3] * 255).round().astype(np.uint8)


def _colour_map(values: np.ndarray) -> np.ndarray:
    """(h, w) floats -> (h, w, 3) uint8, scaled so the map's own maximum is yellow."""
    top = float(values.max())
    scaled = values / top if top > 0 else np.zeros_like(values)
    return _viridis()[(np.clip(scaled, 0.0, 1.0) * 255).round().astype(np.int64)]


def _centre_of_mass(weights: torch.Tensor, stride: int) -> tuple[float, float]:
    """Weighted mean (row, column) of an (h, w) map, in input pixels (cell k covers k*stride ...)."""
    total = float(weights.sum())
    if total == 0.0:
        return (float("nan"), float("nan"))
    rows = (torch.arange(weights.shape[0]) + 0.5) * stride  # (h,) cell centres
    columns = (torch.arange(weights.shape[1]) + 0.5) * stride  # (w,)
    row = float((weights.sum(dim=1) * rows).sum()) / total
    column = float((weights.sum(dim=0) * columns).sum()) / total
    return (round(row, 1), round(column, 1))


def _probability_bars(names: Sequence[str], probabilities: Sequence[float]) -> str:
    """HTML bars, one per class, as wide as its probability."""
    rows = []
    for name, probability in zip(names, probabilities):
        rows.append(
            f"<div style='display:flex;align-items:center;gap:6px;font-family:monospace'>"
            f"<span style='width:70px'>{name}</span>"
            f"<span style='display:inline-block;width:160px;height:12px;background:#ddd'>"
            f"<span style='display:block;width:{100 * probability:.0f}%;height:12px;background:#3b75af'></span></span>"
            f"<span>{probability:.2f}</span></div>"
        )
    return "<b>classifier: probability of each class</b>" + "".join(rows)


def shift_explorer(
    model: TinyClassifier,
    class_names: Sequence[str],
    *,
    class_index: int = 1,
    center: tuple[int, int] = (32, 32),
    seed: int = 0,
    scale: int = 3,
    radius: float | None = None,
    clutter: bool = True,
) -> WidgetPanel:
    """Move a shape with two sliders; see TinyClassifier's feature maps and class probabilities.

    Args:
        model: A trained TinyClassifier for multi-label presence (sigmoid of each score); it is
            switched to evaluation mode.
        class_names: Names of the model's outputs; output ``k`` is shape class ``k + 1``
            (circle, square, triangle), as with :func:`segedu.analysis.probes.presence_targets`.
        class_index: The shape drawn first (1 circle, 2 square, 3 triangle).
        center: ``(row, column)`` of the shape at the start.
        seed: Chooses the background and colour (fixed while the shape moves).
        scale: Display enlargement of the input; feature maps are shown at the same size.
        radius: Radius in pixels of the circle with the shape's area (default: ``place_shape``'s,
            ``0.13 * image_size``); use one inside the range the classifier was trained on.
        clutter: Draw the background's thin lines (``False``: the smooth gradient alone).

    Returns:
        A panel with controls ``"row"``, ``"column"``, ``"shape"``, ``"view"``, images
        ``"image"``, ``"stage1"``, ``"stage2"``, ``"stage3"``, and state ``center``,
        ``shape``, ``probabilities`` (class name -> probability) and ``change_centres`` (stage
        name -> ``(row, column)`` in input pixels: the centre of mass of the change the shape
        causes in that stage's map, i.e. where the stage "sees" the shape).
    """
    import ipywidgets as widgets

    size = model.image_size
    if len(class_names) != model.num_classes:
        raise ValueError(f"class_names must name the model's {model.num_classes} outputs; got {len(class_names)}")
    if not 1 <= class_index <= model.num_classes:
        raise ValueError(f"class_index must be in [1, {model.num_classes}]; got {class_index}")
    if not all(0 <= value < size for value in center):
        raise ValueError(f"center must lie inside the {size}x{size} image; got {center}")
    if radius is not None and not 0 < radius < size:
        raise ValueError(f"radius must be in (0, {size}) pixels; got {radius}")
    draw = functools.partial(place_shape, size=size, radius=radius, seed=seed, channels=model.in_channels,
                             clutter=clutter)
    model.eval()
    rows = widgets.IntSlider(value=center[0], min=0, max=size - 1, description="row")
    columns = widgets.IntSlider(value=center[1], min=0, max=size - 1, description="column")
    shapes = widgets.Dropdown(options=[(name, k + 1) for k, name in enumerate(class_names)], value=class_index,
                              description="shape")
    view = widgets.ToggleButtons(options=VIEWS, value=VIEWS[0], description="maps")
    views = {name: widgets.Image(format="png") for name in ("image", *_STAGES)}
    titles = ["input", "after stage 1 (pool 1)", "after stage 2 (pool 2)", "after stage 3 (pool 3)"]
    columns_box = [widgets.VBox([widgets.Label(title), views[name]]) for title, name in zip(titles, views)]
    bars = widgets.HTML()
    panel = WidgetPanel(
        widgets.VBox([widgets.HBox([rows, columns, shapes]), view, widgets.HBox(columns_box), bars]),
        {"row": rows, "column": columns, "shape": shapes, "view": view},
        views,
    )

    # The same seed gives the same background and colour whatever the shape and its position.
    empty, _ = draw(class_index, _OUTSIDE)
    background = classifier_activations(model, empty[None])  # features of the background alone

    def show(change: Any = None) -> None:
        position = (float(rows.value) + 0.5, float(columns.value) + 0.5)  # the centre of the chosen pixel
        image, _ = draw(shapes.value, position)
        activations = classifier_activations(model, image[None])
        views["image"].value = array_to_png(image_to_hwc(image), scale=scale)
        centres = {}
        for name in _STAGES:
            features = activations[name][0]  # (C, h, w)
            change = (features - background[name][0]).abs().mean(dim=0)  # (h, w): where the shape is seen
            shown = change if view.value == VIEWS[0] else features.mean(dim=0)  # (h, w)
            stride = size // change.shape[0]  # input pixels per cell
            centres[name] = _centre_of_mass(change, stride)
            views[name].value = array_to_png(_colour_map(shown.numpy()), scale=scale * stride)
        probabilities = torch.sigmoid(activations["scores"][0]).tolist()
        bars.value = _probability_bars(class_names, probabilities)
        panel.state.update(
            center=(rows.value, columns.value),
            shape=class_names[shapes.value - 1],
            probabilities={name: round(p, 4) for name, p in zip(class_names, probabilities)},
            change_centres=centres,
        )

    for control in (rows, columns, shapes, view):
        control.observe(show, names="value")
    show()
    return panel
