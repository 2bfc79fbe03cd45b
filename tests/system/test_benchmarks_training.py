"""The training benchmark: the quick recipe within a time budget, validation curve, test score, time to target."""

from __future__ import annotations

import pytest
import torch

from benchmarks.training import (
    LIGHT_REFERENCE,
    REFERENCE,
    TrainingRun,
    _seconds_to_target,
    _steps_per_second,
    benchmark_training,
    build_benchmark_model,
)
from segedu.analysis.costs import count_parameters
from segedu.models import get_model
from segedu.training.quick import QuickRecipe
from segedu.training.recipes import RECIPES

# A tiny pool and batch so that two seconds hold a few steps; float32 skips bfloat16's first-step set-up.
_TINY = QuickRecipe(batch_size=4, pool_size=16, bfloat16="off")


@pytest.fixture(scope="module")
def run() -> TrainingRun:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # a module fixture starts before the per-test thread setting
    try:
        return benchmark_training(
            "unet", "shapes", seconds=2, target=1.0, seed=3, observe_every=0.5, val_scenes=8, recipe=_TINY
        )
    finally:
        torch.set_num_threads(previous)


def test_curve_is_observed_during_training_and_at_the_end(run: TrainingRun) -> None:
    seconds, steps, mean_iou = zip(*run.curve)
    assert len(run.curve) >= 2  # at least one observation within the budget, then the end
    assert all(later > earlier for earlier, later in zip(seconds, seconds[1:]))
    assert all(later >= earlier for earlier, later in zip(steps, steps[1:]))
    assert (seconds[-1], steps[-1]) == (round(run.seconds, 2), run.steps)
    assert run.seconds >= 2 and run.steps >= 1
    assert all(0.0 <= value <= 1.0 for value in mean_iou)
    assert 0.0 <= run.test_mean_iou <= 1.0


def test_run_records_its_settings(run: TrainingRun) -> None:
    assert (run.model, run.dataset, run.seed, run.target) == ("unet", "shapes", 3, 1.0)
    assert run.seconds_to_target is None  # mean IoU 1.0 is out of reach in two seconds
    assert run.bfloat16 is False and run.threads == 1
    assert run.parameters == count_parameters(get_model("unet", in_channels=3, num_classes=4, base_channels=8))
    assert run.steps_per_second > 0


def test_time_to_target_is_the_first_observation_at_or_above_it() -> None:
    curve = [(15.0, 40, 0.5), (30.0, 80, 0.8), (45.0, 120, 0.7), (60.0, 160, 0.9)]
    assert _seconds_to_target(curve, 0.8) == 30.0  # reached exactly; the later dip does not matter
    assert _seconds_to_target(curve, 0.85) == 60.0
    assert _seconds_to_target(curve, 0.95) is None


def test_steps_per_second_leaves_out_the_pool_and_falls_back_to_the_average() -> None:
    # Loss records every 50 steps: 100 steps between 20 s and 60 s, whatever the first 20 s (rendering) took.
    assert _steps_per_second([(20.0, 50, 1.0), (40.0, 100, 0.8), (60.0, 150, 0.6)], 160, 64.0) == pytest.approx(2.5)
    assert _steps_per_second([(20.0, 50, 1.0)], 60, 30.0) == pytest.approx(2.0)  # one record: steps / seconds
    assert _steps_per_second([], 3, 2.0) == pytest.approx(1.5)


def test_models_have_their_shipped_sizes_and_the_references_fit_the_contract() -> None:
    for name in ("fcn8s", "segnet", "unet"):
        expected = get_model(name, in_channels=1, num_classes=11, **RECIPES[name, "shapes"].model_kwargs)
        assert count_parameters(build_benchmark_model(name, 1, 11)) == count_parameters(expected)
    unet = count_parameters(build_benchmark_model("unet", 1, 11))
    reference, light = build_benchmark_model(REFERENCE, 1, 11), build_benchmark_model(LIGHT_REFERENCE, 1, 11)
    for model in (reference, light):
        assert model(torch.rand(2, 1, 64, 64)).shape == (2, 11, 64, 64)
    assert count_parameters(reference) > count_parameters(light) > 10 * unet


@pytest.mark.parametrize(
    ("target", "val_scenes", "message"),
    [(1.5, 8, "target is a mean IoU"), (0.0, 8, "target is a mean IoU"), (0.5, 0, "val_scenes must be")],
)
def test_bad_settings_are_refused(target: float, val_scenes: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        benchmark_training("unet", "shapes", seconds=1, target=target, val_scenes=val_scenes)
