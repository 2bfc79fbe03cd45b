"""Lesson 17's stored study: one DeepLabv3 trained at output stride 8, 16 and 32, on equal budgets, over seeds.

:class:`segedu.models.deeplab.DeepLabV3` (base width 16, the shipped size) is trained from scratch on the
shape scenes at each output stride. The parameters are the same at every stride (only strides and atrous
rates change), and within a seed so are the initial weights: the model is built from the seed, and the
ASPP's three atrous branches are created in the same order whatever their rates. segedu's default rates
are used: (2, 3, 4) at output stride 8, (1, 2, 3) at 16 and 32 (the module docstring says why).

Everything else is equal and as in lesson 11's shortcut study: the 2000 training scenes, steps, batch, loss
(cross-entropy plus soft Dice), AdamW with a one-cycle learning rate, the classifier's bias started at the
log class frequencies, and the batches of each seed. Each run is scored on the 200 test scenes, over all
pixels and in the boundary band (pixels within 2 pixels of a class boundary); the training-loss curve and the
CPU time are kept. One CPU thread per run; runs go to ``--workers`` processes; each finished run is kept in
``runs/output_stride_study_parts`` (named by stride, seed, steps and the settings' fingerprint), so an
interrupted study resumes; delete that folder after changing the code.

The record goes to ``--output`` (default ``runs/``), never over the lesson's shipped record unless
``--output segedu/course/experiment_results --overwrite`` asks for it. The lesson's record comes from

    python -m experiments.output_stride_study --output segedu/course/experiment_results

(seeds 0 1 2, 1500 steps; 163 to 387 CPU-seconds per run on one thread of a busy 2-core machine, 37 CPU-minutes
in all, output stride 8 costing about twice 16 or 32).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from experiments._pool_study import cached_run, run_jobs, study_parser, train_and_score
from segedu.core.seeding import seed_everything
from segedu.course.experiments import check_record_target, save_experiment
from segedu.datasets import ShapesScenes
from segedu.models import get_model
from segedu.models.deeplab import DEFAULT_ATROUS_RATES
from segedu.training.losses import cross_entropy_and_dice
from segedu.training.quick import render_pool

NAME = "output_stride_study"
OUTPUT_STRIDES = (8, 16, 32)
SETTINGS = {
    "model": "get_model('deeplabv3', in_channels=3, num_classes=4, base_channels=16, output_stride=...)",
    "atrous_rates": {str(stride): list(DEFAULT_ATROUS_RATES[stride]) for stride in OUTPUT_STRIDES},
    "task": "ShapesScenes 64x64, 3 channels, 4 classes, dataset seed 0; train pool = the first 2000 train scenes",
    "train_scenes": 2000,
    "test_scenes": 200,
    "steps": 1500,
    "batch_size": 16,
    "loss": "pixel cross-entropy + soft Dice",
    "optimizer": "AdamW, weight decay 0",
    "peak_lr": 0.003,
    "schedule": "one_cycle_lr (linear warm-up over the first 10%, cosine down to 0)",
    "warmup_fraction": 0.1,
    "prior_bias": "classifier's bias at the log class frequencies of the train pool",
    "precision": "float32",
    "threads": 1,
    "band_width": 2,
    "curve_every": 25,
    "varies_with_seed": "initial weights and batch order (the same for every output stride within a seed)",
}
PARTS_DIR = Path("runs/output_stride_study_parts")


def _pools() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    train_images, train_masks = render_pool(ShapesScenes("train", length=SETTINGS["train_scenes"]),
                                            SETTINGS["train_scenes"])
    test_images, test_masks = render_pool(ShapesScenes("test", length=SETTINGS["test_scenes"]),
                                          SETTINGS["test_scenes"])
    return train_images, train_masks, test_images, test_masks


def build(output_stride: int, seed: int) -> torch.nn.Module:
    """The study's DeepLabv3 at ``output_stride``, its weights drawn from ``seed``."""
    seed_everything(seed)
    return get_model("deeplabv3", in_channels=3, num_classes=4, base_channels=16, output_stride=output_stride)


def one_run(job: tuple[int, int]) -> dict:
    """Train one model at output stride ``job[0]`` with seed ``job[1]``; return its scores, curve and timing."""
    output_stride, seed = job

    def compute() -> dict:
        torch.set_num_threads(SETTINGS["threads"])
        pools = _pools()
        return train_and_score(build(output_stride, seed), pools, cross_entropy_and_dice, SETTINGS, seed=seed,
                               num_classes=4)

    return cached_run(PARTS_DIR, f"os{output_stride}_{seed}_{SETTINGS['steps']}", SETTINGS, compute)


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of the study."""
    return study_parser(__doc__.splitlines()[0], steps=SETTINGS["steps"])


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.steps < 1 or any(seed < 0 for seed in arguments.seeds):
        parser.error(f"--steps must be positive and --seeds non-negative; got {arguments.steps} and {arguments.seeds}")
    try:
        check_record_target(arguments.output, NAME, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    SETTINGS["steps"] = arguments.steps
    torch.set_num_threads(SETTINGS["threads"])
    started_wall = time.perf_counter()
    _pools()  # renders the scene caches once
    jobs = [(stride, seed) for seed in arguments.seeds for stride in OUTPUT_STRIDES]
    outcomes = run_jobs(one_run, jobs, arguments.workers)
    runs: dict[str, dict[str, dict]] = {str(stride): {} for stride in OUTPUT_STRIDES}
    for (stride, seed), outcome in zip(jobs, outcomes):
        runs[str(stride)][str(seed)] = outcome
    results = {
        "runs": runs,
        "cpu_seconds": round(sum(outcome["cpu_seconds"] for outcome in outcomes), 1),
        "wall_seconds": round(time.perf_counter() - started_wall, 1),
    }
    arguments.output.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m experiments.output_stride_study", *(sys.argv[1:] if argv is None else argv)])
    path = save_experiment(NAME, command=command, settings=SETTINGS, seeds=arguments.seeds, results=results,
                           directory=arguments.output)
    print(f"record written to {path}")


if __name__ == "__main__":
    main()
