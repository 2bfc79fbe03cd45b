"""The score explorer recomputes softmax, argmax and cross-entropy from its sliders."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from segedu.core.encoding import IGNORE_INDEX, one_hot
from segedu.training.losses import pixel_cross_entropy
from segedu.plots.masks import colorize
from segedu.widgets.score_explorer import score_explorer

NAMES = ("background", "circle", "square")


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture
def scene() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A 12x10 scene: class 1 in the top-left block, class 2 bottom-right, one ignored row."""
    generator = torch.Generator().manual_seed(0)
    mask = torch.zeros(12, 10, dtype=torch.long)
    mask[1:5, 1:5] = 1
    mask[7:11, 5:9] = 2
    mask[6] = IGNORE_INDEX
    image = torch.rand(3, 12, 10, generator=generator)
    scores = 3.0 * one_hot(mask, 3) + 0.5 * torch.randn(3, 12, 10, generator=generator)
    return image, mask, scores


def test_initial_state_matches_torch(scene) -> None:
    image, mask, scores = scene
    panel = score_explorer(image, mask, scores, class_names=NAMES, row=2, column=3, size=3, scale=2)
    state = panel.state
    assert torch.equal(state["prediction"], scores.argmax(0))
    assert state["loss"] == pytest.approx(float(pixel_cross_entropy(scores[None], mask[None])), rel=1e-5)
    expected_probabilities = scores[:, 2, 3].softmax(0)
    assert state["probabilities"] == pytest.approx(expected_probabilities.tolist(), rel=1e-5)
    assert state["true_class"] == 1
    assert state["pixel_loss"] == pytest.approx(-float(expected_probabilities[1].log()), rel=1e-5)
    assert panel.controls["bar:circle"].value == pytest.approx(float(expected_probabilities[1]), rel=1e-5)
    truth = _decode(panel.images["truth"].value)
    assert truth.shape == (24, 20, 3)
    # Away from the square outline, the picture is the coloured mask enlarged by 2.
    assert np.array_equal(truth[20:, 16:], colorize(mask).repeat(2, 0).repeat(2, 1)[20:, 16:])


def test_accuracy_counts_labelled_pixels_only(scene) -> None:
    image, mask, scores = scene
    labelled = mask != IGNORE_INDEX
    scores = scores.clone()
    scores[:, ~labelled] = 0.0
    scores[1, ~labelled] = 5.0  # ignored pixels all predicted "circle": wrong against any class
    panel = score_explorer(image, mask, scores, class_names=NAMES, row=2, column=3, size=1)
    prediction = scores.argmax(0)
    expected = float((prediction == mask)[labelled].float().mean())
    assert panel.state["labelled_accuracy"] == pytest.approx(expected)
    assert panel.state["labelled_accuracy"] > float((prediction == mask).float().mean())  # all-pixel accuracy is lower


def test_boost_flips_the_square_and_raises_the_loss(scene) -> None:
    image, mask, scores = scene
    panel = score_explorer(image, mask, scores, class_names=NAMES, row=2, column=3, size=3, scale=2)
    before_loss, before_png = panel.state["loss"], panel.images["prediction"].value
    panel.controls["boost:square"].value = 10.0
    prediction = panel.state["prediction"]
    assert bool((prediction[1:4, 2:5] == 2).all())  # the 3x3 square now says "square"
    assert torch.equal(prediction[6:], scores.argmax(0)[6:])  # elsewhere nothing changed
    assert panel.state["predicted_class"] == 2
    assert panel.state["loss"] > before_loss
    assert panel.images["prediction"].value != before_png
    edited = scores.clone()
    edited[2, 1:4, 2:5] += 10.0
    expected_loss = float(pixel_cross_entropy(edited[None], mask[None]))
    assert panel.state["loss"] == pytest.approx(expected_loss, rel=1e-5)
    # Moving the square takes the boost with it: the old place is back to its own scores.
    panel.controls["row"].value = 9
    assert torch.equal(panel.state["prediction"][1:4, 2:5], scores.argmax(0)[1:4, 2:5])


def test_temperature_changes_confidence_not_argmax(scene) -> None:
    image, mask, scores = scene
    panel = score_explorer(image, mask, scores, class_names=NAMES, row=2, column=3)
    prediction, top = panel.state["prediction"], max(panel.state["probabilities"])
    panel.controls["temperature"].value = 5.0
    assert torch.equal(panel.state["prediction"], prediction)
    assert max(panel.state["probabilities"]) < top
    assert sum(panel.state["probabilities"]) == pytest.approx(1.0, abs=1e-5)
    expected = F.cross_entropy((scores / 5.0)[None], mask[None], ignore_index=IGNORE_INDEX)
    assert panel.state["loss"] == pytest.approx(float(expected), rel=1e-5)


def test_ignored_pixels_cost_nothing(scene) -> None:
    image, mask, scores = scene
    panel = score_explorer(image, mask, scores, class_names=NAMES, row=6, column=4, size=1)
    assert panel.state["pixel_loss"] is None
    loss = panel.state["loss"]
    panel.controls["boost:circle"].value = -10.0
    assert panel.state["predicted_class"] != 1
    assert panel.state["loss"] == pytest.approx(loss, rel=1e-6)
    loss_map = _decode(panel.images["loss"].value)  # scale 3: the ignored row 6 is white
    assert (loss_map[6 * 3 + 1, 0] == 255).all()
    assert not (loss_map[5 * 3 + 1, 0] == 255).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scores": torch.zeros(3, 5, 5, dtype=torch.long)}, "float tensor of shape"),
        ({"mask": torch.zeros(4, 4, dtype=torch.long)}, "to match scores"),
        ({"mask": torch.full((12, 10), 7)}, "mask must be in"),
        ({"class_names": ("a", "b")}, "name all 3 classes"),
        ({"row": 12}, r"row must be in \[0, 12\)"),
        ({"size": 0}, "size must be in"),
    ],
)
def test_bad_inputs_are_refused(scene, change, message) -> None:
    image, mask, scores = scene
    arguments = {"image": image, "mask": mask, "scores": scores, "class_names": NAMES, **change}
    with pytest.raises(ValueError, match=message):
        score_explorer(**arguments)
