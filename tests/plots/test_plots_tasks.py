"""show_tasks draws one panel per task; show_instances greys the objects and writes their ids."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.patches import Rectangle

from segedu.plots.masks import PALETTE
from segedu.plots.tasks import TASK_TITLES, show_instances, show_tasks


def _scene() -> dict:
    """A 3-channel 8 x 8 scene: two circles (ids 1, 2, class 1) and one square (id 3, class 2)."""
    instances = torch.zeros(8, 8, dtype=torch.int64)
    instances[1:3, 1:3] = 1
    instances[5:7, 1:3] = 2
    instances[2:6, 5:7] = 3
    mask = torch.zeros_like(instances)
    mask[(instances == 1) | (instances == 2)] = 1
    mask[instances == 3] = 2
    return {"image": torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(0)), "mask": mask,
            "instances": instances}


NAMES = ["background", "circle", "square"]


def test_one_panel_per_task_with_default_titles() -> None:
    figure = show_tasks(_scene(), NAMES)
    axes = figure.axes
    assert [axis.get_title() for axis in axes] == [TASK_TITLES[task] for task in
                                                   ("classification", "detection", "semantic", "instance")]
    assert "{circle, square}" in [text.get_text() for text in axes[0].texts]
    assert axes[2].get_legend().get_title().get_text() == "class colours (also the boxes)"
    plt.close(figure)


def test_detection_draws_one_box_per_object_in_its_class_colour() -> None:
    figure = show_tasks(_scene(), NAMES, ["detection"])
    boxes = [patch for patch in figure.axes[0].patches if isinstance(patch, Rectangle)]
    assert len(boxes) == 3
    colours = sorted(tuple(np.round(box.get_edgecolor()[:3], 4)) for box in boxes)
    expected = sorted(tuple(np.round(PALETTE[c] / 255, 4)) for c in (1, 1, 2))
    assert colours == expected
    plt.close(figure)


def test_titles_can_be_replaced_and_unknown_tasks_refused() -> None:
    figure = show_tasks(_scene(), NAMES, ["image", "semantic"], titles={"image": "scene 2"})
    assert [axis.get_title() for axis in figure.axes] == ["scene 2", TASK_TITLES["semantic"]]
    assert figure.axes[1].get_legend().get_title().get_text() == "class colours"  # no boxes drawn
    plt.close(figure)
    with pytest.raises(ValueError, match="tasks must be"):
        show_tasks(_scene(), NAMES, ["segmentation"])


def test_show_instances_writes_every_id_once_and_greys_the_objects() -> None:
    figure, axis = plt.subplots()
    show_instances(axis, _scene()["instances"])
    assert sorted(text.get_text() for text in axis.texts) == ["1", "2", "3"]
    picture = axis.images[0].get_array()
    assert picture[0, 0] == pytest.approx(0.08)  # background
    assert len({float(picture[1, 1]), float(picture[5, 1]), float(picture[2, 5])}) == 3  # one shade per object
    plt.close(figure)
