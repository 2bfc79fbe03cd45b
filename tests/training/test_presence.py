"""Training a classifier on "which classes are present": the loop lowers the loss, repeatably."""

import pytest
import torch
from torch import nn

from segedu.training.presence import presence_accuracy, train_presence_classifier


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(64, 1, 4, 4, generator=generator)
    targets = torch.stack([images[:, 0, :2].mean((1, 2)) > 0.5, images[:, 0, 2:].mean((1, 2)) > 0.5], 1).float()
    return images, targets


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 2))


def test_loss_falls_and_runs_repeat() -> None:
    images, targets = _data()
    model = _model()
    losses = train_presence_classifier(model, images, targets, steps=200, batch_size=16, lr=0.05)
    assert len(losses) == 200 and not model.training
    assert sum(losses[-20:]) < 0.7 * sum(losses[:20])
    per_class, all_right = presence_accuracy(model, images, targets)
    assert per_class.shape == (2,) and (per_class > 0.8).all() and 0.6 < all_right <= 1.0
    again = _model()
    assert train_presence_classifier(again, images, targets, steps=200, batch_size=16, lr=0.05) == losses


def test_mismatched_data_is_refused() -> None:
    images, targets = _data()
    with pytest.raises(ValueError, match="same N"):
        train_presence_classifier(_model(), images, targets[:10], steps=1)
