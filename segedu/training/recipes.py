"""Reproducible training recipes behind the shipped checkpoints (``segedu train``).

A recipe fixes everything about a run: the model and its size, the dataset, the number of
optimiser steps, batch size, learning rate and seed. ``segedu train MODEL DATASET`` runs one and
writes ``segedu/training/checkpoints/MODEL-DATASET.pt`` plus its entry in ``manifest.json`` (sha256,
settings, test-split metrics), which :func:`segedu.training.pretrained` checks when loading.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

__all__ = [
    "CHECKPOINT_DIR",
    "Recipe",
    "RECIPES",
    "checkpoint_table_markdown",
    "offline_dataset",
    "read_manifest",
    "train_recipe",
    "train_from_command_line",
    "training_scenes",
]

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
MANIFEST = "manifest.json"

# Model sizes are chosen so that every checkpoint stays well under 5 MB.
_MODEL_KWARGS: dict[str, dict[str, Any]] = {
    "fcn32s": {"base_channels": 16, "fc_channels": 128},
    "fcn16s": {"base_channels": 16, "fc_channels": 128},
    "fcn8s": {"base_channels": 16, "fc_channels": 128},
    "segnet": {"base_channels": 16},
    "unet": {"base_channels": 8},
}


@dataclass(frozen=True)
class Recipe:
    """Everything that defines one training run.

    Attributes:
        model: Registry name (see :func:`segedu.models.list_models`).
        dataset: ``"shapes"`` or ``"digits"``.
        steps: Optimiser steps.
        batch_size: Images per step.
        lr: Adam's initial learning rate.
        lr_schedule: See :func:`segedu.training.train.fit` (cosine decay to 0 by default).
        seed: Seed for initialisation and shuffling.
        model_kwargs: Extra constructor arguments (sizes).
    """

    model: str
    dataset: str
    steps: int
    batch_size: int = 16
    lr: float = 3e-3
    lr_schedule: str = "cosine"
    seed: int = 0
    model_kwargs: dict[str, Any] = field(default_factory=dict)


_STEPS = {"shapes": 4000, "digits": 4000}
# Runs that were still improving at 4000 steps get longer schedules (validation curves in the manifest).
_LONGER_STEPS: dict[tuple[str, str], int] = {("fcn8s", "shapes"): 12000, ("segnet", "shapes"): 16000}
RECIPES: dict[tuple[str, str], Recipe] = {
    (model, dataset): Recipe(
        model, dataset, steps=_LONGER_STEPS.get((model, dataset), _STEPS[dataset]), model_kwargs=kwargs
    )
    for model, kwargs in _MODEL_KWARGS.items()
    for dataset in ("shapes", "digits")
}


def offline_dataset(name: str, split: str, length: int | None = None) -> Dataset:
    """The course's standard offline dataset ``name`` ("shapes" or "digits") for ``split``.

    Shapes scenes are 64x64 RGB; digit scenes are 64x64 grayscale, as the lessons use them.
    """
    from segedu.datasets import DigitScenes, ShapesScenes

    if name == "shapes":
        return ShapesScenes(split, length, size=64, channels=3, seed=0)
    if name == "digits":
        return DigitScenes(split, length, size=64, channels=1, seed=0)
    raise ValueError(f"dataset must be 'shapes' or 'digits'; got {name!r}")


def training_scenes(name: str, length: int) -> Dataset:
    """A training split long enough that no scene is shown twice, rendered on the fly.

    With a few thousand fixed scenes the models memorise them (train mean IoU 0.95, test 0.86 for
    the U-Net); fresh scenes at every step remove that gap. Shapes are always drawn on the fly;
    digit scenes skip their disk cache here (only the test and validation splits are cached).
    """
    from segedu.datasets import DigitScenes, ShapesScenes

    if name == "shapes":
        return ShapesScenes("train", length, size=64, channels=3, seed=0)
    if name == "digits":
        return DigitScenes("train", length, size=64, channels=1, seed=0, cache=False)
    raise ValueError(f"dataset must be 'shapes' or 'digits'; got {name!r}")


def read_manifest(directory: Path = CHECKPOINT_DIR) -> dict[str, Any]:
    """Return the manifest of shipped checkpoints (an empty dict if there is none)."""
    path = directory / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


_DISPLAY_NAMES = {"fcn32s": "FCN-32s", "fcn16s": "FCN-16s", "fcn8s": "FCN-8s", "segnet": "SegNet", "unet": "U-Net"}


def checkpoint_table_markdown(manifest: dict[str, Any] | None = None) -> str:
    """The README's table of shipped checkpoints: test-split scores, training steps, parameters."""
    from segedu.models import get_model

    manifest = read_manifest() if manifest is None else manifest
    lines = [
        "| model | shapes mean IoU | shapes pixel acc. | digits mean IoU | digits pixel acc. "
        "| steps (shapes / digits) | parameters (shapes) |",
        "|---|---|---|---|---|---|---|",
    ]
    for model, name in _DISPLAY_NAMES.items():
        entries = [manifest.get(f"{model}-{dataset}") for dataset in ("shapes", "digits")]
        if None in entries:
            continue
        shapes, digits = entries
        parameters = sum(weight.numel() for weight in get_model(model, **shapes["model_kwargs"]).parameters()) / 1e6
        scores = " | ".join(
            f"{entry['test_metrics']['mean_iou']:.3f} | {entry['test_metrics']['pixel_accuracy']:.3f}"
            for entry in entries
        )
        lines.append(
            f"| {name} | {scores} | {shapes['recipe']['steps']} / {digits['recipe']['steps']} | {parameters:.2f} M |"
        )
    return "\n".join(lines)


