"""Bad inputs to the datasets and transforms end in one clear message, at construction time.

Each row: a call, the exception it must raise and fragments of the message that name the bad
value and the fix. Constructing a dataset checks everything, so a mistake never surfaces later
inside ``len()``, numpy's random generator or a DataLoader worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from segedu.datasets import DigitScenes, ShapesScenes
from segedu.datasets.transforms import PairedTransform, resize_transforms, training_transforms


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point segedu's data folder at a fresh temporary folder (DigitScenes writes its cache there)."""
    folder = tmp_path / "data"
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(folder))
    return folder


REFUSED = [
    # (id, call, exception, fragments the message must contain)
    ("shapes float length", lambda: ShapesScenes("val", 2.5), ValueError, ["length must be an int >= 1", "got 2.5"]),
    ("shapes negative length", lambda: ShapesScenes("val", -3), ValueError, ["length must be an int >= 1", "got -3"]),
    ("shapes float seed", lambda: ShapesScenes("val", 2, seed=1.5), ValueError, ["seed must be an int >= 0", "1.5"]),
    ("shapes negative seed", lambda: ShapesScenes("val", 2, seed=-1), ValueError, ["seed must be an int >= 0", "-1"]),
    ("shapes float size", lambda: ShapesScenes("val", 2, size=64.0), ValueError, ["size must be an int", "size=64"]),
    ("shapes float channels", lambda: ShapesScenes("val", 2, channels=3.0), ValueError, ["channels", "channels=3"]),
    ("shapes bool channels", lambda: ShapesScenes("val", 2, channels=True), ValueError, ["channels", "True"]),
    ("shapes float objects", lambda: ShapesScenes("val", 2, max_objects=4.5), ValueError, ["max_objects", "4.5"]),
    ("shapes length as split", lambda: ShapesScenes(100), ValueError, ["split must be one of", "length=100"]),
    ("shapes split typo", lambda: ShapesScenes("Train"), ValueError, ["got 'Train'", "did you mean 'train'"]),
    ("shapes split validation", lambda: ShapesScenes("validation"), ValueError, ["did you mean 'val'"]),
    ("shapes split list", lambda: ShapesScenes(["train"]), ValueError, ["split must be one of", "['train']"]),
    ("shapes transform not callable", lambda: ShapesScenes("val", 2, transform=64), TypeError, ["transform", "int"]),
    ("digits float length", lambda: DigitScenes("val", 2.5), ValueError, ["length must be an int >= 1", "2.5"]),
    ("digits float seed", lambda: DigitScenes("val", 2, seed=0.5), ValueError, ["seed must be an int >= 0", "0.5"]),
    ("digits string size", lambda: DigitScenes("val", 2, size="64"), ValueError, ["size must be an int", "'64'"]),
    ("digits small size", lambda: DigitScenes("val", 2, size=16), ValueError, [">= 32", "legible", "got 16"]),
    ("digits zero digits", lambda: DigitScenes("val", 2, min_digits=0), ValueError, ["min_digits", "got 0"]),
    ("digits split typo", lambda: DigitScenes("tset"), ValueError, ["did you mean 'test'"]),
    ("digits root number", lambda: DigitScenes("val", 2, root=5), TypeError, ["root must be a folder path", "int"]),
    ("digits transform string", lambda: DigitScenes("val", 2, transform="flip"), TypeError, ["transform", "str"]),
    ("index float", lambda: ShapesScenes("val", 3)[1.0], TypeError, ["index must be an int", "dataset[1]"]),
    ("index slice", lambda: ShapesScenes("val", 3)[0:2], TypeError, ["index must be an int", "Subset"]),
    ("index too large", lambda: ShapesScenes("val", 3)[3], IndexError, ["index 3", "length 3", "0 to 2"]),
    ("index too negative", lambda: ShapesScenes("val", 3)[-4], IndexError, ["index -4", "-3 to -1"]),
    ("resize one value", lambda: resize_transforms((32,)), ValueError, ["(height, width) pair", "(32,)"]),
    ("resize float", lambda: resize_transforms(32.5), ValueError, ["positive int", "32.5"]),
    ("resize zero", lambda: resize_transforms((0, 8)), ValueError, ["positive int", "(0, 8)"]),
    ("resize string", lambda: resize_transforms("64"), ValueError, ["positive int", "'64'"]),
    ("training scale number", lambda: training_transforms(32, scale=1.0), ValueError, ["(low, high) pair", "1.0"]),
    ("training scale reversed", lambda: training_transforms(32, scale=(1.2, 0.8)), ValueError, ["0 < low <= high"]),
    ("paired transform not callable", lambda: PairedTransform(None), TypeError, ["callable", "NoneType"]),
    (
        "paired numpy image",
        lambda: resize_transforms(8)(np.zeros((3, 8, 8)), torch.zeros(8, 8, dtype=torch.long)),
        TypeError,
        ["image must be a torch.Tensor", "ndarray", "torch.as_tensor"],
    ),
]


@pytest.mark.parametrize(
    "call, exception, fragments", [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED]
)
def test_bad_input_is_refused_with_a_clear_message(
    call: Callable[[], object], exception: type[Exception], fragments: list[str]
) -> None:
    with pytest.raises(exception) as raised:
        call()
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message


def test_nothing_is_written_for_refused_digit_scenes(data_folder: Path) -> None:
    with pytest.raises(ValueError):
        DigitScenes("val", 2.5)
    assert not data_folder.exists()


def test_negative_index_counts_from_the_end() -> None:
    scenes = ShapesScenes("val", length=3)
    for index in range(-3, 0):
        assert torch.equal(scenes[index][0], scenes[index + 3][0])
        assert torch.equal(scenes[index][1], scenes[index + 3][1])


def test_integer_like_arguments_are_accepted_as_ints() -> None:
    scenes = ShapesScenes("val", np.int64(3), size=np.int32(32), seed=np.int64(1))
    reference = ShapesScenes("val", 3, size=32, seed=1)
    assert len(scenes) == 3 and type(len(scenes)) is int
    assert torch.equal(scenes[np.int64(2)][0], reference[2][0])
    assert torch.equal(scenes[torch.tensor(1)][1], reference[1][1])


def test_rectangular_size_pairs_still_work() -> None:
    image, mask = resize_transforms([24, 40])(torch.rand(3, 32, 32), torch.zeros(32, 32, dtype=torch.long))
    assert image.shape == (3, 24, 40) and mask.shape == (24, 40)


def test_photo_datasets_check_arguments_before_looking_for_files(tmp_path: Path) -> None:
    from segedu.datasets.photos import PetsSegmentationPairs, VOCSegmentationPairs

    with pytest.raises(FileNotFoundError, match=r"Pascal VOC 2012 \(train\) was not found.*download=True"):
        VOCSegmentationPairs(tmp_path, year=2012)  # the int year means "2012"
    with pytest.raises(ValueError, match=r"size must be a positive int.*\(0, 64\)"):
        PetsSegmentationPairs(tmp_path, size=(0, 64))
    with pytest.raises(TypeError, match="transform must be a callable"):
        PetsSegmentationPairs(tmp_path, transform=0.5)
