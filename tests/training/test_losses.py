"""segedu.training.losses against per-pixel loops and torch's own cross-entropy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from segedu.core.encoding import IGNORE_INDEX
from segedu.training.losses import (
    CrossEntropyLoss2d,
    DiceLoss,
    pixel_cross_entropy,
    pixel_weighted_cross_entropy,
    soft_dice_loss,
)


def _logits_and_target(seed: int, num_classes: int = 4, shape=(2, 5, 6)) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape[0], num_classes, *shape[1:], generator=generator, dtype=torch.float64)
    target = torch.randint(0, num_classes, shape, generator=generator)
    target = target.masked_fill(torch.rand(shape, generator=generator) < 0.25, IGNORE_INDEX)
    return logits, target


def _loop_focal(logits, target, gamma, weights=None) -> float:
    """Brute force: the (weighted) mean over labelled pixels of -(1 - p_true) ** gamma * log p_true."""
    total, weight_sum = 0.0, 0.0
    batch, num_classes, height, width = logits.shape
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                label = int(target[b, i, j])
                if label == IGNORE_INDEX:
                    continue
                scores = [float(logits[b, k, i, j]) for k in range(num_classes)]
                log_p_true = scores[label] - math.log(sum(math.exp(score) for score in scores))
                weight = 1.0 if weights is None else float(weights[label])
                total += -weight * (1 - math.exp(log_p_true)) ** gamma * log_p_true  # 0 ** 0 == 1: plain CE
                weight_sum += weight
    return total / weight_sum


def _loop_cross_entropy(logits, target, weights=None) -> float:
    return _loop_focal(logits, target, 0, weights)  # focal loss with gamma 0 is cross-entropy


def _loop_dice(logits, target, eps) -> float:
    batch, num_classes, height, width = logits.shape
    dices = []
    for k in range(num_classes):
        intersection, cardinality = 0.0, 0.0
        for b in range(batch):
            for i in range(height):
                for j in range(width):
                    label = int(target[b, i, j])
                    if label == IGNORE_INDEX:
                        continue
                    scores = [math.exp(float(logits[b, c, i, j])) for c in range(num_classes)]
                    probability = scores[k] / sum(scores)
                    truth = 1.0 if label == k else 0.0
                    intersection += probability * truth
                    cardinality += probability + truth
        dices.append((2 * intersection + eps) / (cardinality + eps))
    return 1.0 - sum(dices) / num_classes


@pytest.mark.parametrize("seed", [0, 1])
def test_cross_entropy_matches_loop_and_torch(seed):
    logits, target = _logits_and_target(seed)
    loss = pixel_cross_entropy(logits, target)
    assert loss.item() == pytest.approx(_loop_cross_entropy(logits, target), rel=1e-10)
    torch.testing.assert_close(loss, F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX))


def test_cross_entropy_class_weights_match_loop():
    logits, target = _logits_and_target(2)
    weights = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
    loss = pixel_cross_entropy(logits, target, class_weights=weights)
    assert loss.item() == pytest.approx(_loop_cross_entropy(logits, target, weights), rel=1e-10)
    assert torch.allclose(loss, CrossEntropyLoss2d(class_weights=weights)(logits, target))


def test_cross_entropy_all_ignored_is_zero_with_zero_gradient():
    logits = torch.randn(1, 3, 4, 4, requires_grad=True)
    target = torch.full((1, 4, 4), IGNORE_INDEX)
    loss = pixel_cross_entropy(logits, target)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_cross_entropy_errors_say_what_to_fix():
    logits, target = _logits_and_target(3)
    with pytest.raises(ValueError, match="squeeze"):
        pixel_cross_entropy(logits, target.unsqueeze(1))
    with pytest.raises(ValueError, match=r"\(B, H, W\)"):
        pixel_cross_entropy(logits, target[:, :-1])
    with pytest.raises(ValueError, match=r"found 7 \(1 pixel\)"):
        pixel_cross_entropy(logits, target.index_put((torch.tensor([0]),) * 3, torch.tensor(7)))
    with pytest.raises(ValueError, match="class_weights"):
        pixel_cross_entropy(logits, target, class_weights=torch.ones(3))
    with pytest.raises(ValueError, match="logits"):
        pixel_cross_entropy(logits[0], target)


@pytest.mark.parametrize("eps", [1.0, 1e-3])
def test_dice_matches_loop(eps):
    logits, target = _logits_and_target(4, num_classes=3, shape=(2, 4, 5))
    loss = soft_dice_loss(logits, target, eps=eps)
    assert loss.item() == pytest.approx(_loop_dice(logits, target, eps), rel=1e-10)
    assert torch.allclose(loss, DiceLoss(eps=eps)(logits, target))


def test_dice_perfect_prediction_is_near_zero_and_wrong_is_near_one():
    _, target = _logits_and_target(5)
    labelled_target = target.masked_fill(target == IGNORE_INDEX, 0)
    confident = 30.0 * F.one_hot(labelled_target, 4).permute(0, 3, 1, 2).double()  # (B, K, H, W)
    assert soft_dice_loss(confident, target).item() < 1e-3
    wrong = 30.0 * F.one_hot((labelled_target + 1) % 4, 4).permute(0, 3, 1, 2).double()
    assert soft_dice_loss(wrong, target).item() > 0.9


def test_dice_ignored_pixels_do_not_matter():
    logits, target = _logits_and_target(6)
    scrambled = logits.clone()
    ignored = (target == IGNORE_INDEX).unsqueeze(1).expand_as(logits)
    scrambled[ignored] = torch.randn(int(ignored.sum()), dtype=logits.dtype) * 10
    assert soft_dice_loss(scrambled, target).item() == pytest.approx(soft_dice_loss(logits, target).item())


def test_dice_gradient_flows_and_eps_validated():
    logits, target = _logits_and_target(7)
    logits.requires_grad_(True)
    soft_dice_loss(logits, target).backward()
    assert logits.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="eps"):
        soft_dice_loss(logits, target, eps=0.0)


def test_class_weights_may_be_a_list_or_an_array():
    logits, target = _logits_and_target(seed=7)
    weights = [1.0, 2.0, 0.5, 3.0]
    expected = F.cross_entropy(logits, target, weight=torch.tensor(weights, dtype=logits.dtype), ignore_index=IGNORE_INDEX)
    for given in (weights, np.array(weights), torch.tensor(weights), (1, 2, 0.5, 3)):
        assert torch.allclose(pixel_cross_entropy(logits, target, class_weights=given), expected)
    assert torch.allclose(CrossEntropyLoss2d(class_weights=weights)(logits, target), expected)


def test_class_weights_zero_for_absent_classes_are_fine_but_not_for_every_present_one():
    logits, target = _logits_and_target(seed=8)
    target = target.masked_fill((target != IGNORE_INDEX) & (target >= 2), 1)  # classes 0 and 1 only
    loss = pixel_cross_entropy(logits, target, class_weights=[1.0, 1.0, 0.0, 0.0])
    assert torch.isfinite(loss) and math.isclose(float(loss), _loop_cross_entropy(logits, target, [1, 1, 0, 0]))
    with pytest.raises(ValueError, match="every class present"):
        pixel_cross_entropy(logits, target, class_weights=[0.0, 0.0, 1.0, 1.0])


def test_cross_entropy_and_dice_is_torch_cross_entropy_plus_the_looped_dice() -> None:
    from segedu.training.losses import cross_entropy_and_dice

    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5, 5)
    target = torch.randint(0, 3, (2, 5, 5))
    expected = F.cross_entropy(logits, target).item() + _loop_dice(logits, target, eps=1.0)
    assert cross_entropy_and_dice(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_pixel_weighted_cross_entropy_matches_a_loop_and_the_class_weighted_form() -> None:
    generator = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 4, 5, 6, generator=generator)  # (B, K, H, W)
    target = torch.randint(0, 4, (2, 5, 6), generator=generator)  # (B, H, W)
    weights = torch.rand(2, 5, 6, generator=generator) * 3  # (B, H, W)
    numerator = denominator = 0.0
    for b in range(2):
        for y in range(5):
            for x in range(6):
                term = -torch.log_softmax(logits[b, :, y, x], dim=0)[target[b, y, x]]
                numerator += float(weights[b, y, x] * term)
                denominator += float(weights[b, y, x])
    assert float(pixel_weighted_cross_entropy(logits, target, weights)) == pytest.approx(numerator / denominator, rel=1e-5)
    class_weights = torch.tensor([0.2, 1.0, 3.0, 5.0])
    assert torch.allclose(pixel_weighted_cross_entropy(logits, target, class_weights[target]),
                          pixel_cross_entropy(logits, target, class_weights=class_weights))


def test_pixel_weighted_cross_entropy_rejects_bad_weights_with_the_fix() -> None:
    logits, target = torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4, dtype=torch.int64)
    with pytest.raises(ValueError, match="shaped like target"):
        pixel_weighted_cross_entropy(logits, target, torch.ones(4, 4))
    with pytest.raises(ValueError, match="non-negative"):
        pixel_weighted_cross_entropy(logits, target, -torch.ones(1, 4, 4))
    with pytest.raises(ValueError, match="at least one positive"):
        pixel_weighted_cross_entropy(logits, target, torch.zeros(1, 4, 4))


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
def test_focal_loss_matches_a_per_pixel_loop(gamma):
    from segedu.training.losses import focal_loss

    logits, target = _logits_and_target(9)
    assert focal_loss(logits, target, gamma=gamma).item() == pytest.approx(_loop_focal(logits, target, gamma), rel=1e-10)
    weights = [0.5, 2.0, 1.0, 3.0]
    assert focal_loss(logits, target, gamma=gamma, class_weights=weights).item() == pytest.approx(
        _loop_focal(logits, target, gamma, weights), rel=1e-10)


def test_focal_loss_at_gamma_zero_is_torch_cross_entropy():
    from segedu.training.losses import focal_loss

    logits, target = _logits_and_target(10)
    torch.testing.assert_close(focal_loss(logits, target, gamma=0.0),
                               F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX))
    weights = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
    torch.testing.assert_close(focal_loss(logits, target, gamma=0, class_weights=weights),
                               F.cross_entropy(logits, target, weight=weights, ignore_index=IGNORE_INDEX))
    plain = F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX, reduction="none")
    assert focal_loss(logits, target, gamma=2.0) < plain[target != IGNORE_INDEX].mean()  # every term shrinks


def test_focal_loss_down_weights_confident_pixels_more():
    from segedu.training.losses import focal_loss

    target = torch.zeros(1, 1, 2, dtype=torch.int64)
    logits = torch.zeros(1, 2, 1, 2, dtype=torch.float64)
    logits[0, 0, 0, 0], logits[0, 0, 0, 1] = 4.0, 0.5  # an easy pixel (p_t ~ 0.98) and a hard one (p_t ~ 0.62)
    ratios = []
    for column in range(2):
        one = logits[:, :, :, column:column + 1]
        ratios.append(float(focal_loss(one, target[:, :, :1], gamma=2.0) / pixel_cross_entropy(one, target[:, :, :1])))
    assert ratios[0] < 0.001 < 0.1 < ratios[1] < 1


def test_focal_loss_ignores_unlabelled_pixels_and_keeps_gradients_finite():
    from segedu.training.losses import focal_loss

    logits, target = _logits_and_target(11)
    scrambled = logits.clone()
    ignored = (target == IGNORE_INDEX).unsqueeze(1).expand_as(logits)
    scrambled[ignored] = torch.randn(int(ignored.sum()), dtype=logits.dtype) * 10
    assert focal_loss(scrambled, target).item() == pytest.approx(focal_loss(logits, target).item())
    all_ignored = torch.full_like(target, IGNORE_INDEX)
    assert focal_loss(logits, all_ignored).item() == 0.0
    certain = (60.0 * F.one_hot(target.masked_fill(target == IGNORE_INDEX, 0), 4).permute(0, 3, 1, 2)).float()
    certain.requires_grad_(True)  # p_t rounds to exactly 1 in float32
    for gamma in (0.0, 0.5, 2.0):
        certain.grad = None
        focal_loss(certain, target, gamma=gamma).backward()
        assert torch.isfinite(certain.grad).all()


@pytest.mark.parametrize("gamma", [-1.0, float("nan"), float("inf"), "2", None, True])
def test_focal_loss_rejects_a_bad_gamma_with_the_fix(gamma):
    from segedu.training.losses import focal_loss

    logits, target = _logits_and_target(12)
    with pytest.raises(ValueError, match="gamma must be a finite number >= 0"):
        focal_loss(logits, target, gamma=gamma)


def test_focal_loss_checks_shapes_and_class_weights_like_cross_entropy():
    from segedu.training.losses import focal_loss

    logits, target = _logits_and_target(13)
    with pytest.raises(ValueError, match="squeeze"):
        focal_loss(logits, target.unsqueeze(1))
    with pytest.raises(ValueError, match="class_weights"):
        focal_loss(logits, target, class_weights=torch.ones(3))
    only_class_0 = target.masked_fill(target != IGNORE_INDEX, 0)
    with pytest.raises(ValueError, match="every class present"):
        focal_loss(logits, only_class_0, class_weights=[0.0, 1.0, 1.0, 1.0])
