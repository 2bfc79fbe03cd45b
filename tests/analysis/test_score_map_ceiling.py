"""The ceiling of upsampled coarse score maps: exact where it must be, never worse than a model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from segedu.analysis.score_map_ceiling import (
    _linear_upsampler,
    impulse_responses,
    score_map_ceiling,
)
from segedu.models.fcn import BilinearUpsample
from segedu.training.losses import pixel_cross_entropy
from segedu.training.recipes import offline_dataset
from segedu.training.shipped import pretrained


def _shape_masks(count: int) -> torch.Tensor:
    return torch.stack([offline_dataset("shapes", "test")[index][1] for index in range(count)])


def test_masks_an_upsampled_map_can_draw_are_reproduced_exactly() -> None:
    masks = torch.zeros(3, 16, 16, dtype=torch.long)
    masks[1] = 2  # one class everywhere
    masks[2, :, 8:] = 1  # left half 0, right half 1: the edge falls between coarse cells
    for method in ("adam", "lbfgs"):
        ceiling = score_map_ceiling(BilinearUpsample(3, 4), masks, 3, stride=4, method=method)
        assert torch.equal(ceiling.predictions, masks)
        assert ceiling.mean_iou == 1.0
        assert ceiling.coarse_scores.shape == (3, 3, 4, 4)


@pytest.mark.parametrize("mixing", [False, True])
def test_the_stamps_reproduce_the_layer(mixing: bool) -> None:
    torch.manual_seed(0)
    layer = BilinearUpsample(3, 4)
    if mixing:  # a learned kernel may mix classes: the full-matrix path
        with torch.no_grad():
            layer.weight.normal_()
    stamps = impulse_responses(layer, 3, (3, 3), (10, 11))
    assert stamps.shape == (3, 3, 3, 3, 10, 11)
    scores = torch.randn(5, 3, 3, 3)
    with torch.no_grad():
        expected = layer(scores)[..., :10, :11]  # (5, 3, 10, 11), cropped like FCN
        by_hand = torch.einsum("nchw,chwkyx->nkyx", scores, stamps)
    torch.testing.assert_close(by_hand, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(_linear_upsampler(stamps)(scores), expected, atol=1e-5, rtol=1e-5)


def test_a_layer_with_a_bias_is_refused() -> None:
    layer = nn.ConvTranspose2d(2, 2, 4, stride=2, padding=1, bias=True)
    with torch.no_grad():
        layer.bias.fill_(1.0)
    with pytest.raises(ValueError, match="linear without bias"):
        score_map_ceiling(layer, torch.zeros(1, 8, 8, dtype=torch.long), 2, stride=2)


def test_lbfgs_converges_where_adam_is_still_on_its_way() -> None:
    masks = _shape_masks(6)
    layer = pretrained("fcn32s", "shapes").upscore32
    adam = score_map_ceiling(layer, masks, 4, stride=32, method="adam", steps=200)
    lbfgs = score_map_ceiling(layer, masks, 4, stride=32, method="lbfgs", steps=300, record_at=(10, 50, 100))
    assert lbfgs.loss < adam.loss
    steps = [point.step for point in lbfgs.curve]
    assert steps[:3] == [10, 50, 100] and steps == sorted(steps)
    losses = [point.loss for point in lbfgs.curve]
    assert all(later <= earlier + 1e-6 for earlier, later in zip(losses, losses[1:]))  # L-BFGS never goes uphill
    assert lbfgs.curve[-1].loss == pytest.approx(lbfgs.loss)


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
    fixed = score_map_ceiling(model.upscore32, masks, 4, stride=32, method="lbfgs")
    learned = score_map_ceiling(model.upscore32, masks, 4, stride=32, learn_upsampling=True, steps=100)
    assert fixed.loss <= model_loss
    assert torch.equal(model.upscore32.weight, before)  # the model's own kernel is left alone
    assert not torch.equal(learned.upsample.weight, before)  # the fitted copy comes back
    assert fixed.mean_iou < 0.8  # through the shipped kernel, 2 x 2 numbers per class cannot draw these shapes
    assert learned.mean_iou > fixed.mean_iou  # fitting 65,536 kernel weights to 8 masks draws them better


def test_finer_strides_reach_higher() -> None:
    masks = _shape_masks(6)
    coarse = score_map_ceiling(BilinearUpsample(4, 32), masks, 4, stride=32, method="lbfgs")
    fine = score_map_ceiling(BilinearUpsample(4, 8), masks, 4, stride=8, method="lbfgs")
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


def test_bad_methods_are_refused() -> None:
    masks = torch.zeros(1, 16, 16, dtype=torch.long)
    with pytest.raises(ValueError, match="method must be"):
        score_map_ceiling(BilinearUpsample(3, 4), masks, 3, stride=4, method="sgd")
    with pytest.raises(ValueError, match="fixed layer"):
        score_map_ceiling(BilinearUpsample(3, 4), masks, 3, stride=4, method="lbfgs", learn_upsampling=True)


