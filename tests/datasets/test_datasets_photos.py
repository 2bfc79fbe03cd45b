"""Tests for the photo adapters on tiny fake copies of VOC and Pets in their real layout."""

import numpy as np
import pytest
import torch
from PIL import Image

from segedu.datasets import PetsSegmentationPairs, VOCSegmentationPairs
from segedu.datasets.photos import VOC_CLASS_NAMES


def _random_photo(rng, height, width) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8))


@pytest.fixture
def fake_voc(tmp_path):
    """VOCdevkit/VOC2012 with two photos and palette-PNG masks (255 on object borders)."""
    rng = np.random.default_rng(0)
    base = tmp_path / "VOCdevkit" / "VOC2012"
    for folder in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (base / folder).mkdir(parents=True)
    names, masks = ["2007_000032", "2007_000039"], []
    for name, (height, width) in zip(names, [(20, 30), (24, 18)]):
        _random_photo(rng, height, width).save(base / "JPEGImages" / f"{name}.jpg")
        labels = np.zeros((height, width), dtype=np.uint8)
        labels[4:12, 5:15] = 15  # person
        labels[14:, :6] = 20  # tvmonitor
        labels[3, 4:16] = 255  # border pixels: "void" in VOC
        target = Image.fromarray(labels, mode="P")
        target.putpalette(list(rng.integers(0, 256, size=768, dtype=np.uint8)))
        target.save(base / "SegmentationClass" / f"{name}.png")
        masks.append(labels)
    (base / "ImageSets" / "Segmentation" / "train.txt").write_text("\n".join(names) + "\n")
    return tmp_path, masks


def test_voc_pairs_keep_classes_and_ignore_border(fake_voc):
    root, masks = fake_voc
    dataset = VOCSegmentationPairs(root)
    assert len(dataset) == 2 and dataset.num_classes == 21 and dataset.channels == 3
    assert dataset.class_names == VOC_CLASS_NAMES and dataset.class_names[15] == "person"
    for index, expected in enumerate(masks):
        image, mask = dataset[index]
        assert image.dtype == torch.float32 and image.shape == (3,) + expected.shape
        assert 0.0 <= image.min() and image.max() <= 1.0
        assert mask.dtype == torch.int64
        assert np.array_equal(mask.numpy(), expected)  # palette indices are the classes, 255 kept


def test_voc_resize_keeps_labels(fake_voc):
    root, masks = fake_voc
    image, mask = VOCSegmentationPairs(root, size=(16, 16))[1]
    assert image.shape == (3, 16, 16) and mask.shape == (16, 16)
    assert set(mask.unique().tolist()) <= set(np.unique(masks[1]).tolist())


@pytest.fixture
def fake_pets(tmp_path):
    """oxford-iiit-pet with images, trimaps (1 pet, 2 background, 3 border) and trainval.txt."""
    rng = np.random.default_rng(1)
    base = tmp_path / "oxford-iiit-pet"
    (base / "images").mkdir(parents=True)
    (base / "annotations" / "trimaps").mkdir(parents=True)
    # Columns: image name, class id (1..37), species (1 cat, 2 dog), breed id.
    lines, trimaps = [], []
    for name, class_id, species in [("Abyssinian_1", 1, 1), ("basset_hound_2", 4, 2)]:
        _random_photo(rng, 22, 26).save(base / "images" / f"{name}.jpg")
        trimap = rng.integers(1, 4, size=(22, 26)).astype(np.uint8)
        Image.fromarray(trimap, mode="L").save(base / "annotations" / "trimaps" / f"{name}.png")
        lines.append(f"{name} {class_id} {species} 1")
        trimaps.append(trimap)
    (base / "annotations" / "trainval.txt").write_text("\n".join(lines) + "\n")
    return tmp_path, trimaps


def test_pets_trimap_becomes_background_pet_and_ignore(fake_pets):
    root, trimaps = fake_pets
    dataset = PetsSegmentationPairs(root)
    assert len(dataset) == 2 and dataset.class_names == ("background", "pet")
    for index, trimap in enumerate(trimaps):
        image, mask = dataset[index]
        assert image.shape == (3, 22, 26) and mask.dtype == torch.int64
        expected = np.empty_like(trimap, dtype=np.int64)
        for (row, column), value in np.ndenumerate(trimap):
            expected[row, column] = {1: 1, 2: 0, 3: 255}[int(value)]
        assert np.array_equal(mask.numpy(), expected)


def test_pets_resize(fake_pets):
    root, _ = fake_pets
    image, mask = PetsSegmentationPairs(root, size=12)[0]
    assert image.shape == (3, 12, 12) and set(mask.unique().tolist()) <= {0, 1, 255}


@pytest.mark.parametrize("make", [VOCSegmentationPairs, PetsSegmentationPairs])
def test_missing_data_asks_for_opt_in_download(tmp_path, make):
    with pytest.raises(FileNotFoundError, match="download=True"):
        make(tmp_path / "empty")
    assert not (tmp_path / "empty").exists()  # nothing was fetched or created
