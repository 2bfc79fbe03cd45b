"""Reproducible training recipes behind the shipped checkpoints (``segedu train``).

A recipe fixes everything about a run: the model and its size, the dataset, the number of
optimiser steps, batch size, learning rate and seed. ``segedu train MODEL DATASET`` runs one and
writes a new file ``runs/MODEL-DATASET-<time>.pt``; ``--ship --force`` instead replaces the shipped
``segedu/training/checkpoints/MODEL-DATASET.pt`` and its entry in ``manifest.json`` (sha256, the full
command, settings, test-split metrics and the validation curve), which
:func:`segedu.training.shipped.pretrained` checks when loading.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from segedu.training import shipped
from segedu.training._checks import check_positive
from segedu.training.checkpoints import check_output_path, save_checkpoint
from segedu.training.evaluation import evaluate
from segedu.training.loop import fit

__all__ = [
    "PRIOR_SCENES",
    "Recipe",
    "RECIPES",
    "VALIDATE_EVERY",
    "checkpoint_table_markdown",
    "initial_model",
    "offline_dataset",
    "shipped_threads",
    "start_bias_at_class_frequencies",
    "train_recipe",
    "train_from_command_line",
    "training_scenes",
]


# Model sizes are chosen so that every checkpoint stays well under 5 MB.
_MODEL_KWARGS: dict[str, dict[str, Any]] = {
    "fcn32s": {"base_channels": 16, "fc_channels": 128},
    "fcn16s": {"base_channels": 16, "fc_channels": 128},
    "fcn8s": {"base_channels": 16, "fc_channels": 128},
    "segnet": {"base_channels": 16},
    "unet": {"base_channels": 8},
    "deeplabv3": {"base_channels": 16, "output_stride": 8},
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
        lr_schedule: See :func:`segedu.training.loop.fit` (cosine decay to 0 by default).
        seed: Seed for initialisation and shuffling.
        model_kwargs: Extra constructor arguments (sizes).
        prior_bias: Start the last class-score layer's bias at the log class frequencies of the first
            :data:`PRIOR_SCENES` training scenes (:func:`segedu.training.quick.start_at_class_frequencies`).
            On in SegNet's shipped recipes only (see :data:`RECIPES`); ``segedu train ... --prior-bias`` tries it
            on another model.
    """

    model: str
    dataset: str
    steps: int
    batch_size: int = 16
    lr: float = 3e-3
    lr_schedule: str = "cosine"
    seed: int = 0
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    prior_bias: bool = False


# Every model of one dataset gets the same budget (steps, batch, scenes), so the lessons compare like with like.
_STEPS = {"shapes": 4000, "digits": 4000}
# A recipe scores the validation split every this many steps; the manifest keeps the curve.
VALIDATE_EVERY = 250
# With ``prior_bias`` the class frequencies are counted on this many training scenes.
PRIOR_SCENES = 512
# SegNet's recipe departs from the others in two settings that leave the budget (steps, batch, rate) alone.
# Its last bias starts at the log class frequencies: from PyTorch's default start, a two-thread run on the shapes
# sat at validation mean IoU 0.31-0.42 up to step 2,500 and ended at 0.676, while the one-thread run shipped before
# (made on an Intel Xeon) reached 0.834: floating-point noise decided when it left the plateau (record
# reproduce_checkpoints_threads2). The same two-thread run with the prior start ended at 0.872, seeds 1-2 at 0.869
# and 0.874 (record recipe_seeds). It runs on two threads: with one it needs over 15 minutes (4.5 steps/s here).
_PRIOR_BIAS_MODELS = ("segnet",)
_SHIPPED_THREADS: dict[str, int] = {"segnet": 2}
RECIPES: dict[tuple[str, str], Recipe] = {
    (model, dataset): Recipe(model, dataset, steps=_STEPS[dataset], model_kwargs=kwargs,
                             prior_bias=model in _PRIOR_BIAS_MODELS)
    for model, kwargs in _MODEL_KWARGS.items()
    for dataset in ("shapes", "digits")
}


