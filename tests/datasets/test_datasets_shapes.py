"""Tests for ShapesScenes: contract, reproducibility and the properties of the scenes."""

import hashlib

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from segedu.datasets import ShapesScenes


def _digest(dataset, indices) -> str:
    """sha256 over the bytes of images, masks and instance maps of ``indices``."""
    digest = hashlib.sha256()
    for index in indices:
        scene = dataset.sample(index)
        for key in ("image", "mask", "instances"):
            digest.update(scene[key].numpy().tobytes())
    return digest.hexdigest()


def test_item_contract():
    dataset = ShapesScenes("train", length=5)
    assert len(dataset) == 5 and dataset.num_classes == 4 and dataset.channels == 3
    assert dataset.class_names == ("background", "circle", "square", "triangle")
    for index in range(5):
        image, mask = dataset[index]
        assert image.shape == (3, 64, 64) and image.dtype == torch.float32
        assert mask.shape == (64, 64) and mask.dtype == torch.int64
        assert 0.0 <= image.min() and image.max() <= 1.0
        assert set(mask.unique().tolist()) <= {0, 1, 2, 3}


def test_default_lengths_and_size():
    assert [len(ShapesScenes(split)) for split in ("train", "val", "test")] == [2000, 200, 200]
    image, mask = ShapesScenes("val", size=40)[0]
    assert image.shape == (3, 40, 40) and mask.shape == (40, 40)


def test_same_seed_same_scene_and_getitem_matches_sample():
    first, second = ShapesScenes("val", length=4), ShapesScenes("val", length=4)
    assert _digest(first, range(4)) == _digest(second, range(4))
    image, mask = first[2]
    scene = second.sample(2)
    assert torch.equal(image, scene["image"]) and torch.equal(mask, scene["mask"])


def test_scene_depends_on_index_not_length():
    short, long = ShapesScenes("train", length=4), ShapesScenes("train", length=2000)
    assert _digest(short, [3]) == _digest(long, [3])
    assert torch.equal(short[-1][0], short[3][0])  # negative indices like a list


def test_seed_split_and_index_change_the_scene():
    reference = _digest(ShapesScenes("train", length=2), [0])
    assert _digest(ShapesScenes("train", length=2, seed=1), [0]) != reference
    assert _digest(ShapesScenes("val", length=2), [0]) != reference
    assert _digest(ShapesScenes("train", length=2), [1]) != reference


def _instance_classes(scene) -> dict[int, set[int]]:
    """Instance id -> set of mask classes under it (should be exactly one class)."""
    mask, instances = scene["mask"].numpy(), scene["instances"].numpy()
    return {int(k): set(np.unique(mask[instances == k]).tolist()) for k in np.unique(instances) if k}


def test_instances_agree_with_the_semantic_mask():
    dataset = ShapesScenes("train", length=30)
    for index in range(30):
        scene = dataset.sample(index)
        mask, instances = scene["mask"].numpy(), scene["instances"].numpy()
        assert np.array_equal(instances == 0, mask == 0)
        classes = _instance_classes(scene)
        assert sorted(classes) == list(range(1, len(classes) + 1))  # ids 1..N, no gaps
        assert all(len(found) == 1 and 0 not in found for found in classes.values())
        for description in scene["objects"]:
            identity = description["instance_id"]
            visible = int((instances == identity).sum()) if identity else 0
            assert visible == description["visible_pixels"]
            if identity:
                assert classes[identity] == {description["class_index"]}


def test_every_class_and_repeated_classes_appear():
    dataset = ShapesScenes("train", length=20)
    seen, repeated = set(), False
    for index in range(20):
        scene = dataset.sample(index)
        seen |= set(scene["mask"].unique().tolist())
        per_class = list(_instance_classes(scene).values())
        counts = np.bincount([min(found) for found in per_class], minlength=4)
        repeated |= bool(counts.max() >= 2)
    assert seen == {0, 1, 2, 3}
    assert repeated


def test_occlusion_happens_and_masks_show_only_visible_parts():
    dataset = ShapesScenes("train", length=40)
    partly_hidden = 0
    for index in range(40):
        for description in dataset.sample(index)["objects"]:
            assert description["visible_pixels"] <= description["pixels"]
            partly_hidden += 0 < description["visible_pixels"] < description["pixels"]
    assert partly_hidden >= 3


def test_colour_does_not_predict_the_class():
    """Nearest class-mean colour (fit on half the objects) should be near chance (1/3)."""
    dataset = ShapesScenes("train", length=300)
    colors, classes = [], []
    for index in range(300):
        scene = dataset.sample(index)
        image, instances = scene["image"].numpy(), scene["instances"].numpy()
        for identity, found in _instance_classes(scene).items():
            colors.append(image[:, instances == identity].mean(axis=1))  # mean visible colour
            classes.append(min(found))
    colors, classes = np.array(colors), np.array(classes)
    half = len(classes) // 2
    means = np.stack([colors[:half][classes[:half] == c].mean(axis=0) for c in (1, 2, 3)])
    distances = ((colors[half:, None, :] - means[None]) ** 2).sum(axis=-1)
    accuracy = (distances.argmin(axis=1) + 1 == classes[half:]).mean()
    assert accuracy < 0.45
    for c in (1, 2, 3):  # each class comes in many colours
        assert colors[classes == c].std(axis=0).min() > 0.15


def test_background_is_cluttered():
    dataset = ShapesScenes("val", length=20)
    spreads = []
    for index in range(20):
        image, mask = dataset[index]
        spreads.append(image[:, mask == 0].std(dim=1).mean().item())
    assert np.mean(spreads) > 0.04  # not a flat colour: gradient, lines and noise


def test_grayscale_is_the_luminance_of_the_colour_scene():
    color, gray = ShapesScenes("val", length=3), ShapesScenes("val", length=3, channels=1)
    assert gray.channels == 1
    for index in range(3):
        (rgb, mask_rgb), (luma, mask_gray) = color[index], gray[index]
        assert luma.shape == (1, 64, 64)
        expected = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
        torch.testing.assert_close(luma[0], expected, atol=1e-5, rtol=0)
        assert torch.equal(mask_rgb, mask_gray)


def test_transform_is_applied_to_items_only():
    calls = []

    def flip(image, mask):
        calls.append(1)
        return image.flip(-1), mask.flip(-1)

    plain, flipped = ShapesScenes("val", length=2), ShapesScenes("val", length=2, transform=flip)
    assert torch.equal(flipped[0][1], plain[0][1].flip(-1))
    assert torch.equal(flipped.sample(0)["mask"], plain[0][1]) and len(calls) == 1


def test_batches_with_a_data_loader():
    images, masks = next(iter(DataLoader(ShapesScenes("val", length=8), batch_size=4)))
    assert images.shape == (4, 3, 64, 64) and masks.shape == (4, 64, 64)


@pytest.mark.parametrize(
    "arguments, words",
    [
        (dict(split="training"), "split"),
        (dict(size=8), "size"),
        (dict(channels=2), "channels"),
        (dict(min_objects=4, max_objects=2), "min_objects"),
        (dict(min_objects=0), "min_objects"),
        (dict(length=0), "length"),
    ],
)
def test_rejects_bad_arguments(arguments, words):
    with pytest.raises(ValueError, match=words):
        ShapesScenes(**arguments)


def test_index_out_of_range():
    dataset = ShapesScenes("val", length=3)
    for index in (3, -4, 100):
        with pytest.raises(IndexError):
            dataset[index]
