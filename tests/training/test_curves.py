"""Learning curves on a step grid: exact step counts, repeatable runs, scores that move."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from segedu.models import UNet
from segedu.training.curves import train_with_curves
from segedu.training.evaluation import evaluate


def _scenes(count: int = 8) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    masks = torch.randint(0, 3, (count, 2, 2), generator=generator)
    masks = masks.repeat_interleave(8, dim=1).repeat_interleave(8, dim=2)  # (N, 16, 16) blocks
    images = torch.stack([masks.float() / 2] * 3, dim=1)  # the class is readable from the colour
    return TensorDataset(images, masks)


def _run(seed: int = 0, **options):
    torch.manual_seed(0)
    model = UNet(3, 3, base_channels=4)
    scenes = _scenes()
    defaults = dict(steps=12, batch_size=4, lr=0.01, seed=seed, score_every=5, num_classes=3)
    return model, train_with_curves(model, scenes, {"train": scenes}, **{**defaults, **options})


def test_steps_and_scores_are_on_the_grid_and_the_model_learns() -> None:
    model, curves = _run()
    assert curves.steps == [0, 5, 10, 12]  # before training, every 5 steps, and after the last
    assert len(curves.losses) == 12 and len(curves.scores["train"]) == 4
    assert curves.scores["train"][-1] > curves.scores["train"][0]
    assert curves.scores["train"][-1] == pytest.approx(evaluate(model, _scenes(), num_classes=3)["mean_iou"])
    assert model.training


def test_the_same_seed_repeats_the_run_and_another_seed_does_not() -> None:
    assert _run(seed=0)[1].losses == _run(seed=0)[1].losses
    assert _run(seed=0)[1].losses != _run(seed=1)[1].losses


def test_the_schedule_sets_the_learning_rate_and_on_score_sees_an_eval_model() -> None:
    seen = []
    progress = []

    def schedule(fraction: float) -> float:
        progress.append(fraction)
        return 0.0  # a zero learning rate: the weights never move

    def on_score(step: int, model: torch.nn.Module) -> None:
        seen.append((step, model.training, torch.is_grad_enabled()))

    _, curves = _run(schedule=schedule, on_score=on_score)
    assert progress == [step / 12 for step in range(12)]
    assert seen == [(0, False, False), (5, False, False), (10, False, False), (12, False, False)]


@pytest.mark.parametrize("bad", [dict(steps=0), dict(batch_size=9), dict(lr=0.0), dict(score_every=0)])
def test_bad_arguments_are_refused(bad) -> None:
    with pytest.raises(ValueError):
        _run(**bad)


def test_a_diverging_loss_is_reported() -> None:
    with pytest.raises(FloatingPointError, match="smaller learning rate"):
        _run(loss_function=lambda logits, masks: logits.sum() * float("nan"))
