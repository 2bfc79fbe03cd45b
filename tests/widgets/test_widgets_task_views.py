"""The task viewer shows the answer of the chosen task and follows every control."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from segedu.datasets import ShapesScenes
from segedu.datasets.tasks import bounding_boxes, instances_per_class
from segedu.plots.masks import PALETTE, colorize, colorize_instances
from segedu.widgets.task_views import TASKS, task_views


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture(scope="module")
def datasets() -> dict[str, ShapesScenes]:
    return {
        "shapes, RGB": ShapesScenes("val", length=8, size=32, seed=2),
        "shapes, gray": ShapesScenes("val", length=5, size=32, seed=2, channels=1),
    }


def test_semantic_and_instance_views_show_the_mask_and_the_objects(datasets: dict) -> None:
    panel = task_views(datasets, scale=1)
    scene = datasets["shapes, RGB"].sample(0)
    assert np.array_equal(_decode(panel.images["answer"].value), colorize(scene["mask"]))
    panel.controls["task"].value = "instance"
    assert panel.state["task"] == "instance"
    assert np.array_equal(_decode(panel.images["answer"].value), colorize_instances(scene["instances"]))


def test_detection_view_outlines_each_box_in_its_class_colour(datasets: dict) -> None:
    panel = task_views(datasets, task="detection", index=3, scale=1)
    scene = datasets["shapes, RGB"].sample(3)
    answer = _decode(panel.images["answer"].value)
    image = _decode(panel.images["image"].value)
    changed = np.any(answer != image, axis=2)
    outline = np.zeros_like(changed)
    for box in bounding_boxes(scene["instances"], scene["mask"]):
        outline[box.top, box.left : box.right] = outline[box.bottom - 1, box.left : box.right] = True
        outline[box.top : box.bottom, box.left] = outline[box.top : box.bottom, box.right - 1] = True
    assert not changed[~outline].any()  # only outline pixels are painted
    last = bounding_boxes(scene["instances"], scene["mask"])[-1]  # drawn last, so on top
    assert tuple(answer[last.top, last.left]) == tuple(PALETTE[last.class_index])


def test_classification_view_changes_with_the_set_of_classes(datasets: dict) -> None:
    panel = task_views(datasets, task="classification", scale=2)
    cards = {}
    for index in range(len(datasets["shapes, RGB"])):
        panel.controls["index"].value = index
        cards.setdefault(tuple(panel.state["classes_present"]), set()).add(panel.images["answer"].value)
        assert _decode(panel.images["answer"].value).shape == (64, 64, 3)  # drawn at display size
    assert len(cards) >= 2
    assert all(len(pictures) == 1 for pictures in cards.values())  # same classes, same card


def test_state_follows_the_controls(datasets: dict) -> None:
    panel = task_views(datasets, scale=1)
    panel.controls["index"].value = 6
    scene = datasets["shapes, RGB"].sample(6)
    names = datasets["shapes, RGB"].class_names
    expected = {names[key]: value for key, value in instances_per_class(scene["instances"], scene["mask"]).items()}
    assert panel.state["instances_per_class"] == expected
    assert panel.state["image_shape"] == (3, 32, 32)
    panel.controls["dataset"].value = "shapes, gray"  # 5 scenes: index 6 is clamped to 4
    assert panel.state["dataset"] == "shapes, gray"
    assert panel.state["index"] == 4 and panel.controls["index"].max == 4
    assert panel.state["image_shape"] == (1, 32, 32)
    grey = _decode(panel.images["image"].value)[:, :, 0]
    expected_grey = (datasets["shapes, gray"].sample(4)["image"][0].numpy() * 255).round()
    assert np.array_equal(grey, expected_grey.astype(np.uint8))


def test_every_task_renders(datasets: dict) -> None:
    panel = task_views(datasets, scale=1)
    pictures = set()
    for task in TASKS:
        panel.controls["task"].value = task
        pictures.add(panel.images["answer"].value)
    assert len(pictures) == len(TASKS)


def test_bad_arguments_are_refused(datasets: dict) -> None:
    with pytest.raises(ValueError, match="task must be one of"):
        task_views(datasets, task="panoptic")
    with pytest.raises(ValueError, match=r"index must be in \[0, 8\)"):
        task_views(datasets, index=8)
    with pytest.raises(ValueError, match="at least one dataset"):
        task_views({})
    with pytest.raises(ValueError, match="needs sample"):
        task_views({"plain": [(0, 0)]})