def shipped_threads(model_name: str) -> int:
    """The CPU thread count of ``model_name``'s shipped recipe: 2 for SegNet, 1 for the others."""
    return _SHIPPED_THREADS.get(model_name, 1)


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


_DISPLAY_NAMES = {"fcn32s": "FCN-32s", "fcn16s": "FCN-16s", "fcn8s": "FCN-8s", "segnet": "SegNet", "unet": "U-Net",
                  "deeplabv3": "DeepLabv3"}


def checkpoint_table_markdown(manifest: dict[str, Any] | None = None) -> str:
    """The README's table of shipped checkpoints: test-split scores, training steps, parameters."""
    from segedu.models import get_model

    manifest = shipped.read_manifest() if manifest is None else manifest
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
    ship: bool = False,
    force: bool = False,
    device: str | None = None,
    threads: int = 1,
    progress: bool = True,
    prepare: Callable[[torch.nn.Module], torch.nn.Module] | None = None,
) -> dict[str, Any]:
    """Run ``recipe``, score the model on the test split and save the checkpoint.

    The output is checked before the first step (a folder, an existing file or an unwritable
    place fails at once) and written atomically. If the run is interrupted (Ctrl-C) or crashes,
    the weights learned so far are saved next to the output as ``NAME.partial.pt`` and the
    interruption or error is raised again.

    Args:
        recipe: What to train.
        output: Checkpoint path; default ``runs/MODEL-DATASET-YYYYmmdd-HHMMSS.pt`` in the
            current folder. Must be ``None`` with ``ship``.
        ship: Replace the shipped checkpoint ``CHECKPOINT_DIR / "MODEL-DATASET.pt"`` and its
            manifest entry (with ``force``, since that file exists).
        force: Allow replacing an existing file.
        device: Where to train (default: best available).
        threads: CPU threads for PyTorch, at least 1.
        progress: Show a progress bar.
        prepare: Applied to the freshly built model (after seeding, before the bias start and the
            first step) and returning the model to train, e.g. a SegNet whose decoder unpools
            without the indices. Not allowed with ``ship``: a shipped checkpoint is the recipe's own.

    Returns:
        The manifest entry: file, sha256, settings, the full command, test metrics and the validation
        curve (``[step, validation mean IoU]`` every :data:`VALIDATE_EVERY` steps).

    Raises:
        ValueError: If the output cannot be written, or the arguments do not fit together.
    """
    from segedu.core.device import cpu_name, select_device

    path = _output_path(recipe, output, ship=ship, force=force)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int; got {threads!r}")
    if prepare is not None and ship:
        raise ValueError("prepare changes the model, so its run cannot be shipped; pass output=PATH instead of ship")
    chosen = select_device(device)
    torch.set_num_threads(threads)
    with _seeded(recipe.seed, chosen):
        return _train_recipe(recipe, path, chosen, device, ship=ship, force=force, threads=threads,
                             progress=progress, machine=cpu_name(), prepare=prepare)


@contextlib.contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed every generator; on a GPU also ask for deterministic kernels for the run, then switch back.

    A CPU run repeats bit for bit without them; GPU kernels that add in parallel (cuDNN's autotuned
    convolutions, atomic adds) do not, so the same recipe would give different weights twice.
    """
    from segedu.core.seeding import seed_everything

    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.benchmark)
    seed_everything(seed, deterministic=device.type != "cpu")
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.benchmark = before[2]


def initial_model(
    recipe: Recipe, prepare: Callable[[torch.nn.Module], torch.nn.Module] | None = None
) -> torch.nn.Module:
    """The model a run of ``recipe`` starts from: seeded, built, changed by ``prepare``, its last bias started.

    The same steps as :func:`train_recipe` before its first step, so two runs that start from the same weights
    have the same :func:`segedu.training.checkpoints.state_sha256` here (e.g. SegNet with and without its
    pooling indices, whose unpooling has no weights).

    Args:
        recipe: The run's recipe (its seed included).
        prepare: The change :func:`train_recipe` would make to the freshly built model, or ``None``.

    Returns:
        The untrained model on the CPU.
    """
    with _seeded(recipe.seed, torch.device("cpu")):
        train_data = training_scenes(recipe.dataset, recipe.steps * recipe.batch_size)
        model, _ = _fresh_model(recipe, train_data, offline_dataset(recipe.dataset, "val"), prepare)
    return model


def _fresh_model(
    recipe: Recipe, train_data: Dataset, val_data: Dataset,
    prepare: Callable[[torch.nn.Module], torch.nn.Module] | None,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Build the recipe's model (generators already seeded), apply ``prepare``, start the bias; it and its kwargs."""
    from segedu.models import get_model

    model_kwargs = {"in_channels": val_data.channels, "num_classes": val_data.num_classes, **recipe.model_kwargs}
    model = get_model(recipe.model, **model_kwargs)
    if prepare is not None:
        model = prepare(model)
    if recipe.prior_bias:
        start_bias_at_class_frequencies(model, train_data)
    return model, model_kwargs


