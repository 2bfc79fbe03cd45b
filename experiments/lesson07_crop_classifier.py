"""Lesson 07's crop classifier: the lesson's own loop, run for 2,000 steps instead of its live demo's 100.

Lesson 07 trains ``TinyClassifier(3, 3, base_channels=8, image_size=24)`` on the 24 x 24 crops of 64 x 64 shape
scenes (every window 8 px apart, cut with ``F.unfold``; a crop's label lists the shapes in its central 8 x 8
square), then convolutionalizes it and slides it over larger scenes. A live cell affords only a short run (at 400
steps of 128 crops the classifier found shapes but barely told them apart); this script runs the lesson's
written-out loop unchanged (the same crops and labels, ``pos_weight`` 3, Adam with a one-cycle rate peaking at
0.01, batches drawn by a generator seeded 0, initial weights from ``seed_everything(0)``) for 2,000 steps, on one
CPU thread.

It saves the trained weights as a float16 checkpoint (``lesson07_crop_classifier.pt``) next to the record
``lesson07_crop_classifier.json``: the command, the settings, the seed, the checkpoint's SHA-256, the mean
training loss of every 50 steps, and per shape, on the 3,600 crops of the first 100 test scenes, the accuracy
(beside that of always answering "absent") and the share of "present" calls (score above 0) on the crops that
hold the shape, on those that hold only other shapes, and on empty ones; also the accuracy on the training crops.
All are scored with the weights as stored (float16 and back).
The lesson loads the checkpoint by that hash.

The record goes to ``--output`` (default ``runs/`` in the current folder), never over the lesson's shipped
record unless ``--overwrite`` asks for it. The lesson's record comes from

    python -m experiments.lesson07_crop_classifier --output segedu/course/experiment_results --overwrite

(about 80 s on one CPU thread).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from segedu.core.seeding import seed_everything
from segedu.course.experiments import check_record_target, save_experiment
from segedu.datasets import ShapesScenes
from segedu.models import TinyClassifier
from segedu.training.checkpoints import load_checkpoint, save_checkpoint

NAME = "lesson07_crop_classifier"
CHECKPOINT = f"{NAME}.pt"
SHAPES = ("circle", "square", "triangle")
SETTINGS: dict[str, Any] = {
    "model": "TinyClassifier(3, 3, base_channels=8, image_size=24)",
    "train_scenes": 300,
    "test_scenes": 100,
    "scenes": "ShapesScenes(split, length=count), the first scenes of the train and test splits, 64 x 64",
    "crops": "every 24 x 24 window 8 px apart (F.unfold), 36 per scene",
    "labels": "the shapes (circle, square, triangle) in each crop's central 8 x 8 square",
    "steps": 2000,
    "batch_size": 128,
    "lr": 0.01,
    "optimizer": "Adam, OneCycleLR(max_lr=0.01, total_steps=steps)",
    "pos_weight": 3.0,
    "batch_seed": 0,
    "curve_every": 50,
    "threads": 1,
    "stored_as": "float16; test accuracy scored with the stored weights",
}


def load_scenes(split: str, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``count`` scenes of ``split``: images ``(N, 3, 64, 64)`` and masks ``(N, 64, 64)``."""
    samples = [ShapesScenes(split, length=count)[index] for index in range(count)]
    return torch.stack([image for image, _ in samples]), torch.stack([mask for _, mask in samples])


def window_labels(masks: torch.Tensor) -> torch.Tensor:
    """Which shapes lie in the central 8 x 8 square of each 24 x 24 window, 8 px apart: ``(N, 3, 6, 6)`` of 0/1."""
    centres = masks[:, 8:-8, 8:-8]  # window (i, j)'s central square: pixels 8 + 8i .. 15 + 8i
    return torch.stack([F.max_pool2d((centres == class_index).float()[:, None], 8)[:, 0]
                        for class_index in (1, 2, 3)], 1)


def crops_of(images: torch.Tensor) -> torch.Tensor:
    """Every 24 x 24 window of ``images``, 8 px apart, as crops ``(N * 36, 3, 24, 24)`` (row 36n + 6i + j)."""
    windows = F.unfold(images, 24, stride=8)  # (N, 3 * 24 * 24, 36)
    return windows.transpose(1, 2).reshape(-1, 3, 24, 24)


