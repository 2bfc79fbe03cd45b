"""Windows centred on objects, labelled with the classes in their central square."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from segedu.datasets import ShapesScenes
from segedu.analysis.probes import presence_targets
from segedu.analysis.windows import centred_windows


def test_windows_are_centred_on_objects_and_labelled_by_their_centre() -> None:
    scenes = ShapesScenes("val", length=3, size=32, seed=4)
    images, targets = centred_windows(scenes, window=16, centre=4, random_per_scene=2, min_pixels=1)
    objects = sum(int(scenes.sample(i)["instances"].max()) for i in range(len(scenes)))
    assert images.shape == (objects + 2 * len(scenes), 3, 16, 16)
    assert targets.shape == (len(images), 3)
    # The first window of scene 0 is centred on its first object: cut it by hand and compare.
    scene = scenes.sample(0)
    rows, columns = torch.nonzero(scene["instances"] == 1, as_tuple=True)
    row, column = int(rows.float().mean().round()), int(columns.float().mean().round())
    padded = F.pad(scene["image"][None], (8, 8, 8, 8), mode="reflect")[0]
    assert torch.equal(images[0], padded[:, row:row + 16, column:column + 16])
    centre = F.pad(scene["mask"], (8, 8, 8, 8))[row + 6:row + 10, column + 6:column + 10]
    assert torch.equal(targets[0], presence_targets(centre[None], 4)[0])
    assert targets[0].sum() >= 1  # the object's own class is at its centre


def test_windows_are_reproducible_and_check_sizes() -> None:
    scenes = ShapesScenes("val", length=2, size=32)
    first = centred_windows(scenes, window=8, centre=8, seed=3)
    second = centred_windows(scenes, window=8, centre=8, seed=3)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    with pytest.raises(ValueError, match="centre <= window"):
        centred_windows(scenes, window=8, centre=9)