def _device_name(device: torch.device) -> str:
    """``"cpu"``, or the GPU's name for a record: ``"cuda (NVIDIA H200)"``."""
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else device.type


def _train_recipe(
    recipe: Recipe, path: Path, chosen: torch.device, device: str | None, *, ship: bool, force: bool, threads: int,
    progress: bool, machine: str, prepare: Callable[[torch.nn.Module], torch.nn.Module] | None = None,
) -> dict[str, Any]:
    """:func:`train_recipe`'s run, once the output and the device are checked and the generators seeded."""
    train_data = training_scenes(recipe.dataset, recipe.steps * recipe.batch_size)
    val_data = offline_dataset(recipe.dataset, "val")
    test_data = offline_dataset(recipe.dataset, "test")
    model, model_kwargs = _fresh_model(recipe, train_data, val_data, prepare)
    metadata = {
        "model": recipe.model, "dataset": recipe.dataset, "model_kwargs": model_kwargs, "recipe": asdict(recipe)
    }
    started = time.perf_counter()
    with _partial_checkpoint_on_failure(model, path, metadata):
        history = fit(
            model, train_data, val_data, max_steps=recipe.steps, lr=recipe.lr, lr_schedule=recipe.lr_schedule,
            batch_size=recipe.batch_size, seed=recipe.seed, device=chosen, progress=progress,
            val_every=min(VALIDATE_EVERY, recipe.steps),
        )
        if history.stop_reason == "interrupted":
            raise KeyboardInterrupt
    seconds = time.perf_counter() - started
    model.cpu().eval()
    _round_to_half_precision(model)  # score exactly the weights that are shipped (float16 on disk)
    metrics = evaluate(model, test_data)
    rounded = {key: round(float(value), 4) for key, value in metrics.items() if key != "iou_per_class"}
    rounded["iou_per_class"] = [round(float(value), 4) for value in metrics["iou_per_class"]]
    entry: dict[str, Any] = {
        **metadata,
        "command": _command_line(recipe, threads=threads, device=device, ship=ship, force=force),
        "test_metrics": rounded,
        "final_val_mean_iou": round(float(history.val_metrics[-1]["mean_iou"]), 4) if history.val_metrics else None,
        "val_curve": [[step, round(float(metrics["mean_iou"]), 4)] for step, metrics in history.val_curve],
        "train_seconds": round(seconds, 1),
        "trained_on": f"{machine}, torch {torch.__version__}, {threads} threads, {_device_name(chosen)}",
        "file": path.name,
    }
    entry["sha256"] = save_checkpoint(model, path, metadata=metadata, half_precision=True)
    if ship:
        shipped.update_manifest(f"{recipe.model}-{recipe.dataset}", entry)
    else:
        entry["path"] = str(path)
    return entry


