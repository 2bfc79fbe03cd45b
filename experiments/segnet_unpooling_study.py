"""Lesson 09's stored study: SegNet trained from scratch without its pooling indices.

Lesson 09 swaps the unpooling of a *trained* SegNet and watches it fail, which cannot tell the positions apart from
inputs the decoder never saw. This study asks the paper's question directly: train SegNet's recipe
(``segedu.training.recipes.RECIPES[("segnet", DATASET)]``: 4,000 steps of batch 16, Adam 3e-3 with cosine decay,
the last bias started at the class frequencies, two threads) with every decoder stage unpooling by one rule of
:func:`segedu.analysis.pooling_indices.with_unpooling`:

* ``top_left``: every value at its window's top-left corner (as sparse, at the wrong place wherever the maximum was
  elsewhere);
* ``nearest``: every value copied into its whole window (dense, no position).

SegNet itself (``indices``, max-unpooling) at seeds 0 to 2 is ``recipe_seeds``'s SegNet runs, the same recipe on the
same kind of CPU (AMD EPYC) with the same two threads; ``--rules indices`` trains it here (seeds 3 to 5 were).

Only the rule changes between the runs of one seed: the same initial weights (seeded before the model is built;
the rules have no weights; the record's ``initial_sha256`` holds each run's starting digest, recomputed when the
record is written by ``segedu.training.recipes.initial_model``, which takes the same steps as the training), the same
scenes in the same order. Every run is scored on the 200 test scenes, over all pixels and in the boundary band (pixels within 2 pixels of a class boundary), with its weights rounded to float16
as shipped, exactly like ``experiments.recipe_seeds``.

A finished run is kept in ``--parts`` (its checkpoint and a JSON file), so an interrupted study resumes where it
stopped; the record is written when every run is there, or with ``--partial`` from those finished so far.
One run takes about 10 to 20 minutes on two idle cores:

    python -m experiments.segnet_unpooling_study --partial         # what is there
    python -m experiments.segnet_unpooling_study --output segedu/course/experiment_results --overwrite

Lesson 09's record was trained in three invocations and then assembled from the parts:

    python -m experiments.segnet_unpooling_study --rules top_left --seeds 0 1 2
    python -m experiments.segnet_unpooling_study --rules indices top_left --seeds 3 4 5
    python -m experiments.segnet_unpooling_study --rules nearest --seeds 0 1 2 3 4 5
    python -m experiments.segnet_unpooling_study --rules indices top_left nearest --seeds 0 1 2 3 4 5 --partial \
        --output segedu/course/experiment_results --overwrite
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from experiments._recipe_variant_study import (
    parse_study_arguments,
    recipe_variant_run,
    run_variant_study,
    variant_study_parser,
)
from segedu.analysis.pooling_indices import UNPOOLING_RULES, with_unpooling
from segedu.training.checkpoints import state_sha256
from segedu.training.recipes import RECIPES, initial_model, shipped_threads

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
    recipe = replace(RECIPES[("segnet", dataset)], seed=seed)
    return recipe_variant_run(recipe, rule, parts, part_stem(dataset, rule, seed),
                              lambda model: with_unpooling(model, rule))


def initial_hashes(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """``initial_sha256[dataset][rule][seed]``: the weights each run starts from, for the finished runs' rules and
    SegNet itself (``indices``) at their seeds; the rules of one seed should share one digest."""
    digests: dict[str, Any] = {}
    for dataset, seed in sorted({(run["dataset"], run["seed"]) for run in outcomes}):
        rules = sorted({"indices", *(run["rule"] for run in outcomes if run["dataset"] == dataset)})
        recipe = replace(RECIPES[("segnet", dataset)], seed=seed)
        for rule in rules:
            start = initial_model(recipe, prepare=lambda model, rule=rule: with_unpooling(model, rule))
            digests.setdefault(dataset, {}).setdefault(rule, {})[str(seed)] = state_sha256(start)
    return {"initial_sha256": digests}


def build_parser() -> argparse.ArgumentParser:
    """The command line of this study."""
    return variant_study_parser(__doc__.splitlines()[0], variant_option="--rules", variants=UNPOOLING_RULES,
                                default_variants=RULES, parts=Path("runs/segnet_unpooling_parts"))


def main() -> None:
    arguments = parse_study_arguments(build_parser(), NAME)
    jobs = [(dataset, rule, seed) for dataset in arguments.datasets for seed in arguments.seeds
            for rule in arguments.rules]  # seed by seed, so a stopped study has whole seeds
    run_variant_study(arguments.record_name, SETTINGS, jobs, arguments, one_run=one_run, part_stem=part_stem,
                      variant_key="rule", module="experiments.segnet_unpooling_study", extra_results=initial_hashes)


if __name__ == "__main__":
    main()
