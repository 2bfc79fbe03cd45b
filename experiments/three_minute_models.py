"""Lesson 11's four models trained three times each on an equal three-minute budget.

The shipped checkpoints are one run per model (seed 0), so lesson 11 cannot tell from them alone whether a
gap between two models is larger than what another seed would move. This study trains FCN-32s, FCN-8s,
SegNet and U-Net at their shipped sizes from scratch with the package's time-budgeted recipe
(:func:`segedu.training.quick.train_within`: the same scene pool, AdamW, batch 32, one-cycle learning rate by
the clock, bfloat16 where the CPU has it) for 180 s each, seeds 0, 1 and 2, on both datasets, and scores each
run on the whole test split. The budget is time, not steps: a cheaper model takes more steps, and the record
keeps every run's steps beside its score. It is exactly the segedu part of `make bench`'s training benchmark,
so the record can also be taken from a benchmark run instead of training again:

    python -m experiments.three_minute_models                                   # 24 runs of 3 min: ~75 min
    python -m experiments.three_minute_models --from-benchmark docs/benchmarks.json   # the same runs, from make bench

Three minutes is a different budget from the shipped recipes (4000 steps of batch 16), so the record
measures how far seeds move these models at this budget, not the shipped checkpoints' own spread.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from segedu.course.experiments import save_experiment
from segedu.training.quick import QuickRecipe

NAME = "three_minute_models"
MODELS = ("fcn32s", "fcn8s", "segnet", "unet")
DATASETS = ("shapes", "digits")
SEEDS = (0, 1, 2)
SECONDS = 180.0
TARGETS = {"shapes": 0.90, "digits": 0.80}
# Kept from each run: enough to recompute every number the lesson quotes.
RUN_FIELDS = ("model", "dataset", "seed", "parameters", "seconds", "steps", "steps_per_second", "curve",
              "test_mean_iou", "bfloat16", "threads")


def train_runs(threads: int) -> list[dict[str, Any]]:
    """Train every model, dataset and seed (as `make bench` does); return the runs as dicts."""
    from dataclasses import asdict

    from benchmarks.training import benchmark_training

    torch.set_num_threads(threads)
    cases = [(model, dataset, seed) for dataset in DATASETS for model in MODELS for seed in SEEDS]
    return [
        asdict(benchmark_training(model, dataset, seconds=SECONDS, target=TARGETS[dataset], seed=seed))
        for model, dataset, seed in tqdm(cases, desc=NAME, unit="run")
    ]


def runs_from_benchmark(path: Path) -> tuple[list[dict[str, Any]], str]:
    """The segedu models' runs of a `make bench` result file, checked to have this study's settings.

    Raises:
        ValueError: If the benchmark used another budget, recipe or seeds, or lacks a run.
    """
    results = json.loads(path.read_text())
    settings = results["settings"]["training"]
    expected = {"seconds": SECONDS, "seeds": list(SEEDS), "recipe": _recipe()}
    found = {key: settings.get(key) for key in expected}
    if found != expected:
        raise ValueError(f"{path} was measured with {found}, not this study's {expected}")
    runs = [run for run in results["training"] if run["model"] in MODELS]
    missing = {(m, d, s) for m in MODELS for d in DATASETS for s in SEEDS} - {
        (run["model"], run["dataset"], run["seed"]) for run in runs}
    if missing:
        raise ValueError(f"{path} lacks the runs {sorted(missing)}; measure them with make bench")
    return runs, benchmark_machine_line(results)


def benchmark_machine_line(results: dict[str, Any]) -> str:
    """The machine a `make bench` result file was measured on, with the torch threads its training used.

    The benchmark's own machine line quotes the threads of its inference part (``--threads``, 1 by default);
    its training runs use ``settings["training"]["threads"]`` (every core), which is what this study keeps.
    """
    machine, training = results["machine"], results["settings"]["training"]
    date = results.get("part_dates", {}).get("training", results.get("date", "an unknown date"))
    return (f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']:.0f} GiB RAM, {machine['system']}; "
            f"Python {machine['python']}, torch {machine['torch']}; training with {training['threads']} torch "
            f"thread(s), measured by make bench on {date}")


def _recipe() -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(QuickRecipe())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-benchmark", type=Path, default=None,
                        help="take the runs from a make bench result file (docs/benchmarks.json) instead of training")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: every core)")
    arguments = parser.parse_args()
    if arguments.from_benchmark is not None:
        runs, machine = runs_from_benchmark(arguments.from_benchmark)
        command = f"python -m experiments.{NAME} --from-benchmark {arguments.from_benchmark}"
        torch.set_num_threads(runs[0]["threads"])  # the record's ran_on then quotes the runs' threads, not this process's
    else:
        runs, machine = train_runs(arguments.threads), "this machine (see ran_on)"
        command = f"python -m experiments.{NAME}"
    settings = {
        "models": list(MODELS), "datasets": list(DATASETS), "budget_seconds": SECONDS, "recipe": _recipe(),
        "scored_on": "whole test split", "machine": machine,
        "varies_with_seed": "initial weights and batch order (the scenes are the same for every seed)",
        "note": "a time budget: steps differ between models and with the machine's load; each run keeps its steps",
    }
    kept = [{field: run[field] for field in RUN_FIELDS} for run in runs]
    path = save_experiment(NAME, command=command, settings=settings, seeds=list(SEEDS), results={"runs": kept})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