def _write_manifest(manifest: dict[str, Any], directory: Path) -> None:
    """Write the manifest atomically (temporary file + rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".manifest-", suffix=".tmp")
    with os.fdopen(handle, "w") as file:
        json.dump(manifest, file, indent=2, sort_keys=True)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, directory / MANIFEST)


@torch.no_grad()
def _round_to_half_precision(model: torch.nn.Module) -> None:
    """Round every floating-point weight and buffer to the nearest float16 value, in place."""
    for tensor in model.state_dict().values():
        if tensor.is_floating_point():
            tensor.copy_(tensor.half().float())


def train_recipe(
    recipe: Recipe,
    *,
    output: Path | None = None,
    device: str | None = None,
    threads: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Run ``recipe``, score the model on the test split and save the checkpoint.

    Args:
        recipe: What to train.
        output: Checkpoint path; default ``CHECKPOINT_DIR / f"{model}-{dataset}.pt"``, which
            also updates the manifest.
        device: Where to train (default: best available).
        threads: CPU threads for PyTorch.
        progress: Show a progress bar.

    Returns:
        The manifest entry: file, sha256, settings and test metrics.
    """
    from segedu.models import get_model
    from segedu.core.seeding import seed_everything
    from segedu.training.train import evaluate, fit, save_checkpoint

    torch.set_num_threads(threads)
    seed_everything(recipe.seed)
    train_data = training_scenes(recipe.dataset, recipe.steps * recipe.batch_size)
    val_data = offline_dataset(recipe.dataset, "val")
    test_data = offline_dataset(recipe.dataset, "test")
    channels = val_data.channels
    model = get_model(
        recipe.model, in_channels=channels, num_classes=val_data.num_classes, **recipe.model_kwargs
    )
    started = time.perf_counter()
    history = fit(
        model, train_data, val_data, max_steps=recipe.steps, lr=recipe.lr, lr_schedule=recipe.lr_schedule,
        batch_size=recipe.batch_size, seed=recipe.seed, device=device, progress=progress,
    )
    seconds = time.perf_counter() - started
    model.cpu().eval()
    _round_to_half_precision(model)  # score exactly the weights that are shipped (float16 on disk)
    metrics = evaluate(model, test_data)
    rounded = {key: round(float(value), 4) for key, value in metrics.items() if key != "iou_per_class"}
    rounded["iou_per_class"] = [round(float(value), 4) for value in metrics["iou_per_class"]]
    entry: dict[str, Any] = {
        "model": recipe.model,
        "dataset": recipe.dataset,
        "model_kwargs": {"in_channels": channels, "num_classes": val_data.num_classes, **recipe.model_kwargs},
        "recipe": asdict(recipe),
        "command": f"segedu train {recipe.model} {recipe.dataset} --seed {recipe.seed} --threads {threads}",
        "test_metrics": rounded,
        "final_val_mean_iou": round(float(history.val_metrics[-1]["mean_iou"]), 4) if history.val_metrics else None,
        "train_seconds": round(seconds, 1),
        "trained_on": f"{platform.machine()}, torch {torch.__version__}, {threads} threads, {device or 'auto'}",
    }
    default = output is None
    path = CHECKPOINT_DIR / f"{recipe.model}-{recipe.dataset}.pt" if default else Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry["file"] = path.name
    metadata = {key: entry[key] for key in ("model", "dataset", "model_kwargs", "recipe")}
    entry["sha256"] = save_checkpoint(model, path, metadata=metadata, half_precision=True)
    if default:
        manifest = read_manifest()
        manifest[f"{recipe.model}-{recipe.dataset}"] = entry
        _write_manifest(manifest, CHECKPOINT_DIR)
    return entry


def train_from_command_line(arguments: argparse.Namespace) -> int:
    """Handle ``segedu train MODEL DATASET [--steps N] [--seed S] ...``."""
    key = (arguments.model, arguments.dataset)
    if key in RECIPES:
        recipe = RECIPES[key]
    else:
        from segedu.models import list_models

        if arguments.model not in list_models(segmentation_only=True):
            raise SystemExit(f"unknown model {arguments.model!r}; choose from {list_models(segmentation_only=True)}")
        recipe = Recipe(arguments.model, arguments.dataset, steps=_STEPS[arguments.dataset])
    overrides: dict[str, Any] = {"seed": arguments.seed}
    if arguments.steps is not None:
        overrides["steps"] = arguments.steps
    recipe = Recipe(**{**asdict(recipe), **overrides})
    output = Path(arguments.output) if arguments.output else None
    entry = train_recipe(recipe, output=output, device=arguments.device, threads=arguments.threads)
    print(json.dumps(entry, indent=2))
    return 0
