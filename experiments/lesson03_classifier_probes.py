"""Lesson 03's position probes over several seeds: what a classifier trained end to end keeps of "where".

For each seed, three networks with the same three conv-conv-pool stages (base width 8):

- ``untrained``: TinyClassifier with its random initial weights (the baseline: what the
  architecture alone keeps);
- ``fc``: TinyClassifier (flatten -> fc1 -> fc2 -> classifier) trained end to end on "which shapes
  are present?" (multi-label, binary cross-entropy) on 32x32 scenes;
- ``gap``: GAPClassifier (mean over the grid -> classifier), trained the same way.

Both trained networks get the same steps, batches and learning rate (the seed sets their initial
weights and the batch order; the scenes are the same for every seed). Then a linear probe
(closed-form ridge regression, penalty chosen on a validation split) tries to read the centre of
a single shape from every layer, on images it was not fitted on; the error is the mean distance
in pixels. One CPU thread, as in the lesson. Each seed is independent of the others, so seeds can run
in separate processes (``--seeds 1 --directory DIR``) and their records be merged.

For the FC networks the record also counts fc1's *silent* units: those whose output (after the ReLU) is zero
on every probe image, so that they carry nothing a probe could read; for the trained network also with fc1
put back to its initial weights on the trained stages.
Each trained network's record keeps its training-loss curve (the mean loss of every 50 steps), its accuracy
on the first 2000 training scenes beside its validation accuracy, and its training time in CPU seconds.

The same run also writes the head control (``lesson03_head_control``): for each seed, fc1 probed in the
untrained FC network, in the trained one, and in the trained stages with fc1, fc2 and the classifier put
back to the seed's initial weights (what fc1 would give if only the stages had learned: a random ReLU
projection of the trained stage-3 map to 64 numbers, the same width as the trained fc1). The trained
FC network of seed 0 is also saved as a checkpoint next to the record (``lesson03_fc_seed0.pt``, its SHA-256
in the record), so that the lesson probes and explores that very network instead of training one live.

    python -m experiments.lesson03_classifier_probes       # about 4 CPU minutes per seed, one thread

Seeds can run in parallel processes and be merged afterwards:

    python -m experiments.lesson03_classifier_probes --seeds 1 --directory /tmp/seed1
    python -m experiments.lesson03_classifier_probes --merge /tmp/seed0 /tmp/seed1 /tmp/seed2
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import time
from pathlib import Path

import torch
from tqdm import tqdm

from segedu.analysis.costs import count_parameters
from segedu.analysis.probes import (
    chance_error,
    classifier_activations,
    position_probe_errors,
    presence_scenes,
    presence_targets,
    single_shape_images,
)
from segedu.course.experiments import RESULTS_DIR, save_experiment
from segedu.models import TinyClassifier
from segedu.models.gap_classifier import GAPClassifier
from segedu.training.checkpoints import save_checkpoint
from segedu.training.presence import presence_accuracy, train_presence_classifier

NAME = "lesson03_classifier_probes"
SETTINGS = {
    "models": {
        "untrained": "TinyClassifier(3, 3, base_channels=8, image_size=32, hidden_features=64), initial weights",
        "fc": "TinyClassifier(3, 3, base_channels=8, image_size=32, hidden_features=64)",
        "gap": "GAPClassifier(3, 3, base_channels=8)",
    },
    "task": "which of circle, square, triangle are present (multi-label), presence_scenes 32x32, "
            "0-2 shapes, radius 0.2-0.28, no clutter",
    "train_scenes": 20000,
    "train_scenes_seed": 0,
    "train_accuracy_scenes": "the first 2000 training scenes",
    "val_scenes": 400,
    "val_scenes_seed": 1,
    "steps": 4000,
    "batch_size": 32,
    "lr": 3e-3,
    "optimizer": "adam, cosine decay to 0",
    "probe_images": {"train": 400, "validation": 150, "test": 300},
    "probe_seeds": {"train": 10, "validation": 11, "test": 12},
    "probe_target": "(row, column) of the single shape's centre, single_shape_images 32x32, "
                    "radius 0.2-0.28, no clutter",
    "threads": 1,
    "varies_with_seed": "initial weights and batch order (scenes and probe images are the same for every seed)",
}
RADIUS_RANGE = (0.2, 0.28)
CURVE_EVERY = 50  # steps averaged into one point of the stored loss curve
CHECKPOINT = "lesson03_fc_seed0.pt"  # the trained FC network of seed 0, next to the record
CONTROL = "lesson03_head_control"  # the second record this run writes
HEAD_LAYERS = ("fc1", "fc2", "classifier")
TRAIN_ACCURACY_SCENES = 2000


def probe_data() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Single-shape images and their centres for the probes' three splits."""
    images, centres = {}, {}
    for split, count in SETTINGS["probe_images"].items():
        images[split], centres[split] = single_shape_images(
            count, size=32, radius_range=RADIUS_RANGE, clutter=False, seed=SETTINGS["probe_seeds"][split]
        )
    return images, centres


