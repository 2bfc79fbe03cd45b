"""What the studies of a shipped recipe with one change share: run the jobs, resume from parts, write the record.

Each job is one (dataset, variant, seed) run of a recipe from ``segedu.training.recipes.RECIPES`` with one change
(e.g. another unpooling in SegNet, another atrous rule in DeepLabv3). A finished run is kept as a JSON part, so an
interrupted study resumes where it stopped; ``--partial`` writes the record from the parts finished so far.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from experiments.recipe_seeds import train_recipe_and_score
from segedu.course.experiments import check_record_target, save_experiment
from segedu.training.recipes import Recipe, shipped_threads

Job = tuple[str, str, int]  # (dataset, variant, seed)


def recipe_variant_run(recipe: Recipe, rule: str, parts: Path, stem: str,
                       prepare: Callable[[Any], Any]) -> dict[str, Any]:
    """One run of ``recipe`` changed by ``prepare`` (or the finished run kept in ``parts``), with its scores.

    Args:
        recipe: The shipped recipe with the run's seed.
        rule: The variant's name, stored with the result.
        parts: The folder of finished runs: ``stem.json`` (the result) and ``stem.pt`` (the checkpoint).
        stem: The run's file name without suffix.
        prepare: The change made to the freshly built model (and to the reloaded one before scoring).

    Returns:
        ``dataset``, ``rule``, ``seed`` and the run's record entries (see ``recipe_seeds.train_recipe_and_score``).
    """
    part = parts / f"{stem}.json"
    if part.is_file():
        return json.loads(part.read_text())
    entry = train_recipe_and_score(recipe, parts / f"{stem}.pt", threads=shipped_threads(recipe.model),
                                   prepare=prepare)
    result = {"dataset": recipe.dataset, "rule": rule, "seed": recipe.seed, **entry}
    part.write_text(json.dumps(result))
    return result


def variant_study_parser(description: str, *, variant_option: str, variants: Sequence[str],
                         default_variants: Sequence[str], parts: Path) -> argparse.ArgumentParser:
    """The command line every such study has: datasets, variants, seeds, parts, output, overwrite, partial.

    Args:
        description: The study's one-line description.
        variant_option: The option naming the variants, e.g. ``"--rules"``.
        variants: The variants the option accepts.
        default_variants: The variants run by default.
        parts: The default folder of finished runs.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--datasets", nargs="+", choices=["shapes", "digits"], default=["shapes"])
    parser.add_argument(variant_option, nargs="+", choices=list(variants), default=list(default_variants))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--parts", type=Path, default=parts,
                        help="folder for finished runs (checkpoints and scores); an interrupted study resumes from it")
    parser.add_argument("--output", type=Path, default=Path("runs"),
                        help="folder for the record (default runs/; the lesson's record is in experiment_results)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing a record the course ships")
    parser.add_argument("--partial", action="store_true", help="write the record from the runs finished so far")
    parser.add_argument("--suffix", default="",
                        help="name the record NAME_SUFFIX (lower-case letters), e.g. moreseeds for seeds stored apart")
    return parser


def parse_study_arguments(parser: argparse.ArgumentParser, name: str) -> argparse.Namespace:
    """Parse the command line, refuse bad seeds, a bad suffix or a shipped record without ``--overwrite``, make the
    parts folder. The record's name, ``name`` or ``name_SUFFIX``, is ``arguments.record_name``."""
    arguments = parser.parse_args()
    if any(seed < 0 for seed in arguments.seeds):
        parser.error(f"--seeds must be non-negative integers; got {arguments.seeds}")
    if arguments.suffix and not (arguments.suffix.isalpha() and arguments.suffix.islower()):
        parser.error(f"--suffix must be lower-case letters, e.g. moreseeds; got {arguments.suffix!r}")
    arguments.record_name = f"{name}_{arguments.suffix}" if arguments.suffix else name
    try:
        check_record_target(arguments.output, arguments.record_name, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    arguments.parts.mkdir(parents=True, exist_ok=True)
    return arguments


def run_variant_study(name: str, settings: dict[str, Any], jobs: Sequence[Job], arguments: argparse.Namespace, *,
                      one_run: Callable[[str, str, int, Path], dict[str, Any]], part_stem: Callable[..., str],
                      variant_key: str, module: str,
                      extra_results: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None) -> Path:
    """Run (or, with ``arguments.partial``, only read) every job and save the record ``name``.

    Args:
        name: The record's name.
        settings: The record's settings.
        jobs: ``(dataset, variant, seed)`` per run, in the order to run them.
        arguments: The parsed command line: ``parts`` (folder of finished runs), ``output``, ``partial``.
        one_run: Trains one job (or reads its part) and returns its result, which holds ``dataset``,
            ``variant_key``, ``seed`` and ``train_seconds``.
        part_stem: A job's part file name without suffix, called as ``part_stem(*job)``.
        variant_key: The result's key of the variant (e.g. ``"rule"``).
        module: The study's module, for the command stored in the record.
        extra_results: Computes further entries of the record's results from the finished runs' results.

    Returns:
        The record's path.
    """
    started = time.perf_counter()
    if arguments.partial:
        outcomes = [json.loads(part.read_text()) for job in jobs
                    if (part := arguments.parts / f"{part_stem(*job)}.json").is_file()]
    else:
        outcomes = [one_run(*job, arguments.parts) for job in tqdm(jobs, desc="runs", unit="run")]
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    for outcome in sorted(outcomes, key=lambda run: (run["dataset"], run[variant_key], run["seed"])):
        runs.setdefault(outcome["dataset"], {}).setdefault(outcome[variant_key], {})[str(outcome["seed"])] = outcome
    results = {"runs": runs, "wall_seconds": round(time.perf_counter() - started, 1),
               "train_cpu_seconds": round(sum(run["train_seconds"] for run in outcomes), 1),
               **(extra_results(outcomes) if extra_results is not None else {})}
    arguments.output.mkdir(parents=True, exist_ok=True)
    command = " ".join([f"python -m {module}", *sys.argv[1:]])
    path = save_experiment(name, command=command, settings=settings, seeds=sorted({run["seed"] for run in outcomes}),
                           results=results, directory=arguments.output)
    print(f"record written to {path} ({len(outcomes)} of {len(jobs)} runs)")
    return path
