"""Lesson 17's stored study: DeepLabv3 trained with the previous atrous rate kept where a stride was.

segedu's DeepLabv3 gives every 3x3 conv of an atrous block the block's rate; torchvision's
``replace_stride_with_dilation`` (and the paper's code) keeps the previous rate in the conv that used to stride, so
the dense backbone reproduces the strided one (:func:`segedu.analysis.atrous.with_previous_rate`). Lesson 17 measures
what segedu's rule costs in features and taps, and finds DeepLabv3 behind FCN-8s, SegNet and U-Net; this study asks
whether the rule is why. It trains DeepLabv3's recipe (``segedu.training.recipes.RECIPES[("deeplabv3", DATASET)]``:
4,000 steps of batch 16, Adam 3e-3 with cosine decay, one thread) with the rule changed on the freshly built model:

* ``previous_rate``: block3's first conv at rate 1 and block4's at rate 2 (output stride 8), the others at 2 and 4;
* ``block_rate``: segedu's own rule, unchanged: every 3x3 conv of a block at the block's rate.

``block_rate`` is the recipe itself, trained again here: ``recipe_seeds``'s DeepLabv3 runs ran on another kind of CPU
(Intel Xeon), and a run's floating-point path, and so its trajectory, depends on the CPU. So both rules of a seed run
on one machine with the same one thread. Only the rule changes: the same initial weights (the rule has no weights),
the same scenes in the same order. Every run is scored on the 200 test scenes, over all pixels and in
the boundary band, with its weights rounded to float16 as shipped, exactly like ``experiments.recipe_seeds``.

A finished run is kept in ``--parts``, so an interrupted study resumes where it stopped; the record is written when
every run is there, or with ``--partial`` from those finished so far. One run takes about 10 to 35 minutes on one
idle core:

    python -m experiments.deeplab_rate_study --partial         # what is there
    python -m experiments.deeplab_rate_study --datasets shapes digits \
        --output segedu/course/experiment_results --overwrite

Seeds 3 to 5 on the shapes are stored apart, as ``deeplab_rate_study_moreseeds`` (same script, recipe, CPU type and
one thread per run; each rule in its own process, then the record from the finished parts):

    python -m experiments.deeplab_rate_study --rules block_rate --seeds 3 4 5 --suffix moreseeds &
    python -m experiments.deeplab_rate_study --rules previous_rate --seeds 3 4 5 --suffix moreseeds
    python -m experiments.deeplab_rate_study --seeds 3 4 5 --suffix moreseeds --partial \
        --output segedu/course/experiment_results
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
from segedu.analysis.atrous import with_previous_rate
from segedu.models import DeepLabV3
from segedu.training.recipes import RECIPES, shipped_threads

NAME = "deeplab_rate_study"
def one_rate_per_block(model: DeepLabV3) -> DeepLabV3:
    """segedu's own rule: the model as built (every 3x3 conv of an atrous block at the block's rate)."""
    return model


RULES = {"block_rate": one_rate_per_block,  # rule -> the change made to a fresh (and the reloaded) DeepLabv3
         "previous_rate": with_previous_rate}
SETTINGS = {
    "recipe": "segedu.training.recipes.RECIPES[('deeplabv3', dataset)] with only the seed replaced",
    "atrous_rule": "segedu.analysis.atrous.with_previous_rate(model) on the freshly built model",
    "threads": shipped_threads("deeplabv3"),
    "band_width": 2,
    "scored_on": "whole test split (200 scenes), weights rounded to float16 as shipped",
    "varies_with_seed": "initial weights and the order of the freshly drawn training scenes",
    "varies_with_rule": "only the dilation and padding of block3's and block4's first 3x3 conv (no weights)",
    "machine": "both rules of a seed on one machine (recipe_seeds's DeepLabv3 runs ran on another kind of CPU)",
}


def part_stem(dataset: str, rule: str, seed: int) -> str:
    """A finished run's file name without suffix."""
    return f"deeplabv3-{dataset}-{rule}-seed{seed}"


def one_run(dataset: str, rule: str, seed: int, parts: Path) -> dict[str, Any]:
    """Train DeepLabv3's recipe with ``rule`` (or read the finished run from ``parts``); its scores."""
    recipe = replace(RECIPES[("deeplabv3", dataset)], seed=seed)
    return recipe_variant_run(recipe, rule, parts, part_stem(dataset, rule, seed), RULES[rule])


def build_parser() -> argparse.ArgumentParser:
    """The command line of this study."""
    return variant_study_parser(__doc__.splitlines()[0], variant_option="--rules", variants=list(RULES),
                                default_variants=list(RULES), parts=Path("runs/deeplab_rate_parts"))


def main() -> None:
    arguments = parse_study_arguments(build_parser(), NAME)
    jobs = [(dataset, rule, seed) for dataset in arguments.datasets for seed in arguments.seeds
            for rule in arguments.rules]  # seed by seed, so a stopped study has whole seeds
    run_variant_study(arguments.record_name, SETTINGS, jobs, arguments, one_run=one_run, part_stem=part_stem,
                      variant_key="rule", module="experiments.deeplab_rate_study")


if __name__ == "__main__":
    main()
