"""Lesson 09's stored study: SegNet trained from scratch without its pooling indices.

Lesson 09 swaps the unpooling of a *trained* SegNet and watches it fail, which cannot tell the positions apart from
inputs the decoder never saw. This study asks the paper's question directly: train SegNet's recipe
(``segedu.training.recipes.RECIPES[("segnet", DATASET)]``: 4,000 steps of batch 16, Adam 3e-3 with cosine decay,
the last bias started at the class frequencies, two threads) with every decoder stage unpooling by one rule of
:func:`segedu.analysis.pooling_indices.with_unpooling`:

* ``top_left``: every value at its window's top-left corner (as sparse, at the wrong place wherever the maximum was
  elsewhere);
* ``nearest``: every value copied into its whole window (dense, no position).

SegNet itself (``indices``, max-unpooling) needs no new run: its seeds 0 to 2 are ``recipe_seeds``'s SegNet runs, the
same recipe on the same kind of CPU (AMD EPYC) with the same two threads. ``--rules indices`` trains them again
(on that CPU it should reproduce their sha256 bit for bit).

Only the rule changes between the runs of one seed: the same initial weights (seeded before the model is built;
the rules have no weights), the same scenes in the same order. Every run is scored on the 200 test scenes, over all
pixels and in the boundary band (pixels within 2 pixels of a class boundary), with its weights rounded to float16
as shipped, exactly like ``experiments.recipe_seeds``.

A finished run is kept in ``--parts`` (its checkpoint and a JSON file), so an interrupted study resumes where it
stopped; the record is written when every run is there, or with ``--partial`` from those finished so far.
One run takes about 10 to 20 minutes on two idle cores:

    python -m experiments.segnet_unpooling_study --partial         # what is there
    python -m experiments.segnet_unpooling_study --output segedu/course/experiment_results --overwrite
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from experiments.recipe_seeds import score_on_test_split
from segedu.analysis.pooling_indices import UNPOOLING_RULES, with_unpooling
from segedu.course.experiments import check_record_target, save_experiment
from segedu.models import get_model
from segedu.training.checkpoints import load_checkpoint
from segedu.training.recipes import RECIPES, shipped_threads, train_recipe

NAME = "segnet_unpooling_study"
RULES = ("top_left", "nearest")  # SegNet itself: the recipe_seeds record
SETTINGS = {
    "recipe": "segedu.training.recipes.RECIPES[('segnet', dataset)] with only the seed replaced",
    "unpooling": "segedu.analysis.pooling_indices.with_unpooling(model, rule) on the freshly built model",
    "threads": shipped_threads("segnet"),
    "band_width": 2,
    "scored_on": "whole test split (200 scenes), weights rounded to float16 as shipped",
    "varies_with_seed": "initial weights and the order of the freshly drawn training scenes",
    "varies_with_rule": "only the decoder's unpooling (the rules have no weights)",
}


def part_stem(dataset: str, rule: str, seed: int) -> str:
    """A finished run's file name without suffix."""
    return f"segnet-{dataset}-{rule}-seed{seed}"


def one_run(dataset: str, rule: str, seed: int, parts: Path) -> dict[str, Any]:
    """Train SegNet's recipe with ``rule``'s unpooling (or read the finished run from ``parts``); its scores."""
    part = parts / f"{part_stem(dataset, rule, seed)}.json"
    if part.is_file():
        return json.loads(part.read_text())
    recipe = replace(RECIPES[("segnet", dataset)], seed=seed)
    path = parts / f"{part_stem(dataset, rule, seed)}.pt"
    entry = train_recipe(recipe, output=path, force=True, threads=shipped_threads("segnet"), progress=False,
                         prepare=lambda model: with_unpooling(model, rule))
    checkpoint = load_checkpoint(path, expected_sha256=entry["sha256"])
    model = get_model("segnet", **checkpoint["metadata"]["model_kwargs"])
    model.load_state_dict(checkpoint["state_dict"])
    model = with_unpooling(model, rule).eval()
    result = {"dataset": dataset, "rule": rule, "seed": seed,
              **{key: entry[key] for key in ("command", "val_curve", "train_seconds", "trained_on", "sha256")},
              "test": score_on_test_split(model, dataset)}
    part.write_text(json.dumps(result))
    return result


def build_parser() -> argparse.ArgumentParser:
    """The command line of this study."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=["shapes", "digits"], default=["shapes"])
    parser.add_argument("--rules", nargs="+", choices=list(UNPOOLING_RULES), default=list(RULES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--parts", type=Path, default=Path("runs/segnet_unpooling_parts"),
                        help="folder for finished runs (checkpoints and scores); an interrupted study resumes from it")
    parser.add_argument("--output", type=Path, default=Path("runs"),
                        help="folder for the record (default runs/; the lesson's record is in experiment_results)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing a record the course ships")
    parser.add_argument("--partial", action="store_true", help="write the record from the runs finished so far")
    return parser


def main() -> None:
    parser = build_parser()
    arguments = parser.parse_args()
    if any(seed < 0 for seed in arguments.seeds):
        parser.error(f"--seeds must be non-negative integers; got {arguments.seeds}")
    try:
        check_record_target(arguments.output, NAME, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    arguments.parts.mkdir(parents=True, exist_ok=True)
    jobs = [(dataset, rule, seed) for dataset in arguments.datasets for seed in arguments.seeds
            for rule in arguments.rules]  # seed by seed, so a stopped study has whole seeds
    started = time.perf_counter()
    if arguments.partial:
        outcomes = [json.loads(part.read_text()) for job in jobs
                    if (part := arguments.parts / f"{part_stem(*job)}.json").is_file()]
    else:
        outcomes = [one_run(*job, arguments.parts) for job in tqdm(jobs, desc="runs", unit="run")]
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    for outcome in sorted(outcomes, key=lambda run: (run["dataset"], run["rule"], run["seed"])):
        runs.setdefault(outcome["dataset"], {}).setdefault(outcome["rule"], {})[str(outcome["seed"])] = outcome
    results = {"runs": runs, "wall_seconds": round(time.perf_counter() - started, 1),
               "train_cpu_seconds": round(sum(run["train_seconds"] for run in outcomes), 1)}
    arguments.output.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m experiments.segnet_unpooling_study", *sys.argv[1:]])
    path = save_experiment(NAME, command=command, settings=SETTINGS, seeds=sorted({run["seed"] for run in outcomes}),
                           results=results, directory=arguments.output)
    print(f"record written to {path} ({len(outcomes)} of {len(jobs)} runs)")


if __name__ == "__main__":
    main()
