"""Lesson 12's second network: the shipped shapes U-Net's recipe run again with another seed, its weights kept.

Lesson 12 dissects the shipped U-Net (seed 0) channel by channel. Whether another training run gives its channels
the same roles needs a second trained network. This script trains the same recipe with seed 1 (``segedu train unet
shapes --seed 1``, through :func:`experiments.recipe_seeds.one_run`, so the run is the one whose test scores the
``recipe_seeds`` record lists) and keeps its checkpoint (float16, about 1 MB) next to its record with its SHA-256.
A finished run is kept in ``--parts``, so a second call copies it instead of training again.

    python -m experiments.lesson11_second_unet            # about 11 minutes on one thread of a 2-core machine
    python -m experiments.lesson11_second_unet --output segedu/course/experiment_results --overwrite
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from experiments.recipe_seeds import one_run
from segedu.course.experiments import check_record_target, save_experiment

NAME = "lesson11_second_unet"


def checkpoint_name(seed: int) -> str:
    """The checkpoint's file name next to the record."""
    return f"{NAME}_seed{seed}.pt"


def build_parser() -> argparse.ArgumentParser:
    """The command line: the seed, where finished runs and the record go."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="seed of the run (0 is the shipped checkpoint itself)")
    parser.add_argument("--parts", type=Path, default=Path("runs/recipe_seeds_parts"),
                        help="folder for the finished run (shared with experiments.recipe_seeds)")
    parser.add_argument("--output", type=Path, default=Path("runs"),
                        help="folder for the record and the checkpoint (default runs/)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing a record the course ships")
    return parser


def main() -> None:
    parser = build_parser()
    arguments = parser.parse_args()
    if arguments.seed < 1:
        parser.error(f"--seed must be 1 or more (seed 0 is the shipped checkpoint); got {arguments.seed}")
    try:
        check_record_target(arguments.output, NAME, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    arguments.parts.mkdir(parents=True, exist_ok=True)
    run = one_run(("unet", "shapes", arguments.seed, str(arguments.parts)))  # trains, or reads the finished run
    arguments.output.mkdir(parents=True, exist_ok=True)
    target = arguments.output / checkpoint_name(arguments.seed)
    shutil.copyfile(arguments.parts / f"unet-shapes-seed{arguments.seed}.pt", target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    if digest != run["sha256"]:
        raise RuntimeError(f"{target}: its SHA-256 differs from the one training returned")
    settings = {"model": "unet", "dataset": "shapes", "recipe": run["command"], "trained_on": run["trained_on"],
                "varies_with_seed": "initial weights and the order of the freshly drawn training scenes"}
    results = {"checkpoint": {"file": target.name, "sha256": digest}, "test": run["test"],
               "train_seconds": run["train_seconds"], "val_curve": run["val_curve"]}
    command = " ".join([f"python -m experiments.{NAME}", *sys.argv[1:]])
    path = save_experiment(NAME, command=command, settings=settings, seeds=[arguments.seed], results=results,
                           directory=arguments.output)
    print(f"record written to {path}; checkpoint {target} (sha256 {digest[:12]}...)")


if __name__ == "__main__":
    main()
