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
in pixels. One CPU thread, as in the lesson. The lesson's live run trains the FC head with seed 0 for 400
steps: a separate run whose cosine schedule brings the learning rate to zero at step 400 (here, at
step 400 it is still about three quarters of its peak), so it is not this run stopped early, and
comparing the two does not isolate the effect of training length. Each seed is independent of the others, so seeds can run in separate
processes (``--seeds 1 --directory DIR``) and their records be merged.

    python -m experiments.lesson03_classifier_probes       # about 3 minutes per seed on one quiet CPU thread
"""

from __future__ import annotations

import argparse
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
from segedu.course.experiments import save_experiment
from segedu.models import TinyClassifier
from segedu.models.gap_classifier import GAPClassifier
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
                per_class, all_right = presence_accuracy(model, val_images, val_targets)
                record["val_accuracy"] = [round(value, 4) for value in per_class.tolist()]
                record["val_all_right"] = round(all_right, 4)
                record["probe_error"] = probe_all(model, images, centres)
                results[str(seed)][kind] = record
                parameters[kind] = count_parameters(model)
                bar.update()
    settings = {
        **SETTINGS,
        "parameters": parameters,
        "chance_error": round(chance_error(centres["train"], centres["test"]), 4),
        "val_share_present": [round(value, 4) for value in val_targets.mean(dim=0).tolist()],
    }
    save_experiment(NAME, command=f"python -m experiments.{NAME}", settings=settings, seeds=arguments.seeds,
                    results=results, directory=arguments.directory)


if __name__ == "__main__":
    main()
