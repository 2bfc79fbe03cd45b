"""Inference time per image and activation memory of each model at several image sizes."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from benchmarks.timing import Timing, time_repeated
from benchmarks.training import build_benchmark_model

__all__ = ["InferenceResult", "benchmark_inference"]


@dataclass(frozen=True)
class InferenceResult:
    """One model at one square image size (batch of one RGB image, four classes).

    Attributes:
        model: segedu registry name or the reference's name.
        size: Height and width of the input.
        seconds: Forward pass time in ``eval()`` mode without gradients.
        forward_bytes: Sum of every layer's output (:func:`segedu.analysis.costs.activation_memory`).
        backward_bytes: What autograd keeps for the backward pass (training memory).
    """

    model: str
    size: int
    seconds: Timing
    forward_bytes: int
    backward_bytes: int


def benchmark_inference(
    name: str, sizes: tuple[int, ...] = (64, 256, 512), *, repeats: int = 3, seed: int = 0
) -> list[InferenceResult]:
    """Time ``name``'s forward pass on one ``3 x size x size`` image for every size.

    Args:
        name: A segedu model or :data:`benchmarks.training.REFERENCE`.
        sizes: Square image sizes.
        repeats: Timed passes per size (median of at least 3), after one untimed pass.
        seed: Seeds the random weights and the image (speed does not depend on them).
    """
    from segedu.analysis.costs import activation_memory

    torch.manual_seed(seed)
    model = build_benchmark_model(name, in_channels=3, num_classes=4).eval()
    results = []
    for size in sizes:
        image = torch.rand(1, 3, size, size)  # (1, 3, H, W)

        def forward() -> None:
            with torch.no_grad():
                model(image)  # (1, 4, H, W)

        results.append(
            InferenceResult(
                model=name,
                size=size,
                seconds=time_repeated(forward, repeats=repeats),
                forward_bytes=activation_memory(model, (1, 3, size, size)),
                backward_bytes=activation_memory(model, (1, 3, size, size), backward=True),
            )
        )
    return results
