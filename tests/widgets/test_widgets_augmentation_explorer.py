"""The augmentation explorer: pictures follow the sliders, masks keep their labels, draws repeat."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from segedu.datasets import DigitScenes
from segedu.plots.masks import colorize
from segedu.widgets.augmentation_explorer import augmentation_explorer


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture(scope="module")
def scenes() -> DigitScenes:
    return DigitScenes("val", length=4)


def test_no_augmentation_leaves_the_scene_as_it_is(scenes: DigitScenes) -> None:
    panel = augmentation_explorer(scenes, zoom=0.0, alpha=0.0, flip=False, scale=1)
    assert np.array_equal(_decode(panel.images["augmented_mask"].value), colorize(scenes[0][1]))
    assert panel.state["changed_share"] == 0.0 and panel.state["ignored_share"] == 0.0


def test_a_strong_warp_moves_labels_without_inventing_any(scenes: DigitScenes) -> None:
    panel = augmentation_explorer(scenes, zoom=0.0, alpha=0.0, scale=1)
    plain = panel.images["augmented_mask"].value
    panel.controls["alpha"].value = 150.0
    assert panel.images["augmented_mask"].value != plain
    assert panel.state["changed_share"] > 0 and panel.state["invented_labels"] == []
    assert set(panel.state["labels_after"]) <= set(panel.state["labels_before"]) | {255}
    panel.controls["index"].value = 2
    assert panel.state["index"] == 2 and panel.state["invented_labels"] == []


def test_the_same_draw_gives_the_same_picture_and_leaves_the_global_generator_alone(scenes: DigitScenes) -> None:
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    panel = augmentation_explorer(scenes, draw=3, scale=1)
    assert torch.equal(torch.rand(1), expected)
    first = panel.images["augmented_image"].value
    panel.controls["draw"].value = 4
    panel.controls["draw"].value = 3
    assert panel.images["augmented_image"].value == first


def test_bad_start_index_is_refused(scenes: DigitScenes) -> None:
    with pytest.raises(ValueError, match=r"index must be in \[0, 4\)"):
        augmentation_explorer(scenes, index=4)


def test_the_mask_toggle_resamples_as_a_picture_and_invents_labels(scenes: DigitScenes) -> None:
    panel = augmentation_explorer(scenes, index=1, zoom=0.0, alpha=150.0, sigma=3.0, scale=1)
    nearest = dict(panel.state)
    assert nearest["mask_resampling"] == "nearest" and nearest["invented_labels"] == []
    panel.controls["mask_resampling"].value = "bilinear"
    bilinear = panel.state
    assert bilinear["mask_resampling"] == "bilinear" and bilinear["invented_labels"] != []
    assert set(bilinear["invented_labels"]) <= set(range(11))  # blended class numbers, never the ignored 255
    assert bilinear["ignored_share"] == nearest["ignored_share"]  # the same draw: the same padding
    panel.controls["mask_resampling"].value = "nearest"
    assert panel.state["invented_labels"] == [] and panel.state["changed_share"] == nearest["changed_share"]


def test_the_nearest_mask_is_the_paired_transform_of_the_same_draw(scenes: DigitScenes) -> None:
    from segedu.datasets.transforms import training_transforms

    panel = augmentation_explorer(scenes, index=2, zoom=0.2, alpha=80.0, sigma=4.0, draw=7, scale=1)
    image, mask = scenes[2]
    torch.manual_seed(7)
    _, paired_mask = training_transforms(64, scale=(0.8, 1.2), flip=False, elastic=(80.0, 4.0))(image, mask)
    assert np.array_equal(_decode(panel.images["augmented_mask"].value), colorize(paired_mask))


def test_bad_mask_resampling_is_refused(scenes: DigitScenes) -> None:
    with pytest.raises(ValueError, match="mask_resampling must be one of"):
        augmentation_explorer(scenes, mask_resampling="bicubic")