def presence_data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training and validation scenes with their presence targets: images ``(N, 3, 32, 32)``, targets ``(N, 3)``."""
    train_images, train_masks = presence_scenes(SETTINGS["train_scenes"], size=32, clutter=False,
                                                seed=SETTINGS["train_scenes_seed"])
    val_images, val_masks = presence_scenes(SETTINGS["val_scenes"], size=32, clutter=False,
                                            seed=SETTINGS["val_scenes_seed"])
    return train_images, presence_targets(train_masks, 4), val_images, presence_targets(val_masks, 4)


def build(kind: str, seed: int) -> torch.nn.Module:
    """The network ``kind`` with the initial weights of ``seed``."""
    torch.manual_seed(seed)
    if kind == "gap":
        return GAPClassifier(3, 3, base_channels=8)
    return TinyClassifier(3, 3, base_channels=8, image_size=32, hidden_features=64)


def probe_all(model: torch.nn.Module, images: dict[str, torch.Tensor], centres: dict[str, torch.Tensor]) -> dict:
    """Probe errors (pixels) of every layer: whole maps and maps averaged over the grid."""
    model.eval()
    activations = {split: classifier_activations(model, batch) for split, batch in images.items()}
    whole = position_probe_errors(activations, centres)
    averaged = position_probe_errors(activations, centres, average_grid=True)
    return {
        "whole": {layer: round(error, 4) for layer, error in whole.items()},
        "averaged": {layer: round(error, 4) for layer, error in averaged.items()},
    }


@torch.no_grad()
def silent_fc1_units(model: torch.nn.Module, images: dict[str, torch.Tensor]) -> int:
    """How many of fc1's units are zero (after the ReLU) on every probe image of every split."""
    model.eval()
    fc1 = torch.cat([classifier_activations(model, batch)["fc1"] for batch in images.values()])  # (N, hidden)
    return int((fc1 == 0).all(dim=0).sum())


