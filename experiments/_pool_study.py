"""What the stored pool studies share: train on a rendered pool, score on the test pool, keep each run, run in parallel.

The loss, shortcut and output-stride studies each compare a few variants over paired seeds on equal budgets.
Each run is kept as a JSON "part" file, so an interrupted study resumes where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import Tensor, nn
from tqdm import tqdm

from segedu.training.quick import score_on_pool, start_at_class_frequencies, train_on_pool

__all__ = ["cached_run", "run_jobs", "settings_fingerprint", "study_parser", "train_and_score"]


def train_and_score(model: nn.Module, pools: tuple[Tensor, Tensor, Tensor, Tensor],
                    loss_function: Callable[[Tensor, Tensor], Tensor], settings: dict[str, Any], *, seed: int,
                    num_classes: int, class_weights: Tensor | None = None) -> dict[str, Any]:
    """Start ``model`` at the class frequencies, train it on the pool, score it on the test pool.

    Args:
        model: The freshly built network (trained in place).
        pools: ``(train_images, train_masks, test_images, test_masks)``.
        loss_function: ``loss(logits, masks) -> scalar``.
        settings: The study's settings: ``steps``, ``batch_size``, ``peak_lr``, ``warmup_fraction``,
            ``curve_every`` and ``band_width``.
        seed: Seed of the batch order.
        num_classes: Classes of the masks.
        class_weights: Start at the constant answer that minimises cross-entropy with these weights instead.

    Returns:
        ``confusion`` and ``band_confusion`` (:func:`score_on_pool`), ``loss_curve`` and ``parameters``.
    """
    train_images, train_masks, test_images, test_masks = pools
    start_at_class_frequencies(model, train_masks, class_weights=class_weights)
    curve = train_on_pool(model, train_images, train_masks, loss_function, steps=settings["steps"],
                          batch_size=settings["batch_size"], peak_lr=settings["peak_lr"],
                          warmup_fraction=settings["warmup_fraction"], seed=seed, curve_every=settings["curve_every"])
    return {
        **score_on_pool(model, test_images, test_masks, num_classes, band_width=settings["band_width"]),
        "loss_curve": curve,
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
    }


def settings_fingerprint(settings: Mapping[str, Any]) -> str:
    """Twelve hex digits of the sha256 of ``settings`` written as sorted JSON (a stand-in for any value JSON lacks)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:12]


def cached_run(parts: Path, stem: str, settings: Mapping[str, Any],
               compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The run kept in ``parts`` under ``stem`` and these ``settings``, or ``compute()``'s result, then kept there.

    The part's file name ends in the settings' fingerprint, so a run made under other settings is never reused
    for these (a change of code is not seen: delete the folder after one).

    Args:
        parts: The folder of finished runs.
        stem: The run's name, e.g. ``"indices_3_1000"``.
        settings: The study's settings as the run uses them.
        compute: Trains and scores the run; its result gains ``cpu_seconds``.
    """
    part = parts / f"{stem}_{settings_fingerprint(settings)}.json"
    if part.is_file():
        return json.loads(part.read_text())
    started = time.process_time()
    result = {**compute(), "cpu_seconds": round(time.process_time() - started, 1)}
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_text(json.dumps(result))
    return result


def study_parser(description: str, *, steps: int) -> argparse.ArgumentParser:
    """The options every pool study has: seeds, workers, steps, output folder, overwrite."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2, help="runs at once, one process and one thread each")
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--output", type=Path, default=Path("runs"),
                        help="folder for the record (default: runs/ in the current folder)")
    parser.add_argument("--overwrite", action="store_true", help="allow replacing a record the course ships")
    return parser


def run_jobs(one_run: Callable[[Any], dict[str, Any]], jobs: Sequence[Any], workers: int) -> list[dict[str, Any]]:
    """``one_run`` on every job in ``workers`` forked processes, in the jobs' order, with a progress bar."""
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return list(tqdm(pool.imap(one_run, jobs), total=len(jobs), desc="runs", unit="run"))
