"""Four answers to one scene: classification, detection, semantic and instance segmentation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from segedu.plots.pictures import to_uint8
from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc

__all__ = ["TASKS", "task_views"]

TASKS = ("classification", "detection", "semantic", "instance")


def _label_card(names: list[str], colors: list[np.ndarray], height: int, width: int) -> np.ndarray:
    """A dark (height, width, 3) picture listing class names, each in its class colour."""
    from PIL import Image, ImageDraw, ImageFont

    card = Image.new("RGB", (width, height), (20, 20, 20))
    draw = ImageDraw.Draw(card)
    font_size = max(10, height // 10)
    try:
        font = ImageFont.load_default(size=font_size)
    except TypeError:  # Pillow < 10.1 has only the fixed-size bitmap font
        font = ImageFont.load_default()
    lines = names or ["(nothing but background)"]
    for line, text in enumerate(lines):
        color = tuple(int(c) for c in colors[line]) if names else (200, 200, 200)
        draw.text((font_size // 2, font_size // 2 + line * font_size * 3 // 2), text, fill=color, font=font)
    return np.asarray(card)


def _draw_boxes(picture: np.ndarray, boxes: list[Any], palette: np.ndarray) -> np.ndarray:
    """Copy of an (H, W, 3) uint8 picture with a one-pixel outline in class colour per box."""
    drawn = picture.copy()
    for box in boxes:
        color = palette[box.class_index]
        bottom, right = box.bottom - 1, box.right - 1  # last row and column inside the box
        drawn[box.top, box.left : box.right] = color
        drawn[bottom, box.left : box.right] = color
        drawn[box.top : box.bottom, box.left] = color
        drawn[box.top : box.bottom, right] = color
    return drawn


def task_views(
    datasets: Mapping[str, Any],
    *,
    task: str = "semantic",
    index: int = 0,
    scale: int = 4,
) -> WidgetPanel:
    """Show one scene as input and as the answer of the task a toggle picks.

    Classification names the classes present, detection draws a box per object, semantic
    segmentation colours every pixel by class, instance segmentation colours every object.

    Args:
        datasets: Name -> dataset with ``sample(i)`` giving ``image`` (C, H, W), ``mask`` and
            ``instances`` (H, W), plus ``class_names`` (e.g. ShapesScenes, DigitScenes). List
            the same scenes with ``channels=3`` and ``channels=1`` to compare RGB and grey input.
        task: Task shown first, one of :data:`TASKS`.
        index: Scene shown first.
        scale: Display enlargement of each pixel.

    Returns:
        A panel with controls ``"dataset"``, ``"index"``, ``"task"``, images ``"image"`` and
        ``"answer"``, and state ``dataset``, ``index``, ``task``, ``image_shape`` (the input
        tensor's shape), ``classes_present`` (names) and ``instances_per_class`` (name -> count).
    """
    import ipywidgets as widgets

    from segedu.datasets.tasks import bounding_boxes, image_labels, instances_per_class
    from segedu.plots.masks import PALETTE, colorize, colorize_instances

    if not datasets:
        raise ValueError("datasets must name at least one dataset; got an empty mapping")
    for name, dataset in datasets.items():
        if not hasattr(dataset, "sample") or not hasattr(dataset, "class_names"):
            raise ValueError(f"dataset {name!r} needs sample(i) and class_names, like ShapesScenes")
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}")
    first = next(iter(datasets.values()))
    if not 0 <= index < len(first):
        raise ValueError(f"index must be in [0, {len(first)}), got {index}")

    chooser = widgets.Dropdown(options=list(datasets), description="dataset")
    slider = widgets.IntSlider(value=index, min=0, max=len(first) - 1, description="scene")
    toggle = widgets.ToggleButtons(options=list(TASKS), value=task, description="task")
    views = {name: widgets.Image(format="png") for name in ("image", "answer")}
    caption = widgets.Label()
    container = widgets.VBox(
        [widgets.HBox([chooser, slider]), toggle, widgets.HBox(list(views.values())), caption]
    )
    panel = WidgetPanel(container, {"dataset": chooser, "index": slider, "task": toggle}, views)

    def answer_picture(scene: dict, picture: np.ndarray, class_names: Any) -> np.ndarray:
        mask, instances = scene["mask"], scene["instances"]
        if toggle.value == "classification":
            present = image_labels(mask)
            names = [class_names[value] for value in present]
            height, width = picture.shape[0] * scale, picture.shape[1] * scale
            return _label_card(names, [PALETTE[value] for value in present], height, width)
        if toggle.value == "detection":
            rgb = to_uint8(np.broadcast_to(picture, picture.shape[:2] + (3,)))
            return _draw_boxes(rgb, bounding_boxes(instances, mask), PALETTE)
        if toggle.value == "semantic":
            return colorize(mask)
        return colorize_instances(instances)

    def show(change: Any = None) -> None:
        dataset = datasets[chooser.value]
        slider.max = len(dataset) - 1  # clamps the value when the new dataset is shorter
        scene = dataset.sample(slider.value)
        picture = image_to_hwc(scene["image"])  # (H, W, C)
        answer = answer_picture(scene, picture, dataset.class_names)
        views["image"].value = array_to_png(picture, scale=scale)
        views["answer"].value = array_to_png(answer, scale=1 if toggle.value == "classification" else scale)
        present = [dataset.class_names[value] for value in image_labels(scene["mask"])]
        counts = {
            dataset.class_names[key]: value
            for key, value in instances_per_class(scene["instances"], scene["mask"]).items()
        }
        shape = tuple(scene["image"].shape)
        objects = ", ".join(f"{count} x {name}" for name, count in counts.items()) or "none"
        classes = ", ".join(present) or "none"
        caption.value = f"input {shape}; objects: {objects}; semantic classes: {classes}"
        panel.state.update(
            dataset=chooser.value,
            index=slider.value,
            task=toggle.value,
            image_shape=shape,
            classes_present=present,
            instances_per_class=counts,
        )

    for control in (chooser, slider, toggle):
        control.observe(show, names="value")
    show()
    return panel
