"""Lesson 12's stored study: overfitting a small training set, what augmentation does to it, and learning rates.

Part 1 (augmentation): a U-Net of base width 8 is trained from scratch on the same 32 digit scenes,
with and without paired augmentation (random zoom and crop, then an elastic warp; no flips), for
240 steps of 8 scenes (60 passes over the 32 scenes). Every 20 steps it
is scored (mean IoU) on the 32 training scenes as they are and on 100 validation scenes drawn from
held-out handwriting. Each seed gives both runs the same initial weights.

Part 2 (learning rate): the same U-Net, 120 steps of 8 scenes on 500 training scenes without
augmentation, with three constant learning rates, scored on the validation scenes every 25 steps.

Both parts use the course's training pieces: AdamW without weight decay, cross-entropy plus soft
Dice, the last layer's bias started at the log class frequencies of the training scenes
(:func:`segedu.training.quick.start_at_class_frequencies`). One CPU thread per process, as in the
lessons; the seeds run in parallel processes (``--workers``), each seed's runs are independent of the others.

    python -m experiments.augmentation_study            # about 2 minutes of CPU per seed on one thread (both parts)
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

import torch
from tqdm import tqdm

from segedu.core.seeding import seed_everything
from segedu.course.experiments import save_experiment
from segedu.datasets import DigitScenes
from segedu.datasets.transforms import training_transforms
from segedu.models import UNet
from segedu.training.curves import train_with_curves
from segedu.training.losses import pixel_cross_entropy, soft_dice_loss
from segedu.training.quick import render_pool, start_at_class_frequencies

NAME = "augmentation_study"
SETTINGS = {
    "model": "UNet(1, 11, base_channels=8), same padding, batch norm",
    "task": "DigitScenes 64x64, 1 channel, dataset seed 0",
    "optimizer": "AdamW, weight decay 0, constant learning rate",
    "loss": "pixel cross-entropy + soft Dice",
    "prior_bias": "last layer's bias at the log class frequencies of the training scenes",
    "threads": 1,
    "augmentation": {
        "train_scenes": 32,
        "val_scenes": 100,
        "steps": 240,
        "batch_size": 8,
        "lr": 0.003,
        "score_every": 20,
        "transform": "training_transforms(64, scale=(0.8, 1.2), flip=False, elastic=(40.0, 4.0))",
        "scored_on": "the 32 training scenes without augmentation ('train') and the validation scenes ('val')",
    },
    "learning_rate": {
        "train_scenes": 500,
        "val_scenes": 100,
        "steps": 120,
        "batch_size": 8,
        "learning_rates": [0.0001, 0.003, 0.3],
        "score_every": 25,
        "transform": "none",
        "scored_on": "the validation scenes",
    },
    "varies_with_seed": "initial weights, batch order and augmentation draws (the scenes are the same)",
}


def cross_entropy_and_dice(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """The course recipe's loss: per-pixel cross-entropy plus soft Dice (logits (B, K, H, W), masks (B, H, W))."""
    return pixel_cross_entropy(logits, masks) + soft_dice_loss(logits, masks)


def fresh_unet(seed: int, train_data: DigitScenes) -> UNet:
    """A U-Net with seeded initial weights and the bias of its last layer at the class frequencies."""
    seed_everything(seed)
    model = UNet(1, 11, base_channels=8)
    _, masks = render_pool(train_data, len(train_data))  # (N, H, W)
    start_at_class_frequencies(model, masks)
    return model


def augmentation_runs(seed: int) -> dict[str, dict]:
    """Both runs of one seed: without and with augmentation; their curves as plain dicts."""
    settings = SETTINGS["augmentation"]
    clean = DigitScenes("train", length=settings["train_scenes"])
    augmented = DigitScenes("train", length=settings["train_scenes"],
                            transform=training_transforms(64, scale=(0.8, 1.2), flip=False, elastic=(40.0, 4.0)))
    val = DigitScenes("val", length=settings["val_scenes"])
    runs = {}
    for name, train_data in (("plain", clean), ("augmented", augmented)):
        model = fresh_unet(seed, clean)
        curves = train_with_curves(
            model, train_data, {"train": clean, "val": val}, steps=settings["steps"],
            batch_size=settings["batch_size"], lr=settings["lr"], seed=seed, loss_function=cross_entropy_and_dice,
            score_every=settings["score_every"],
        )
        runs[name] = {"steps": curves.steps, "train": _rounded(curves.scores["train"]),
                      "val": _rounded(curves.scores["val"]), "loss": _rounded(curves.losses)}
    return runs


def learning_rate_runs(seed: int) -> dict[str, dict]:
    """One run per learning rate for one seed, scored on the validation scenes."""
    settings = SETTINGS["learning_rate"]
    train_data = DigitScenes("train", length=settings["train_scenes"])
    val = DigitScenes("val", length=settings["val_scenes"])
    runs = {}
    for lr in settings["learning_rates"]:
        model = fresh_unet(seed, train_data)
        try:
            curves = train_with_curves(
                model, train_data, {"val": val}, steps=settings["steps"], batch_size=settings["batch_size"],
                lr=lr, seed=seed, loss_function=cross_entropy_and_dice, score_every=settings["score_every"],
            )
            runs[str(lr)] = {"steps": curves.steps, "val": _rounded(curves.scores["val"]),
                             "loss": _rounded(curves.losses), "diverged": False}
        except FloatingPointError:
            runs[str(lr)] = {"steps": [], "val": [], "loss": [], "diverged": True}
    return runs


def _rounded(values: list[float]) -> list[float]:
    return [round(value, 5) for value in values]


def one_seed(seed: int) -> tuple[dict, dict, float]:
    """Everything one seed runs, in a process of its own with one thread; also its CPU seconds."""
    torch.set_num_threads(SETTINGS["threads"])
    started = time.process_time()
    return augmentation_runs(seed), learning_rate_runs(seed), time.process_time() - started


def _render_caches() -> None:
    """Render the scene caches once, before the worker processes read them."""
    for part in ("augmentation", "learning_rate"):
        DigitScenes("train", length=SETTINGS[part]["train_scenes"])
        DigitScenes("val", length=SETTINGS[part]["val_scenes"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=3, help="seeds run at once, one process each")
    arguments = parser.parse_args()
    torch.set_num_threads(SETTINGS["threads"])
    started_wall = time.perf_counter()
    _render_caches()
    with multiprocessing.get_context("spawn").Pool(arguments.workers) as pool:
        outcomes = list(tqdm(pool.imap(one_seed, arguments.seeds), total=len(arguments.seeds), desc="seeds"))
    augmentation = {str(seed): outcome[0] for seed, outcome in zip(arguments.seeds, outcomes)}
    learning_rate = {str(seed): outcome[1] for seed, outcome in zip(arguments.seeds, outcomes)}
    results = {
        "augmentation": augmentation,
        "learning_rate": learning_rate,
        "cpu_seconds": round(sum(outcome[2] for outcome in outcomes), 1),
        "wall_seconds": round(time.perf_counter() - started_wall, 1),
    }
    save_experiment(NAME, command=f"python -m experiments.{NAME}", settings=SETTINGS, seeds=arguments.seeds,
                    results=results)


if __name__ == "__main__":
    main()