def with_initial_head(trained: torch.nn.Module, initial: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``trained`` whose fully connected layers are ``initial``'s."""
    mixed = copy.deepcopy(trained)
    for name in HEAD_LAYERS:
        getattr(mixed, name).load_state_dict(getattr(initial, name).state_dict())
    return mixed


def accuracy_record(model: torch.nn.Module, images: torch.Tensor, targets: torch.Tensor, prefix: str) -> dict:
    """``{prefix}_accuracy`` (per class) and ``{prefix}_all_right`` of ``model`` on ``images``."""
    per_class, all_right = presence_accuracy(model, images, targets)
    return {f"{prefix}_accuracy": [round(value, 4) for value in per_class.tolist()],
            f"{prefix}_all_right": round(all_right, 4)}


def run_seeds(seeds: list[int], directory: Path) -> None:
    """Train and probe every network of ``seeds``; write both records (and seed 0's checkpoint) to ``directory``."""
    train_images, train_targets, val_images, val_targets = presence_data()
    seen_images, seen_targets = train_images[:TRAIN_ACCURACY_SCENES], train_targets[:TRAIN_ACCURACY_SCENES]
    images, centres = probe_data()
    results: dict[str, dict] = {}
    control: dict[str, dict] = {}
    parameters: dict[str, int] = {}
    checkpoint_sha256: str | None = None
    with tqdm(total=3 * len(seeds), desc="models") as bar:
        for seed in seeds:
            results[str(seed)] = {}
            for kind in ("untrained", "fc", "gap"):
                model = build(kind, seed)
                record: dict = {}
                if kind != "untrained":
                    started = time.process_time()
                    losses = train_presence_classifier(
                        model, train_images, train_targets, steps=SETTINGS["steps"],
                        batch_size=SETTINGS["batch_size"], lr=SETTINGS["lr"], seed=seed,
                    )
                    record["train_cpu_seconds"] = round(time.process_time() - started, 1)
                    record["final_loss"] = round(sum(losses[-50:]) / 50, 4)
                    record["loss_curve"] = [round(sum(losses[start:start + CURVE_EVERY]) / CURVE_EVERY, 4)
                                            for start in range(0, len(losses), CURVE_EVERY)]
                    record |= accuracy_record(model, seen_images, seen_targets, "train")
                record |= accuracy_record(model, val_images, val_targets, "val")
                record["probe_error"] = probe_all(model, images, centres)
                if kind != "gap":
                    record["silent_fc1_units"] = silent_fc1_units(model, images)
                if kind == "fc":  # the head control: the trained stages under the seed's initial head
                    mixed = with_initial_head(model, build("fc", seed))
                    record["silent_fc1_units_initial_fc1"] = silent_fc1_units(mixed, images)
                    untrained = results[str(seed)]["untrained"]
                    control[str(seed)] = {
                        "untrained": {"val_all_right": untrained["val_all_right"],
                                      "probe_error": untrained["probe_error"]},
                        "trained": {"val_all_right": record["val_all_right"], "probe_error": record["probe_error"]},
                        "trained stages, initial head": {
                            "val_all_right": accuracy_record(mixed, val_images, val_targets, "val")["val_all_right"],
                            "probe_error": probe_all(mixed, images, centres)},
                    }
                if kind == "fc" and seed == 0:
                    checkpoint_sha256 = save_checkpoint(model, directory / CHECKPOINT, metadata={
                        "model": SETTINGS["models"]["fc"], "seed": 0, "steps": SETTINGS["steps"],
                        "experiment": NAME})
                results[str(seed)][kind] = record
                parameters[kind] = count_parameters(model)
                bar.update()
    settings = {
        **SETTINGS,
        "loss_curve_every": CURVE_EVERY,
        "parameters": parameters,
        "chance_error": round(chance_error(centres["train"], centres["test"]), 4),
        "val_share_present": [round(value, 4) for value in val_targets.mean(dim=0).tolist()],
    }
    if checkpoint_sha256 is not None:
        settings["checkpoint"] = {"file": CHECKPOINT, "sha256": checkpoint_sha256, "network": "fc", "seed": 0}
    control_settings = {
        **{key: value for key, value in settings.items() if key not in ("models", "parameters", "checkpoint")},
        "model": SETTINGS["models"]["fc"],
        "networks": {
            "untrained": "every layer at the seed's initial weights",
            "trained": "every layer trained",
            "trained stages, initial head": "trained stage1-3; fc1, fc2 and classifier at the seed's initial weights",
        },
    }
    command = f"python -m experiments.{NAME}"
    save_experiment(NAME, command=command, settings=settings, seeds=seeds, results=results, directory=directory)
    save_experiment(CONTROL, command=f"python -m experiments.{CONTROL}", settings=control_settings, seeds=seeds,
                    results=control,
                    directory=directory)


def merge(directories: list[Path], target: Path = RESULTS_DIR) -> None:
    """Merge the records written by separate ``--seeds ... --directory DIR`` runs into ``target``."""
    for name in (NAME, CONTROL):
        records = [json.loads((directory / f"{name}.json").read_text(encoding="utf-8")) for directory in directories]
        settings = {**records[0]["settings"]}
        for record in records:
            settings |= {key: value for key, value in record["settings"].items() if key == "checkpoint"}
        seeds = sorted(seed for record in records for seed in record["seeds"])
        results = {str(seed): next(record["results"][str(seed)] for record in records if seed in record["seeds"])
                   for seed in seeds}
        save_experiment(name, command=records[0]["command"], settings=settings, seeds=seeds, results=results,
                        directory=target)
    for directory in directories:
        if (directory / CHECKPOINT).is_file():
            shutil.copyfile(directory / CHECKPOINT, target / CHECKPOINT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--directory", type=Path, default=None, help="where to write (default: the package's results)")
    parser.add_argument("--merge", type=Path, nargs="+", default=None, help="merge the records of these directories")
    arguments = parser.parse_args()
    torch.set_num_threads(SETTINGS["threads"])  # recorded in the records' "ran_on", also when merging
    if arguments.merge:
        merge(arguments.merge)
        return
    run_seeds(arguments.seeds, arguments.directory or RESULTS_DIR)


if __name__ == "__main__":
    main()
