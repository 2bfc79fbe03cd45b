"""Lesson 10's skip ablation over several seeds: a small U-Net trained with and without skips.

Each seed trains both versions (:func:`segedu.analysis.skip_ablation.train_skip_pair`: same
initial seed, batches, 200 steps of 8 scenes, learning rate 0.01) on the same 400 object/background
scenes and scores them on the same 100 validation scenes, on all pixels and on the pixels within
2 pixels of a boundary. Each seed also trains the pair for the 50 steps (one pass over the 400
scenes) that the lesson repeats live. For seed 0 after 200 steps the record keeps what the lesson
draws: P(object) on the first five validation scenes and the decoder's last features on scene 1
(:func:`segedu.analysis.skip_ablation.encode_map`). One CPU thread, as in the lessons, so the
lesson's live run reproduces the record's seed-0 row at 50 steps.

    python -m experiments.unet_skip_ablation            # about 2-3 minutes of CPU on one thread
    python -m experiments.unet_skip_ablation_1000       # the longer study (--steps 1000), about 10 CPU-minutes

With ``--steps`` other than 200 the record is named ``unet_skip_ablation_STEPS`` and holds no
50-step rows (those live in the 200-step record); the 1000-step record is run through the wrapper
:mod:`experiments.unet_skip_ablation_1000`, whose name is the record's. ``--seeds`` and ``--directory`` let the seeds run
as separate processes; :func:`merge_records` joins their records into one.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

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
LONGER_STEPS = 1000  # the second record's steps, run by experiments/unet_skip_ablation_1000.py
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


def record_name(steps: int) -> str:
    """The record's name: ``unet_skip_ablation`` at the default 200 steps, else ``unet_skip_ablation_STEPS``."""
    return NAME if steps == SETTINGS["steps"] else f"{NAME}_{steps}"


def merge_records(paths: list[Path], directory: Path | None = None) -> Path:
    """Join records of the same study run on different seeds (separate processes) into one record.

    Args:
        paths: Records written by this script with the same settings and disjoint seeds.
        directory: Where to write the merged record (default the course's results folder).

    Returns:
        The path written.
    """
    records = [json.loads(Path(path).read_text(encoding="utf-8")) for path in paths]
    first = records[0]
    if any(record["settings"] != first["settings"] or record["name"] != first["name"] for record in records):
        raise ValueError("the records do not come from the same study")
    seeds = sorted(seed for record in records for seed in record["seeds"])
    if len(seeds) != len(set(seeds)):
        raise ValueError(f"seeds overlap: {seeds}")
    results: dict = {key: {} for key in ("per_seed", "per_seed_live_steps")}
    for record in sorted(records, key=lambda record: record["seeds"][0]):
        for key in results:
            results[key].update(record["results"].get(key, {}))
    results = {key: value for key, value in results.items() if value}
    maps = [record["results"]["maps"] for record in records if record["results"]["maps"].get("seed") == seeds[0]]
    results["maps"] = maps[0] if maps else {}
    for key in ("cpu_seconds", "wall_seconds"):  # summed over the processes
        results[key] = round(sum(record["results"][key] for record in records), 1)
    path = save_experiment(first["name"], command=first["command"], settings=first["settings"], seeds=seeds,
                           results=results, directory=directory)
    merged = json.loads(path.read_text(encoding="utf-8"))
    merged["ran_on"] = first["ran_on"]  # the machine and threads of the runs, not of this merge
    path.write_text(json.dumps(merged, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    """Run the study; ``argv`` as on the command line (default ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=SETTINGS["steps"], help="training steps per model")
    parser.add_argument("--directory", type=Path, default=None, help="where to write (default: the course's)")
    arguments = parser.parse_args(argv)
    settings = {**SETTINGS, "steps": arguments.steps}
    live = arguments.steps == SETTINGS["steps"]
    if not live:
        del settings["live_steps"]
    torch.set_num_threads(SETTINGS["threads"])
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    train_scenes = object_scenes("train", SETTINGS["train_scenes"])
    val_scenes = object_scenes("val", SETTINGS["val_scenes"])
    full: dict[str, dict[str, list[float]]] = {}
    short: dict[str, dict[str, list[float]]] = {}
    parameters: dict[str, int] = {}
    maps: dict = {}
    for seed in tqdm(arguments.seeds, desc="seeds"):
        pair = {"steps": settings["steps"], "batch_size": settings["batch_size"], "lr": settings["lr"]}
        models = train_skip_pair(train_scenes, seed, **pair)
        full[str(seed)] = _scores(models, val_scenes)
        parameters = {name: count_parameters(model) for name, model in models.items()}
        if seed == arguments.seeds[0]:
            maps = {"seed": seed, **_maps(models, val_scenes)}
        if live:
            short[str(seed)] = _scores(
                train_skip_pair(train_scenes, seed, **{**pair, "steps": SETTINGS["live_steps"]}), val_scenes)
    results = {
        "per_seed": full,
        **({"per_seed_live_steps": short} if live else {}),
        "maps": maps,
        "cpu_seconds": round(time.process_time() - started_cpu, 1),
        "wall_seconds": round(time.perf_counter() - started_wall, 1),
    }
    command = f"python -m experiments.{NAME}" + ("" if live else f" --steps {arguments.steps}")
    if arguments.steps == LONGER_STEPS:
        command = f"python -m experiments.{record_name(LONGER_STEPS)}"  # the wrapper script of that name
    save_experiment(record_name(arguments.steps), command=command, settings={**settings, "parameters": parameters},
                    seeds=arguments.seeds, results=results, directory=arguments.directory)


if __name__ == "__main__":
    main()