def start_bias_at_class_frequencies(model: torch.nn.Module, train_data: Dataset) -> None:
    """Start ``model``'s last class-score bias at the class frequencies of the first training scenes.

    Args:
        model: The freshly built segmentation model; changed in place.
        train_data: Training scenes ``(image, mask)``; the labels of the first :data:`PRIOR_SCENES`
            masks ``(H, W)`` are counted.

    Raises:
        ValueError: If the model has no last convolution with a bias and one channel per class.
    """
    from segedu.training.quick import start_at_class_frequencies

    count = min(PRIOR_SCENES, len(train_data))
    masks = torch.stack([train_data[index][1] for index in range(count)])
    if not start_at_class_frequencies(model, masks):
        raise ValueError(f"prior_bias: {type(model).__name__} has no last convolution with a bias and one output "
                         "channel per class; train it without --prior-bias")


def train_for_minutes(
    model_name: str,
    dataset: str,
    minutes: float,
    *,
    output: Path | None = None,
    force: bool = False,
    seed: int = 0,
    threads: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a model from scratch for ``minutes`` on the CPU (:mod:`segedu.training.quick`) and score it.

    Args:
        model_name: Registry name, e.g. ``"unet"``; sizes as in the shipped recipes.
        dataset: ``"shapes"`` or ``"digits"``.
        minutes: Wall-clock budget for training (rendering the scenes included, scoring not).
        output: Checkpoint path; default ``runs/MODEL-DATASET-<time>.pt``, checked before training.
        force: Allow replacing an existing file.
        seed: Seed for initialisation and sampling.
        threads: CPU threads (default: every core).
        progress: Show a progress bar.

    Returns:
        A summary: path, sha256, steps, seconds, bfloat16, the loss curve and the test metrics.
    """
    from segedu.core.seeding import seed_everything
    from segedu.models import get_model
    from segedu.training.quick import QuickRecipe, train_within

    check_positive("minutes", minutes)
    recipe = RECIPES.get((model_name, dataset)) or Recipe(model_name, dataset, steps=_STEPS[dataset])
    path = _output_path(recipe, output, ship=False, force=force)
    threads = threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    seed_everything(seed)
    test_data = offline_dataset(dataset, "test")
    model_kwargs = {"in_channels": test_data.channels, "num_classes": test_data.num_classes, **recipe.model_kwargs}
    model = get_model(model_name, **model_kwargs)
    quick = QuickRecipe()
    metadata = {"model": model_name, "dataset": dataset, "model_kwargs": model_kwargs,
                "quick_recipe": asdict(quick), "minutes": minutes, "seed": seed}
    with _partial_checkpoint_on_failure(model, path, metadata):
        run = train_within(model, training_scenes(dataset, quick.pool_size), 60 * minutes, recipe=quick, seed=seed,
                           progress=progress)
    model.eval()
    metrics = evaluate(model, test_data)
    return {
        "path": str(path),
        "sha256": save_checkpoint(model, path, metadata=metadata),
        "command": f"segedu train {model_name} {dataset} --minutes {minutes:g} --seed {seed} --threads {threads}",
        "steps": run.steps, "train_seconds": round(run.seconds, 1), "bfloat16": run.bfloat16,
        "curve": run.curve,
        "test_mean_iou": round(float(metrics["mean_iou"]), 4),
        "test_pixel_accuracy": round(float(metrics["pixel_accuracy"]), 4),
        "trained_on": f"{platform.machine()}, torch {torch.__version__}, {threads} threads",
    }


def train_from_command_line(arguments: argparse.Namespace) -> int:
    """Handle ``segedu train MODEL DATASET [--steps N] [--seed S] [--output PATH | --ship] [--force] ...``.

    Raises:
        ValueError: On an unknown model or an output that cannot be written (before training).
    """
    prior_bias = bool(getattr(arguments, "prior_bias", False))
    if arguments.minutes is not None:
        if arguments.ship or arguments.steps is not None or arguments.device not in (None, "cpu") or prior_bias:
            raise ValueError("--minutes trains on the CPU into a new file (its bias already starts at the class "
                             "frequencies); it cannot be combined with --ship, --steps, --device or --prior-bias")
        summary = train_for_minutes(
            arguments.model, arguments.dataset, arguments.minutes,
            output=Path(arguments.output) if arguments.output else None, force=arguments.force,
            seed=arguments.seed, threads=arguments.threads,
        )
        print(json.dumps(summary, indent=2))
        print(f"test mean IoU after {summary['train_seconds']:.0f} s: {summary['test_mean_iou']:.3f}")
        return 0
    key = (arguments.model, arguments.dataset)
    if key in RECIPES:
        recipe = RECIPES[key]
    else:
        from segedu.models import list_models

        choices = list_models(segmentation_only=True)
        if arguments.model not in choices:
            raise ValueError(f"unknown model {arguments.model!r}; choose one of {choices}")
        recipe = Recipe(arguments.model, arguments.dataset, steps=_STEPS[arguments.dataset])
    overrides: dict[str, Any] = {"seed": arguments.seed}
    if arguments.steps is not None:
        overrides["steps"] = arguments.steps
    if prior_bias and not recipe.prior_bias:
        if arguments.ship:
            raise ValueError(f"--prior-bias is not {arguments.model}'s shipped recipe (only SegNet's starts its bias "
                             "at the class frequencies); drop --ship (the run goes to runs/ or --output)")
        overrides["prior_bias"] = True
    recipe = Recipe(**{**asdict(recipe), **overrides})
    entry = train_recipe(
        recipe, output=Path(arguments.output) if arguments.output else None, ship=arguments.ship,
        force=arguments.force, device=arguments.device, threads=arguments.threads or shipped_threads(recipe.model),
    )
    print(json.dumps(entry, indent=2))
    return 0


def _output_path(recipe: Recipe, output: Path | None, *, ship: bool, force: bool) -> Path:
    """Where the checkpoint goes, checked for writability before any training."""
    if ship and output is not None:
        raise ValueError("pass either --ship (replace the shipped checkpoint) or --output PATH, not both")
    if ship:
        path = shipped.CHECKPOINT_DIR / f"{recipe.model}-{recipe.dataset}.pt"
        if path.exists() and not force:
            raise ValueError(
                f"{path} is a shipped checkpoint; add --force to replace it (and its manifest entry), "
                "or drop --ship to write a new file under runs/"
            )
    elif output is None:
        path = Path("runs") / f"{recipe.model}-{recipe.dataset}-{time.strftime('%Y%m%d-%H%M%S')}.pt"
    else:
        path = Path(output)
    return check_output_path(path, overwrite=force)


def _command_line(recipe: Recipe, *, threads: int, device: str | None, ship: bool, force: bool) -> str:
    """The full ``segedu train`` command that reproduces this run."""
    words = ["segedu train", recipe.model, recipe.dataset, f"--steps {recipe.steps}", f"--seed {recipe.seed}"]
    words.append(f"--threads {threads}")
    words += ["--prior-bias"] * recipe.prior_bias
    if device is not None:
        words.append(f"--device {device}")
    words += ["--ship"] * ship + ["--force"] * force
    return " ".join(words)


@contextlib.contextmanager
def _partial_checkpoint_on_failure(model: torch.nn.Module, path: Path, metadata: dict[str, Any]) -> Iterator[None]:
    """On Ctrl-C or an error, save the model's weights as ``NAME.partial.pt`` before re-raising."""
    try:
        yield
    except BaseException as error:
        partial = path.with_name(f"{path.stem}.partial.pt")
        counter = 1
        while partial.exists():
            counter += 1
            partial = path.with_name(f"{path.stem}.partial-{counter}.pt")
        try:
            save_checkpoint(model, partial, metadata={**metadata, "partial": True})
        except Exception as save_error:  # the original error matters more
            _add_note(error, f"the weights learned so far could not be saved: {save_error}")
        else:
            _add_note(error, f"the weights learned so far are saved in {partial} (load_checkpoint reads it)")
            print(f"segedu train: stopped early; the weights learned so far are saved in {partial}", file=sys.stderr)
        raise


def _add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)`` where Python has it (3.11+); older versions keep the error as it is."""
    add_note = getattr(error, "add_note", None)
    if add_note is not None:
        add_note(note)
