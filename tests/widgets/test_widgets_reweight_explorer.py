"""The reweighting explorer: p_c proportional to w_c^s p(c|x) fattens the rare classes as s grows."""

from __future__ import annotations

import pytest
import torch

from segedu.widgets.reweight_explorer import reweight_explorer, reweighted_predictions, reweighted_scores


@pytest.fixture(scope="module")
def scenes() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # Three classes on 2 scenes of 4 x 4: background is sure, the border pixels of the objects unsure.
    masks = torch.zeros(2, 4, 4, dtype=torch.int64)
    masks[0, 1:3, 1:3] = 1
    masks[1, 0:2, 0:2] = 2
    probabilities = torch.full((2, 3, 4, 4), 0.05)
    probabilities[:, 0] = 0.9  # background everywhere, at first
    probabilities[0, :, 1:3, 1:3] = torch.tensor([0.1, 0.8, 0.1]).view(3, 1, 1)  # the 1 found
    probabilities[0, :, 3, 1:3] = torch.tensor([0.55, 0.35, 0.1]).view(3, 1)  # unsure background below it
    probabilities[1, :, 0:2, 0:2] = torch.tensor([0.1, 0.45, 0.45]).view(3, 1, 1)  # the 2, a tie with 1
    probabilities = probabilities / probabilities.sum(dim=1, keepdim=True)
    weights = torch.tensor([1.0, 2.0, 4.0])
    return probabilities, masks, weights


def test_strength_zero_is_the_model_and_one_is_the_weighted_optimum(scenes) -> None:
    probabilities, _, weights = scenes
    assert torch.equal(reweighted_predictions(probabilities, weights, 0.0), probabilities.argmax(dim=1))
    written_out = (weights.view(1, -1, 1, 1) * probabilities).argmax(dim=1)  # argmax of w_c p(c|x)
    assert torch.equal(reweighted_predictions(probabilities, weights, 1.0), written_out)


def test_tilt_fattens_the_heavy_class_and_trades_iou_for_accuracy(scenes) -> None:
    probabilities, masks, weights = scenes
    plain = reweighted_scores(probabilities, masks, weights, 0.0)
    tilted = reweighted_scores(probabilities, masks, weights, 1.0)
    assert tilted["mean_accuracy"] >= plain["mean_accuracy"]  # the tie now goes to the heavier, true class 2
    assert tilted["foreground_precision"] < plain["foreground_precision"]  # the unsure background became 1


def test_panel_follows_its_sliders(scenes) -> None:
    probabilities, masks, weights = scenes
    panel = reweight_explorer(probabilities, masks, weights, index=0, scale=1)
    assert panel.state["changed_pixels"] == 0 and panel.state["strength"] == 0.0
    picture = panel.images["tilted"].value
    panel.controls["strength"].value = 1.0
    assert panel.state["changed_pixels"] == 2 and panel.images["tilted"].value != picture
    assert panel.state["mean_iou"] == pytest.approx(reweighted_scores(probabilities, masks, weights, 1.0)["mean_iou"])
    panel.controls["index"].value = 1
    assert panel.state["index"] == 1 and panel.state["changed_pixels"] == 4


def test_the_caption_names_the_foreground_as_asked(scenes) -> None:
    probabilities, masks, weights = scenes
    caption = reweight_explorer(probabilities, masks, weights, scale=1).widget.children[-1].value
    assert "foreground precision" in caption
    caption = reweight_explorer(probabilities, masks, weights, scale=1, foreground="stroke").widget.children[-1].value
    assert "stroke precision" in caption and "foreground" not in caption


def test_bad_arguments_are_refused(scenes) -> None:
    probabilities, masks, weights = scenes
    with pytest.raises(ValueError, match="strength"):
        reweighted_predictions(probabilities, weights, 1.5)
    with pytest.raises(ValueError, match="positive"):
        reweighted_predictions(probabilities, torch.tensor([1.0, 0.0, 1.0]), 0.5)
    with pytest.raises(ValueError, match="class_weights"):
        reweighted_predictions(probabilities, weights[:2], 0.5)
    with pytest.raises(ValueError, match="index"):
        reweight_explorer(probabilities, masks, weights, index=5)
    with pytest.raises(ValueError, match="masks"):
        reweight_explorer(probabilities, masks[:1], weights)
