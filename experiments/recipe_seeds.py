"""Lessons 11 and 16's stored study: the shipped recipes run again with other seeds.

Every shipped checkpoint is one run of its recipe (``segedu train MODEL DATASET``: 4000 steps of
batch 16, Adam 3e-3 with cosine decay, seed 0; one CPU thread, except SegNet's two, whose last bias also starts at
the class frequencies, see ``segedu.training.recipes.RECIPES``). A lesson that compares two of them
needs to know how far another seed would move each score. This study runs the *same* recipes with
seeds 1 and 2 (only the seed changes: initial weights and the order of the freshly drawn scenes) and
scores every run on the whole test split, over all pixels and in the boundary band (pixels within
2 pixels of a class boundary, :func:`segedu.training.metrics.boundary_band`, lesson 11's band).
Seed 0 is the shipped checkpoint itself, scored the same way, so the record holds three seeds per
model and dataset.

Each run is one process with its recipe's thread count (``--workers`` at once). A finished run is kept in
``--parts`` (its checkpoint and a JSON file with its manifest-style entry), so an interrupted study
resumes where it stopped; the record is written when every run is there, or with ``--partial``
from the runs finished so far. The record goes to ``--output`` (default ``runs/``), never over the
shipped record unless ``--output segedu/course/experiment_results --overwrite`` asks for it.

Every finished run of the shipped record (scores and curves, no checkpoints) is kept in
``experiments/recipe_seeds_parts/``, so the record is rewritten from them without training:
``--datasets shapes digits --models deeplabv3 fcn32s fcn8s segnet unet --parts experiments/recipe_seeds_parts``
(a run not there is trained: the record's 20 trained runs took 13 to 79 minutes each, 9.1 hours in all, on one
thread of a busy 2-core machine).

    python -m experiments.recipe_seeds                     # 16 training runs (deeplabv3 is opt-in)
    python -m experiments.recipe_seeds --datasets shapes   # half of it
    python -m experiments.recipe_seeds --models deeplabv3  # lesson 17's model

``--steps N`` trains every seed (seed 0 too, not the shipped checkpoint) for ``N`` steps instead of the recipe's,
with the recipe's cosine schedule stretched over them, into a record of its own (``recipe_seeds_{N}steps``).
Lesson 07's record asks whether FCN-32s was under-trained at 4,000 steps:

    python -m experiments.recipe_seeds --models fcn32s --datasets shapes --steps 8000

Lesson 07 scores FCN-16s, which ships no checkpoint, from the same recipe's 4,000 steps, seeds 0 to 2 (its runs'
scores and curves are kept in ``experiments/recipe_seeds_parts/``):

    python -m experiments.recipe_seeds --models fcn16s --datasets shapes --seeds 0 1 2 --steps 4000 --workers 1 \
        --parts experiments/recipe_seeds_parts --output segedu/course/experiment_results --overwrite

``--prior-bias`` starts every run's last class-score bias at the log class shares (``Recipe.prior_bias``, already
part of SegNet's recipe) and ``--threads N`` gives each run N threads (use ``--workers 1`` with ``--threads 2`` on two
cores); either one trains seed 0 too and writes a record of its own (``recipe_seeds_prior``,
``recipe_seeds_threads2``, ``recipe_seeds_prior_threads2``). They ask how the other models would fare with SegNet's
settings:

    python -m experiments.recipe_seeds --prior-bias --threads 2 --workers 1 --datasets shapes --models fcn32s
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from segedu.course.experiments import check_record_target, save_experiment
from segedu.models import get_model
from segedu.training.checkpoints import load_checkpoint
from segedu.training.evaluation import evaluate
from segedu.training.metrics import boundary_band
from segedu.training.recipes import RECIPES, Recipe, offline_dataset, shipped_threads, train_recipe
from segedu.training.shipped import pretrained, pretrained_info

NAME = "recipe_seeds"
MODELS = ("fcn32s", "fcn8s", "segnet", "unet")
DATASETS = ("shapes", "digits")
BAND_WIDTH = 2
RUN_KEYS = ("command", "val_curve", "train_seconds", "trained_on", "sha256")  # what a record keeps of a run
SETTINGS = {
    "recipe": "segedu.training.recipes.RECIPES[(model, dataset)] with only the seed replaced",
    "seed_0": "the shipped checkpoint (segedu.training.shipped.pretrained), scored like the new runs",
    "threads": "each recipe's (segedu.training.recipes.shipped_threads: SegNet 2, the others 1)",
    "band_width": BAND_WIDTH,
    "scored_on": "whole test split (200 scenes), weights rounded to float16 as shipped",
    "varies_with_seed": "initial weights and the order of the freshly drawn training scenes",
}


def score_on_test_split(model: torch.nn.Module, dataset: str) -> dict[str, Any]:
    """Test-split metrics over all pixels and in the boundary band, rounded to 4 decimals."""
    test_data = offline_dataset(dataset, "test")
    scores = {}
    for key, valid in (("all", None), ("band", lambda masks: boundary_band(masks, BAND_WIDTH))):
        metrics = evaluate(model, test_data, valid_mask_fn=valid)
        scores[key] = {name: (round(float(value), 4) if name != "iou_per_class"
                              else [round(float(v), 4) for v in value]) for name, value in metrics.items()}
    return scores


def train_recipe_and_score(recipe: Recipe, path: Path, *, threads: int,
                    prepare: Callable[[torch.nn.Module], torch.nn.Module] | None = None) -> dict[str, Any]:
    """Train ``recipe`` into ``path`` (``prepare`` applied to the fresh model), reload it by hash, score it.

    Args:
        recipe: The run's recipe (its seed included).
        path: Where the checkpoint goes (replaced if there).
        threads: CPU threads of the training.
        prepare: A change made to the freshly built model before training and again to the reloaded one before
            scoring (e.g. another unpooling); ``None`` for the recipe's model itself.

    Returns:
        The run's ``command``, ``val_curve``, ``train_seconds``, ``trained_on`` and ``sha256``, and ``test``: its
        :func:`score_on_test_split` scores.
    """
    full = train_recipe(recipe, output=path, force=True, threads=threads, progress=False, prepare=prepare)
    checkpoint = load_checkpoint(path, expected_sha256=full["sha256"])
    model = get_model(recipe.model, **checkpoint["metadata"]["model_kwargs"])
    model.load_state_dict(checkpoint["state_dict"])
    model = (model if prepare is None else prepare(model)).eval()
    return {**{key: full[key] for key in RUN_KEYS}, "test": score_on_test_split(model, recipe.dataset)}


def _part_stem(model_name: str, dataset: str, seed: int, steps: int | None, prior_bias: bool = False,
               threads: int | None = None) -> str:
    """A finished run's file name without suffix: the recipe's own settings unnamed, every change named."""
    shipped_count = shipped_threads(model_name)
    threads = threads or shipped_count
    prior_bias = prior_bias and not RECIPES[(model_name, dataset)].prior_bias
    return (f"{model_name}-{dataset}-seed{seed}" + (f"-{steps}steps" if steps is not None else "")
            + ("-prior" if prior_bias else "") + (f"-threads{threads}" if threads != shipped_count else ""))


def record_name(steps: int | None, prior_bias: bool = False, threads: int | None = None) -> str:
    """The record's name: ``recipe_seeds`` for the recipe itself, with every change named after it."""
    return (NAME + (f"_{steps}steps" if steps is not None else "") + ("_prior" if prior_bias else "")
            + (f"_threads{threads}" if threads is not None else ""))


