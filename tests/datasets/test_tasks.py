"""segedu.datasets.tasks derives classification, detection and semantic answers from an instance map."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segedu.datasets import ShapesScenes
from segedu.datasets.tasks import (
    Box,
    bounding_boxes,
    image_labels,
    instance_classes,
    instances_per_class,
    semantic_from_instances,
)


@pytest.fixture(scope="module")
def scenes() -> list[dict]:
    dataset = ShapesScenes("val", length=12, size=32, seed=5)
    return [dataset.sample(index) for index in range(len(dataset))]


def test_image_labels_matches_a_pixel_loop(scenes: list[dict]) -> None:
    for scene in scenes:
        mask = scene["mask"]
        seen = {int(mask[row, column]) for row in range(mask.shape[0]) for column in range(mask.shape[1])}
        assert image_labels(mask) == sorted(seen - {0})
        assert image_labels(mask, include_background=True) == sorted(seen)


def test_image_labels_skips_the_ignore_index_and_accepts_numpy() -> None:
    mask = np.array([[0, 255], [3, 3]])
    assert image_labels(mask) == [3]
    assert image_labels(mask, ignore_index=None) == [3, 255]
    assert image_labels(np.zeros((2, 2), dtype=np.int64)) == []


def test_instance_classes_agree_with_the_drawn_objects(scenes: list[dict]) -> None:
    for scene in scenes:
        expected = {
            item["instance_id"]: item["class_index"] for item in scene["objects"] if item["instance_id"]
        }
        assert instance_classes(scene["instances"], scene["mask"]) == expected


def test_instances_per_class_counts_objects_not_pixels(scenes: list[dict]) -> None:
    for scene in scenes:
        counts: dict[int, int] = {}
        for item in scene["objects"]:
            if item["instance_id"]:
                counts[item["class_index"]] = counts.get(item["class_index"], 0) + 1
        assert instances_per_class(scene["instances"], scene["mask"]) == dict(sorted(counts.items()))
    assert any(max(instances_per_class(s["instances"], s["mask"]).values()) >= 2 for s in scenes)


def test_an_instance_covering_two_classes_is_refused() -> None:
    instances = torch.tensor([[1, 1], [0, 2]])
    mask = torch.tensor([[1, 2], [0, 3]])
    with pytest.raises(ValueError, match=r"instance 1 must cover exactly one object class.*\[1, 2\]"):
        instance_classes(instances, mask)
    with pytest.raises(ValueError, match="same shape"):
        instance_classes(instances, mask[:1])
    with pytest.raises(ValueError, match="must hold integers"):
        instance_classes(instances.float(), mask)


def test_bounding_boxes_hold_every_pixel_and_touch_each_side(scenes: list[dict]) -> None:
    for scene in scenes:
        ids, mask = scene["instances"], scene["mask"]
        boxes = bounding_boxes(ids, mask)
        assert [box.instance_id for box in boxes] == sorted(int(v) for v in torch.unique(ids) if v)
        for box in boxes:
            inside = ids[box.top : box.bottom, box.left : box.right] == box.instance_id
            assert int(inside.sum()) == int((ids == box.instance_id).sum())  # nothing outside
            assert inside[0].any() and inside[-1].any()  # tight: object on every edge
            assert inside[:, 0].any() and inside[:, -1].any()
            assert box.height == box.bottom - box.top and box.width == box.right - box.left
            assert box.class_index == int(mask[ids == box.instance_id][0])


def test_bounding_box_of_a_hand_drawn_object() -> None:
    ids = torch.zeros(6, 8, dtype=torch.int64)
    ids[1:4, 2:7] = 4
    mask = (ids > 0).long() * 2
    assert bounding_boxes(ids, mask) == [Box(4, 2, top=1, left=2, bottom=4, right=7)]


def test_semantic_from_instances_rebuilds_the_mask(scenes: list[dict]) -> None:
    for scene in scenes:
        table = instance_classes(scene["instances"], scene["mask"])
        rebuilt = semantic_from_instances(scene["instances"], table)
        assert rebuilt.dtype == torch.int64
        assert torch.equal(rebuilt, scene["mask"])


def test_semantic_from_instances_names_missing_ids() -> None:
    with pytest.raises(ValueError, match=r"instance ids \[2\]"):
        semantic_from_instances(torch.tensor([[0, 1, 2]]), {1: 3})
