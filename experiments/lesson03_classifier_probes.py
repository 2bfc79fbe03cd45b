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
put back to its initial weights on the trained stages (the network of ``lesson03_head_control``).
Each trained network's record keeps its training-loss curve (the mean loss of every 50 steps). The trained
FC network of seed 0 is also saved as a checkpoint next to the record (``lesson03_fc_seed0.pt``, its SHA-256
in the record), so that the lesson probes and explores that very network instead of training one live.

    python -m experiments.lesson03_classifier_probes       # about 1 minute per seed on one quiet CPU thread
"""

from __future__ import annotations

import argparse
import copy
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
    "train_scenes": 2000,
    "train_scenes_seed": 0,
    "val_scenes": 400,
    "val_scenes_seed": 1,
    "steps": 1200,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--directory", type=Path, default=None, help="where to write (default: the package's results)")
    arguments = parser.parse_args()
    torch.set_num_threads(SETTINGS["threads"])
    train_images, train_targets, val_images, val_targets = presence_data()
    images, centres = probe_data()
    results: dict[str, dict] = {}
    parameters: dict[str, int] = {}
    checkpoint_sha256: str | None = None
    with tqdm(total=3 * len(arguments.seeds), desc="models") as bar:
        for seed in arguments.seeds:
            results[str(seed)] = {}
            for kind in ("untrained", "fc", "gap"):
                model = build(kind, seed)
                record: dict = {}
                if kind != "untrained":
                    losses = train_presence_classifier(
                        model, train_images, train_targets, steps=SETTINGS["steps"],
                        batch_size=SETTINGS["batch_size"], lr=SETTINGS["lr"], seed=seed,
                    )
                    record["final_loss"] = round(sum(losses[-50:]) / 50, 4)
                    record["loss_curve"] = [round(sum(losses[start:start + CURVE_EVERY]) / CURVE_EVERY, 4)
                                            for start in range(0, len(losses), CURVE_EVERY)]
                per_class, all_right = presence_accuracy(model, val_images, val_targets)
                record["val_accuracy"] = [round(value, 4) for value in per_class.tolist()]
                record["val_all_right"] = round(all_right, 4)
                record["probe_error"] = probe_all(model, images, centres)
                if kind != "gap":
                    record["silent_fc1_units"] = silent_fc1_units(model, images)
                if kind == "fc":  # fc1 at its initial weights on the trained stages
                    mixed = copy.deepcopy(model)
                    mixed.fc1.load_state_dict(build("fc", seed).fc1.state_dict())
                    record["silent_fc1_units_initial_fc1"] = silent_fc1_units(mixed, images)
                if kind == "fc" and seed == 0:
                    directory = arguments.directory or RESULTS_DIR
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
    save_experiment(NAME, command=f"python -m experiments.{NAME}", settings=settings, seeds=arguments.seeds,
                    results=results, directory=arguments.directory)


if __name__ == "__main__":
    main()