def one_run(job: tuple[Any, ...]) -> dict[str, Any]:
    """Train (or, for seed 0 at the recipe's steps, load the shipped) ``job``'s model; its scores and curve.

    ``job`` is ``(model, dataset, seed, parts)``, optionally followed by ``steps`` (``None``: the recipe's),
    ``prior_bias`` (default ``False``) and ``threads`` (default ``None``: the recipe's). Only seed 0 of the recipe
    itself is the shipped checkpoint; any change trains seed 0 too.
    """
    model_name, dataset, seed, parts, *rest = job
    steps, prior_bias, threads = (*rest, *(None, False, None)[len(rest):])  # the defaults fill what the job leaves out
    shipped_count = shipped_threads(model_name)
    threads = threads or shipped_count
    prior_bias = prior_bias and not RECIPES[(model_name, dataset)].prior_bias  # a change only where it is one
    stem = _part_stem(model_name, dataset, seed, steps, prior_bias, threads)
    part = Path(parts) / f"{stem}.json"
    if part.is_file():
        return json.loads(part.read_text())
    torch.set_num_threads(threads)
    if seed == 0 and steps is None and not prior_bias and threads == shipped_count:
        info = pretrained_info(model_name, dataset)
        entry = {**{key: info[key] for key in RUN_KEYS},
                 "test": score_on_test_split(pretrained(model_name, dataset), dataset)}
    else:
        recipe = replace(RECIPES[(model_name, dataset)], seed=seed)
        recipe = recipe if steps is None else replace(recipe, steps=steps)
        recipe = replace(recipe, prior_bias=True) if prior_bias else recipe
        entry = train_recipe_and_score(recipe, Path(parts) / f"{stem}.pt", threads=threads)
    result = {"model": model_name, "dataset": dataset, "seed": seed, **entry}
    if steps is not None:
        result["steps"] = steps
    if prior_bias or threads != shipped_count:
        result.update(prior_bias=prior_bias, threads=threads)
    part.write_text(json.dumps(result))
    return result


