"""Inference time and activation memory per model and size."""

from __future__ import annotations

import pytest

from benchmarks.inference import benchmark_inference
from benchmarks.training import REFERENCE, build_benchmark_model
from segedu.analysis.costs import activation_memory


@pytest.mark.parametrize("name", ["unet", REFERENCE])
def test_one_result_per_size_with_the_cost_tools_numbers(name: str) -> None:
    results = benchmark_inference(name, sizes=(32, 64), repeats=3)
    assert [result.size for result in results] == [32, 64]
    model = build_benchmark_model(name, in_channels=3, num_classes=4).eval()
    for result in results:
        assert result.model == name
        assert len(result.seconds.samples) == 3
        assert result.seconds.median > 0
        assert result.forward_bytes == activation_memory(model, (1, 3, result.size, result.size))
        assert result.backward_bytes == activation_memory(model, (1, 3, result.size, result.size), backward=True)
    # Four times the pixels: activations grow about fourfold.
    assert 3.5 < results[1].forward_bytes / results[0].forward_bytes <= 4.0