def crops_and_labels(split: str, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The crops of the first ``count`` scenes of ``split`` and their labels ``(N * 36, 3)``."""
    images, masks = load_scenes(split, count)
    return crops_of(images), window_labels(masks).permute(0, 2, 3, 1).reshape(-1, 3)


def train(classifier: TinyClassifier, crops: torch.Tensor, labels: torch.Tensor, steps: int) -> list[float]:
    """The lesson's loop: ``steps`` batches of 128 crops; returns every step's loss."""
    generator = torch.Generator().manual_seed(SETTINGS["batch_seed"])
    positive_weight = torch.full((3,), SETTINGS["pos_weight"])
    optimizer = torch.optim.Adam(classifier.parameters(), lr=SETTINGS["lr"])
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=SETTINGS["lr"], total_steps=steps)
    classifier.train()
    losses = []
    for _ in tqdm(range(steps), desc="steps", unit="step"):
        batch = torch.randint(len(crops), (SETTINGS["batch_size"],), generator=generator)
        logits = classifier(crops[batch])  # (128, 3)
        loss = F.binary_cross_entropy_with_logits(logits, labels[batch], pos_weight=positive_weight)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    classifier.eval()
    return losses


@torch.no_grad()
def accuracy_per_shape(classifier: TinyClassifier, crops: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """The share of ``crops`` on which each shape's call (score above 0) matches its label."""
    right = ((classifier.eval()(crops) > 0).float() == labels).float().mean(0)  # (3,)
    return {name: round(float(value), 4) for name, value in zip(SHAPES, right)}


@torch.no_grad()
def yes_rates(classifier: TinyClassifier, crops: torch.Tensor, labels: torch.Tensor) -> dict[str, dict[str, float]]:
    """Per shape, the share of "present" calls (score above 0) on the crops that hold it, on those that hold only
    other shapes, and on empty crops."""
    calls = classifier.eval()(crops) > 0  # (N, 3)
    empty = labels.sum(1) == 0  # (N,)
    rates: dict[str, dict[str, float]] = {}
    for index, name in enumerate(SHAPES):
        holds = labels[:, index] == 1
        groups = {"holds it": holds, "only other shapes": ~holds & ~empty, "empty": empty}
        rates[name] = {group: round(float(calls[members, index].float().mean()), 4)
                       for group, members in groups.items()}
    return rates


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=SETTINGS["steps"])
    parser.add_argument("--output", type=Path, default=Path("runs"),
                        help="folder for the record and the checkpoint (default: runs/ in the current folder)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing the record the course ships")
    return parser


def main() -> None:
    """Train, store the checkpoint, score the stored weights, write the record."""
    parser = build_parser()
    arguments = parser.parse_args()
    if arguments.steps < 1:
        parser.error(f"--steps must be positive, e.g. {SETTINGS['steps']}; got {arguments.steps}")
    try:
        check_record_target(arguments.output, NAME, overwrite=arguments.overwrite)
    except ValueError as error:
        parser.error(str(error))
    settings = {**SETTINGS, "steps": arguments.steps}
    torch.set_num_threads(SETTINGS["threads"])
    train_crops, train_labels = crops_and_labels("train", SETTINGS["train_scenes"])
    test_crops, test_labels = crops_and_labels("test", SETTINGS["test_scenes"])
    seed_everything(0)  # as the lesson's setup_lesson(seed=0), just before it builds the classifier
    classifier = TinyClassifier(3, 3, base_channels=8, image_size=24)
    started = time.process_time()
    losses = train(classifier, train_crops, train_labels, arguments.steps)
    cpu_seconds = round(time.process_time() - started, 1)
    every = SETTINGS["curve_every"]
    checkpoint_sha256 = save_checkpoint(classifier, arguments.output / CHECKPOINT, half_precision=True, metadata={
        "model": SETTINGS["model"], "seed": 0, "steps": arguments.steps, "experiment": NAME})
    stored = TinyClassifier(3, 3, base_channels=8, image_size=24)
    stored_state = load_checkpoint(arguments.output / CHECKPOINT, expected_sha256=checkpoint_sha256)["state_dict"]
    stored.load_state_dict(stored_state)
    results = {
        "checkpoint": {"file": CHECKPOINT, "sha256": checkpoint_sha256},
        "loss_curve": [[start + every, round(sum(losses[start:start + every]) / len(losses[start:start + every]), 4)]
                       for start in range(0, len(losses), every)],
        "test_crops": len(test_crops),
        "test_accuracy": accuracy_per_shape(stored, test_crops, test_labels),
        "test_always_absent": {name: round(1 - float(share), 4) for name, share in zip(SHAPES, test_labels.mean(0))},
        "test_yes_rates": yes_rates(stored, test_crops, test_labels),
        "train_accuracy": accuracy_per_shape(stored, train_crops, train_labels),
        "train_cpu_seconds": cpu_seconds,
    }
    command = f"python -m experiments.{NAME} --output {arguments.output}"
    if arguments.steps != SETTINGS["steps"]:
        command += f" --steps {arguments.steps}"
    if arguments.overwrite:
        command += " --overwrite"
    save_experiment(NAME, command=command, settings=settings, seeds=[0], results=results,
                    directory=arguments.output)


if __name__ == "__main__":
    main()
