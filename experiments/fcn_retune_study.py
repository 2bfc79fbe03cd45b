"""Lesson 08's stored re-tune: the shipped FCN-8s trained on with one skip branch held at zero.

Zeroing a branch of a trained FCN-8s costs it what the rest of the network, as trained, gets from that branch.
Can the rest do without it once it has time to adapt? Per seed, three copies of the shipped FCN-8s for the shapes
(``pretrained("fcn8s", "shapes")``) train on with :func:`segedu.analysis.fcn_stages.retune_without_branch`:

* ``pool3``: ``score_pool3`` adds zeros (and stays as trained); every other layer trains;
* ``pool4``: the same with ``score_pool4``;
* ``none``: nothing held at zero, the reference: what the same steps do to the intact model.

Each re-tune: 200 steps of 16 scenes, Adam, the rate decaying along half a cosine from 0.15 x lr (the shipped
recipe's rate at its step 3,000 of 4,000) to 0, pixel cross-entropy. The scenes are 3,200 training scenes the shipped
model never saw (the training split's scenes 64,000 to 67,199; its recipe used 0 to 63,999). Each run is scored on
the 200 validation and 200 test scenes (mean IoU over all pixels) with its branch zeroed, beside the shipped model all
on and with the same branch zeroed.

Only the seed changes between runs: the order of the 3,200 scenes, so the batches. The shipped record ran seeds 0 to
2 on a 2-core CPU, two runs at a time with one thread each: about 30 CPU-seconds per re-tune, a few more to score it
(11 minutes of wall time on a machine busy with other work):

    python -m experiments.fcn_retune_study                 # about 3 minutes on two idle cores
    python -m experiments.fcn_retune_study --output segedu/course/experiment_results --overwrite
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset, Subset
from tqdm.auto import tqdm

from segedu.analysis.fcn_stages import SKIP_BRANCHES, retune_without_branch, skip_branches_off
from segedu.course.experiments import check_record_target, save_experiment
from segedu.training.evaluation import evaluate
from segedu.training.recipes import offline_dataset, training_scenes
from segedu.training.shipped import pretrained, pretrained_info

NAME = "fcn_retune_study"
BRANCHES = ("pool4", "pool3", "none")  # "none": the reference, nothing held at zero
SHIPPED = pretrained_info("fcn8s", "shapes")
RECIPE = SHIPPED["recipe"]
RATE_FACTOR = 0.5 * (1 + math.cos(math.pi * 3000 / RECIPE["steps"]))  # the recipe's cosine at its step 3,000
FIRST_SCENE, SCENE_COUNT = RECIPE["steps"] * RECIPE["batch_size"], 3200  # scenes the shipped model never saw
SETTINGS = {
    "model": "the shipped FCN-8s for the shapes (pretrained('fcn8s', 'shapes'))",
    "model_sha256": SHIPPED["sha256"],
    "steps": 200,
    "batch_size": RECIPE["batch_size"],
    "lr": round(RECIPE["lr"] * RATE_FACTOR, 10),
    "lr_note": "0.15 x the recipe's lr, its cosine rate at step 3,000 of 4,000",
    "lr_schedule": "cosine from lr to 0 over the steps",
    "optimizer": "Adam (torch defaults), every layer but the held branch's score layer",
    "loss": "pixel cross-entropy",
    "scenes": {"split": "train", "first": FIRST_SCENE, "count": SCENE_COUNT,
               "note": "training scenes the shipped model never saw (its recipe used the first 64,000)"},
    "scored_on": "the 200 validation and 200 test scenes, mean IoU over all pixels, the held branch zeroed",
    "varies_with_seed": "the order of the scenes, so the batches",
}


def retune_scenes() -> Dataset:
    """The 3,200 training scenes of every re-tune (rendered on the fly)."""
    return Subset(training_scenes("shapes", FIRST_SCENE + SCENE_COUNT), range(FIRST_SCENE, FIRST_SCENE + SCENE_COUNT))


def scores(model: torch.nn.Module, off: tuple[str, ...]) -> dict[str, float]:
    """Validation and test mean IoU of ``model`` with the branches in ``off`` zeroed."""
    with skip_branches_off(model, off) if off else nullcontext():
        return {split: round(float(evaluate(model, offline_dataset("shapes", split))["mean_iou"]), 4)
                for split in ("val", "test")}


def one_run(job: tuple[str, int, int]) -> dict[str, Any]:
    """One re-tune: ``(branch, seed, steps)`` -> its scores before, zeroed and re-tuned."""
    branch, seed, steps = job
    torch.set_num_threads(1)
    shipped = pretrained("fcn8s", "shapes")
    off = () if branch == "none" else (branch,)
    started = time.process_time()
    retuned, losses = retune_without_branch(shipped, None if branch == "none" else branch, retune_scenes(),
                                            steps=steps, batch_size=SETTINGS["batch_size"], lr=SETTINGS["lr"], seed=seed)
    cpu_seconds = time.process_time() - started
    before, zeroed, after = scores(shipped, ()), scores(shipped, off), scores(retuned, off)
    held = [SKIP_BRANCHES[name] for name in off]
    unchanged = all(torch.equal(getattr(retuned, layer).weight, getattr(shipped, layer).weight)
                    and torch.equal(getattr(retuned, layer).bias, getattr(shipped, layer).bias) for layer in held)
    return {"branch": branch, "seed": seed, "steps": steps,
            **{split: {"all on": before[split], "zeroed": zeroed[split], "re-tuned": after[split]}
               for split in ("val", "test")},
            "held_layer_unchanged": unchanged, "loss_first_last": [round(losses[0], 4), round(losses[-1], 4)],
            "retune_cpu_seconds": round(cpu_seconds, 1), "trained_on": f"torch {torch.__version__}, cpu, 1 thread"}


def build_parser() -> argparse.ArgumentParser:
    """The command line of this study."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", nargs="+", choices=BRANCHES, default=list(BRANCHES),
                        help="branches held at zero ('none': the reference)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=SETTINGS["steps"], help="steps of each re-tune")
    parser.add_argument("--workers", type=int, default=2, help="runs at once, one process and one CPU thread each")
    parser.add_argument("--output", type=Path, default=Path("runs"), help="folder for the record (default runs/)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing a record the course ships")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if any(seed < 0 for seed in arguments.seeds) or arguments.workers < 1 or arguments.steps < 1:
        parser.error(f"--seeds must be >= 0, --workers >= 1 and --steps >= 1; "
                     f"got {arguments.seeds}, {arguments.workers}, {arguments.steps}")
    if arguments.steps * SETTINGS["batch_size"] > SCENE_COUNT:
        parser.error(f"--steps {arguments.steps} needs {arguments.steps * SETTINGS['batch_size']} scenes; "
                     f"the study has {SCENE_COUNT}")
    try:
        check_record_target(arguments.output, NAME, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    for split in ("val", "test"):
        offline_dataset("shapes", split)[0]  # render the caches once, before the workers read them
    jobs = [(branch, seed, arguments.steps) for seed in arguments.seeds for branch in arguments.branches]
    started = time.perf_counter()
    if arguments.workers == 1:
        outcomes = [one_run(job) for job in tqdm(jobs, desc="runs", unit="run")]
    else:
        with multiprocessing.get_context("spawn").Pool(arguments.workers) as pool:
            outcomes = list(tqdm(pool.imap_unordered(one_run, jobs), total=len(jobs), desc="runs", unit="run"))
    runs: dict[str, dict[str, Any]] = {branch: {} for branch in arguments.branches}
    for outcome in sorted(outcomes, key=lambda run: run["seed"]):
        runs[outcome["branch"]][str(outcome["seed"])] = outcome
    results = {"runs": runs, "wall_seconds": round(time.perf_counter() - started, 1)}
    command = " ".join([f"python -m experiments.{NAME}", *(sys.argv[1:] if argv is None else argv)])
    settings = {**SETTINGS, "steps": arguments.steps}
    arguments.output.mkdir(parents=True, exist_ok=True)
    path = save_experiment(NAME, command=command, settings=settings, seeds=sorted(arguments.seeds), results=results,
                           directory=arguments.output)
    print(f"record written to {path} ({len(outcomes)} runs)")


if __name__ == "__main__":
    main()
