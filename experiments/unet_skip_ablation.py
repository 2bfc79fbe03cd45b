"""Lesson 09's skip ablation over several seeds: a small U-Net trained with and without skips.

Each seed trains both versions (:func:`segedu.analysis.skip_ablation.train_skip_pair`: same
initial seed, batches, 200 steps of 8 scenes, learning rate 0.01) on the same 400 object/background
scenes and scores them on the same 100 validation scenes, on all pixels and on the pixels within
2 pixels of a boundary. Each seed also trains the pair for the 50 steps (one pass over the 400
scenes) that the lesson repeats live. For seed 0 after 200 steps the record keeps what the lesson
draws: P(object) on the first five validation scenes and the decoder's last features on scene 1
(:func:`segedu.analysis.skip_ablation.encode_map`). One CPU thread, as in the lessons, so the
lesson's live run reproduces the record's seed-0 row at 50 steps.

    python -m experiments.unet_skip_ablation            # about 2-3 minutes of CPU on one thread
"""

from __future__ import annotations

import argparse
import time

import torch
from tqdm import tqdm

from segedu.analysis.costs import count_parameters
from segedu.analysis.skip_ablation import (
    BAND_WIDTH,
    SCORE_NAMES,
    band_scores,
    encode_map,
    object_scenes,
    train_skip_pair,
)
from segedu.analysis.unet_anatomy import trace_unet
from segedu.course.experiments import save_experiment

NAME = "unet_skip_ablation"
SETTINGS = {
    "model": "UNet(3, 2, base_channels=4), skip_connections False / True",
    "task": "object (any shape) vs background, ShapesScenes 64x64, seed 0",
    "train_scenes": 400,
    "val_scenes": 100,
    "steps": 200,
    "live_steps": 50,
    "batch_size": 8,
    "lr": 0.01,
    "optimizer": "adam, constant learning rate",
    "band_width": BAND_WIDTH,
    "threads": 1,
    "scores": list(SCORE_NAMES),
    "varies_with_seed": "initial weights and batch order (the scenes are the same for every seed)",
    "maps": "seed 0 after `steps`: P(object) on validation scenes 0-4, decoder features on scene 1",
}
SCENES_DRAWN = [0, 1, 2, 3, 4]
FEATURE_SCENE = 1


def _scores(models: dict, val_scenes: list) -> dict[str, list[float]]:
    return {name: [round(value, 6) for value in band_scores(model, val_scenes)] for name, model in models.items()}


@torch.no_grad()
def _maps(models: dict, val_scenes: list) -> dict:
    """P(object) (64, 64) per drawn scene and the last decoder features (C, 64, 64), encoded."""
    probabilities = {name: [encode_map(model(val_scenes[index][0][None]).softmax(dim=1)[0, 1], low=0.0, high=1.0)
                            for index in SCENES_DRAWN] for name, model in models.items()}
    features = {name: encode_map(trace_unet(model, val_scenes[FEATURE_SCENE][0]).features[0])
                for name, model in models.items()}
    return {"scenes": SCENES_DRAWN, "p_object": probabilities, "feature_scene": FEATURE_SCENE, "features": features}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    arguments = parser.parse_args()
    torch.set_num_threads(SETTINGS["threads"])
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    train_scenes = object_scenes("train", SETTINGS["train_scenes"])
    val_scenes = object_scenes("val", SETTINGS["val_scenes"])
    full: dict[str, dict[str, list[float]]] = {}
    short: dict[str, dict[str, list[float]]] = {}
    parameters: dict[str, int] = {}
    maps: dict = {}
    for seed in tqdm(arguments.seeds, desc="seeds"):
        pair = {"steps": SETTINGS["steps"], "batch_size": SETTINGS["batch_size"], "lr": SETTINGS["lr"]}
        models = train_skip_pair(train_scenes, seed, **pair)
        full[str(seed)] = _scores(models, val_scenes)
        parameters = {name: count_parameters(model) for name, model in models.items()}
        if seed == arguments.seeds[0]:
            maps = {"seed": seed, **_maps(models, val_scenes)}
        short[str(seed)] = _scores(train_skip_pair(train_scenes, seed, **{**pair, "steps": SETTINGS["live_steps"]}),
                                   val_scenes)
    results = {
        "per_seed": full,
        "per_seed_live_steps": short,
        "maps": maps,
        "cpu_seconds": round(time.process_time() - started_cpu, 1),
        "wall_seconds": round(time.perf_counter() - started_wall, 1),
    }
    save_experiment(NAME, command=f"python -m experiments.{NAME}", settings={**SETTINGS, "parameters": parameters},
                    seeds=arguments.seeds, results=results)


if __name__ == "__main__":
    main()