def build_parser() -> argparse.ArgumentParser:
    """The command line of this study."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=sorted({model for model, _ in RECIPES}), default=list(MODELS))
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2, help="runs at once, one process and one thread each")
    parser.add_argument("--parts", type=Path, default=Path("runs/recipe_seeds_parts"),
                        help="folder for finished runs (checkpoints and scores); an interrupted study resumes from it")
    parser.add_argument("--output", type=Path, default=Path("runs"),
                        help="folder for the record (default runs/; the lesson's record is in experiment_results)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing a record the course ships")
    parser.add_argument("--partial", action="store_true", help="write the record from the runs finished so far")
    parser.add_argument("--steps", type=int, default=None,
                        help="train every seed for this many steps instead of the recipe's (a record of its own)")
    parser.add_argument("--prior-bias", action="store_true",
                        help="start the last bias at the log class shares (trains seed 0 too; a record of its own)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per run (default: each recipe's, as shipped; a count is a record of its own)")
    return parser


def main() -> None:
    parser = build_parser()
    arguments = parser.parse_args()
    if any(seed < 0 for seed in arguments.seeds):
        parser.error(f"--seeds must be non-negative integers; got {arguments.seeds}")
    if arguments.steps is not None and arguments.steps < 1:
        parser.error(f"--steps must be a positive number of steps; got {arguments.steps}")
    if arguments.threads is not None and arguments.threads < 1:
        parser.error(f"--threads must be 1 or more; got {arguments.threads}")
    variant = (arguments.steps, arguments.prior_bias, arguments.threads)
    name = record_name(*variant)
    try:
        check_record_target(arguments.output, name, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    arguments.parts.mkdir(parents=True, exist_ok=True)
    jobs = [(model, dataset, seed, str(arguments.parts), *variant) for dataset in arguments.datasets
            for seed in arguments.seeds for model in arguments.models]
    started = time.perf_counter()
    if arguments.partial:
        outcomes = [json.loads(part.read_text()) for job in jobs
                    if (part := arguments.parts / f"{_part_stem(*job[:3], *variant)}.json").is_file()]
    else:
        with multiprocessing.get_context("fork").Pool(arguments.workers) as pool:
            outcomes = list(tqdm(pool.imap_unordered(one_run, jobs), total=len(jobs), desc="runs", unit="run"))
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    for outcome in sorted(outcomes, key=lambda run: (run["dataset"], run["model"], run["seed"])):
        runs.setdefault(outcome["dataset"], {}).setdefault(outcome["model"], {})[str(outcome["seed"])] = outcome
    changed = name != NAME  # any change trains seed 0 too
    trained = [run for run in outcomes if run["seed"] != 0 or changed]  # not the shipped ones
    results = {"runs": runs, "wall_seconds": round(time.perf_counter() - started, 1),
               "train_cpu_seconds": round(sum(run["train_seconds"] for run in trained), 1)}
    arguments.output.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m experiments.recipe_seeds", *sys.argv[1:]])
    seeds = sorted({run["seed"] for run in outcomes})
    settings = dict(SETTINGS)
    if arguments.steps is not None:
        settings["steps"] = arguments.steps
    if arguments.prior_bias:
        settings["prior_bias"] = "last class-score bias started at the log class shares (Recipe.prior_bias)"
    if arguments.threads is not None:
        settings["threads"] = arguments.threads
    if changed:
        settings["seed_0"] = "trained like the other seeds"
    path = save_experiment(name, command=command, settings=settings, seeds=seeds, results=results,
                           directory=arguments.output)
    print(f"record written to {path} ({len(outcomes)} of {len(jobs)} runs)")


if __name__ == "__main__":
    main()
