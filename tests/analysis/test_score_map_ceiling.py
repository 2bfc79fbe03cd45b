"""The ceiling of upsampled coarse score maps: exact where it must be, never worse than a model."""

from __future__ import annotations

import pytest
import torch

from segedu.training.losses import pixel_cross_entropy
from segedu.training.shipped import pretrained
from segedu.models.fcn import BilinearUpsample
from segedu.training.recipes import offline_dataset
from segedu.analysis.score_map_ceiling import score_map_ceiling


def test_masks_an_upsampled_map_can_draw_are_reproduced_exactly() -> None:
    masks = torch.zeros(3, 16, 16, dtype=torch.long)
    masks[1] = 2  # one class everywhere
    masks[2, :, 8:] = 1  # left half 0, right half 1: the edge falls between coarse cells
    ceiling = score_map_ceiling(BilinearUpsample(3, 4), masks, 3, stride=4)
    assert torch.equal(ceiling.predictions, masks)
    assert ceiling.mean_iou == 1.0
    assert ceiling.coarse_scores.shape == (3, 3, 4, 4)


def test_the_fit_is_never_worse_than_the_trained_models_own_scores() -> None:
    model = pretrained("fcn32s", "shapes")
    images, masks = zip(*(offline_dataset("shapes", "test")[index] for index in range(8)))
    images, masks = torch.stack(images), torch.stack(masks)
    captured = {}
    model.score_fr.register_forward_hook(lambda module, inputs, output: captured.update(scores=output))
    with torch.no_grad():
        model_loss = float(pixel_cross_entropy(model(images), masks))
    assert captured["scores"].shape == (8, 4, 2, 2)  # FCN-32s sees a 64 x 64 scene as 2 x 2 scores
    before = model.upscore32.weight.detach().clone()
    fixed = score_map_ceiling(model.upscore32, masks, 4, stride=32)
    learned = score_map_ceiling(model.upscore32, masks, 4, stride=32, learn_upsampling=True)
    assert fixed.loss <= model_loss
    assert learned.loss <= fixed.loss
    assert torch.equal(model.upscore32.weight, before)  # the model's own kernel is left alone
    assert fixed.mean_iou < 0.8  # through the shipped kernel, 2 x 2 numbers per class cannot draw these shapes


def test_finer_strides_reach_higher() -> None:
    masks = torch.stack([offline_dataset("shapes", "test")[index][1] for index in range(6)])
    coarse = score_map_ceiling(BilinearUpsample(4, 32), masks, 4, stride=32)
    fine = score_map_ceiling(BilinearUpsample(4, 8), masks, 4, stride=8)
    assert fine.mean_iou > coarse.mean_iou
    assert fine.loss < coarse.loss


@pytest.mark.parametrize(
    ("masks", "message"),
    [
        (torch.zeros(16, 16, dtype=torch.long), "must be \\(N, H, W\\) integer labels"),
        (torch.zeros(1, 16, 16), "integer labels"),
        (torch.full((1, 16, 16), 3), "found 3..3"),
    ],
)
def test_bad_masks_are_refused(masks: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        score_map_ceiling(BilinearUpsample(3, 4), masks, 3, stride=4)
