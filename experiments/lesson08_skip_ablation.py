"""Lesson 08's skip ablation over several seeds: a small U-Net trained with and without skips.

Each seed trains both versions (:func:`segedu.analysis.skip_ablation.train_skip_pair`: same
initial seed, batches, 200 steps of 8 scenes, learning rate 0.01) on the same 400 object/background
scenes and scores them on the same 100 validation scenes, on all pixels and on the pixels within
2 pixels of a boundary. One CPU thread, as in the lessons, so seed 0 here equals the lesson's live run.

    python -m experiments.lesson08_skip_ablation            # about 1-2 minutes per seed on one thread
"""

from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

from segedu.analysis.costs import count_parameters
from segedu.analysis.skip_ablation import BAND_WIDTH, SCORE_NAMES, band_scores, object_scenes, train_skip_pair
from segedu.course.experiments import save_experiment

NAME = "lesson08_skip_ablation"
SETTINGS = {
    "model": "UNet(3, 2, base_channels=4), skip_connections False / True",
    "task": "object (any shape) vs background, ShapesScenes 64x64, seed 0",
    "train_scenes": 400,
    "val_scenes": 100,
    "steps": 200,
    "batch_size": 8,
    "lr": 0.01,
    "optimizer": "adam, constant learning rate",
    "band_width": BAND_WIDTH,
    "threads": 1,
    "scores": list(SCORE_NAMES),
    "varies_with_seed": "initial weights and batch order (the scenes are the same for every seed)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    arguments = parser.parse_args()
    torch.set_num_threads(SETTINGS["threads"])
    train_scenes = object_scenes("train", SETTINGS["train_scenes"])
    val_scenes = object_scenes("val", SETTINGS["val_scenes"])
    results: dict[str, dict[str, list[float]]] = {}
    parameters: dict[str, int] = {}
    for seed in tqdm(arguments.seeds, desc="seeds"):
        models = train_skip_pair(train_scenes, seed, steps=SETTINGS["steps"], batch_size=SETTINGS["batch_size"],
                                 lr=SETTINGS["lr"])
        results[str(seed)] = {name: [round(value, 6) for value in band_scores(model, val_scenes)]
                              for name, model in models.items()}
        parameters = {name: count_parameters(model) for name, model in models.items()}
    save_experiment(NAME, command=f"python -m experiments.{NAME}", settings={**SETTINGS, "parameters": parameters},
                    seeds=arguments.seeds, results=results)


if __name__ == "__main__":
    main()
