"""The training benchmark: same loop for every model, speed samples, time to target."""

from __future__ import annotations

import pytest
import torch

from benchmarks.training import REFERENCE, TrainingRun, benchmark_training, build_benchmark_model
from segedu.analysis.costs import count_parameters
from segedu.models import get_model
from segedu.training.recipes import RECIPES


def _run(name: str = "unet", target: float = 0.5, seed: int = 0) -> TrainingRun:
    return benchmark_training(
        name, "shapes", steps=6, eval_every=2, target=target, batch_size=4, val_scenes=8, seed=seed
    )


def test_curve_speed_samples_and_time_to_target() -> None:
    run = _run(target=1.0)
    steps, seconds, mean_iou = zip(*run.curve)
    assert steps == (2, 4, 6)
    assert all(later > earlier for earlier, later in zip(seconds, seconds[1:]))  # cumulative training time
    assert all(0.0 <= value <= 1.0 for value in mean_iou)
    assert len(run.seconds_per_step.samples) == 3
    # Training seconds are the sum of the chunks: seconds per step times steps per chunk.
    assert seconds[-1] == pytest.approx(sum(run.seconds_per_step.samples) * 2)
    assert run.steps_per_second == pytest.approx(1 / run.seconds_per_step.median)
    assert run.steps_to_target is None and run.seconds_to_target is None  # mean IoU 1.0 is out of reach
    assert run.parameters == count_parameters(get_model("unet", in_channels=3, num_classes=4, base_channels=8))


def test_target_is_the_first_evaluation_at_or_above_it() -> None:
    curve = _run().curve
    target = curve[1][2]  # whatever the second evaluation scored
    run = _run(target=target)
    first = next(point for point in run.curve if point[2] >= target)
    assert (run.steps_to_target, run.seconds_to_target) == (first[0], first[1])
    assert run.steps_to_target <= 4


def test_same_seed_same_scores_other_seed_other_weights() -> None:
    first, second = _run(seed=1), _run(seed=1)
    assert [point[2] for point in first.curve] == [point[2] for point in second.curve]
    assert [point[2] for point in _run(seed=2).curve] != [point[2] for point in first.curve]


def test_models_have_their_shipped_sizes_and_the_reference_fits_the_contract() -> None:
    for name in ("fcn8s", "segnet", "unet"):
        expected = get_model(name, in_channels=1, num_classes=11, **RECIPES[name, "shapes"].model_kwargs)
        assert count_parameters(build_benchmark_model(name, 1, 11)) == count_parameters(expected)
    reference = build_benchmark_model(REFERENCE, 1, 11)
    assert reference(torch.rand(2, 1, 64, 64)).shape == (2, 11, 64, 64)
    assert count_parameters(reference) > 10 * count_parameters(build_benchmark_model("unet", 1, 11))


@pytest.mark.parametrize(
    ("steps", "eval_every", "target", "message"),
    [(6, 4, 0.5, "multiple of eval_every"), (4, 2, 0.5, "at least 3 chunks"), (6, 2, 1.5, "target is a mean IoU")],
)
def test_bad_settings_are_refused(steps: int, eval_every: int, target: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        benchmark_training("unet", "shapes", steps=steps, eval_every=eval_every, target=target)
