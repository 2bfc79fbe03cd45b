"""The speed levers of the three-minute recipe, each measured as a with/without ratio in one run.

The recipe (:mod:`segedu.training.quick`) keeps a lever only if it buys training steps per second on the
machine at hand. Each lever is switched off (or on) alone, all other settings as in the recipe, and the
variants are timed in interleaved rounds (A, B, C, ..., A, B, C, ...) so that a noisy neighbour slows
every variant alike; the ratio of medians is what is reported.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from benchmarks.timing import Timing, summarize

__all__ = ["LEVERS", "LeverResult", "Variant", "benchmark_levers"]


@dataclass(frozen=True)
class Variant:
    """One way of running the recipe's training step.

    Attributes:
        bfloat16: Convolutions under bfloat16 autocast.
        prerendered: Batches sampled from scenes rendered once (else each scene is drawn at its step).
        channels_last: Model and batches in channels-last memory format.
        threads: Torch threads.
    """

    bfloat16: bool
    prerendered: bool = True
    channels_last: bool = False
    threads: int = 0  # 0: every core


def _levers(bfloat16: bool, cores: int) -> dict[str, tuple[Variant, Variant, bool]]:
    """lever -> (the recipe with it, the recipe without it, whether the recipe keeps it)."""
    recipe = Variant(bfloat16=bfloat16, threads=cores)
    return {
        "bfloat16 autocast (vs float32)": (Variant(True, threads=cores), Variant(False, threads=cores), bfloat16),
        "scenes rendered once (vs drawn at every step)":
            (recipe, Variant(bfloat16, prerendered=False, threads=cores), True),
        "channels-last memory (vs the default layout)":
            (Variant(bfloat16, channels_last=True, threads=cores), recipe, False),
        f"{cores} threads (vs 1)": (recipe, Variant(bfloat16, threads=1), True),
    }


LEVERS = tuple(_levers(True, 2))


@dataclass(frozen=True)
class LeverResult:
    """What one lever buys.

    Attributes:
        lever: Its name (one of ``LEVERS``, with the core count filled in).
        with_lever: Seconds per step with it.
        without_lever: Seconds per step without it.
        speedup: Steps per second with it divided by without it (median over rounds).
        kept: Whether the recipe uses it.
    """

    lever: str
    with_lever: Timing
    without_lever: Timing
    speedup: float
    kept: bool


def benchmark_levers(
    model_name: str = "unet",
    dataset: str = "digits",
    *,
    steps: int = 20,
    rounds: int = 3,
    batch_size: int = 32,
) -> list[LeverResult]:
    """Time the recipe's training step with and without each lever, interleaved over ``rounds``.

    Args:
        model_name: A segedu model at its shipped size.
        dataset: ``"shapes"`` or ``"digits"``.
        steps: Timed steps per variant and round (after 2 untimed ones).
        rounds: Interleaved rounds; the median needs at least 3.
        batch_size: Images per step (the recipe's 32).
    """
    from segedu.models import get_model
    from segedu.training.quick import bfloat16_available, render_pool
    from segedu.training.recipes import RECIPES, offline_dataset, training_scenes

    if rounds < 3 or steps < 1:
        raise ValueError(f"rounds must be at least 3 and steps at least 1; got rounds={rounds}, steps={steps}")
    cores = os.cpu_count() or 1
    levers = _levers(bfloat16_available(), cores)
    variants = sorted({variant for with_it, without_it, _ in levers.values() for variant in (with_it, without_it)},
                      key=repr)
    scenes = training_scenes(dataset, 4 * batch_size)
    pool = render_pool(scenes, 4 * batch_size)  # (N, C, H, W), (N, H, W)
    info = offline_dataset(dataset, "val")
    sizes = RECIPES[(model_name, dataset)].model_kwargs
    samples: dict[Variant, list[float]] = {variant: [] for variant in variants}
    previous_threads = torch.get_num_threads()
    try:
        for _ in range(rounds):
            for variant in variants:
                torch.manual_seed(0)
                model = get_model(model_name, in_channels=info.channels, num_classes=info.num_classes, **sizes)
                samples[variant].append(_seconds_per_step(model, variant, scenes, pool, steps, batch_size, cores))
    finally:
        torch.set_num_threads(previous_threads)
    results = []
    for lever, (with_it, without_it, kept) in levers.items():
        with_timing, without_timing = summarize(samples[with_it]), summarize(samples[without_it])
        results.append(LeverResult(lever, with_timing, without_timing,
                                   without_timing.median / with_timing.median, kept))
    return results


def _seconds_per_step(
    model: torch.nn.Module, variant: Variant, scenes: Dataset, pool: tuple[Tensor, Tensor], steps: int,
    batch_size: int, cores: int,
) -> float:
    """One sample: mean seconds per step over ``steps`` steps, after 2 untimed ones."""
    torch.set_num_threads(variant.threads or cores)
    memory_format = torch.channels_last if variant.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)

    def step() -> None:
        batch = torch.randint(0, len(pool[0]), (batch_size,), generator=generator)
        if variant.prerendered:
            images, masks = pool[0][batch], pool[1][batch]  # (B, C, H, W), (B, H, W)
        else:  # draw every scene now, as a loop over a Dataset would
            drawn = [scenes[int(index)] for index in batch]
            images = torch.stack([image for image, _ in drawn])
            masks = torch.stack([mask for _, mask in drawn])
        images = images.contiguous(memory_format=memory_format)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16) if variant.bfloat16 else contextlib.nullcontext():
            logits = model(images)  # (B, K, H, W)
        F.cross_entropy(logits.float(), masks).backward()
        optimizer.step()

    for _ in range(2):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - started) / steps
