"""The three-minute study taken from a benchmark keeps the benchmark's machine and training threads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import three_minute_models


def _benchmark(recipe: dict, *, seconds: float = 180.0) -> dict:
    machine = {"cpu": "Some CPU", "cores": 2, "memory_gib": 23.5, "threads": 1, "system": "Linux x86_64",
               "python": "3.11.7", "torch": "2.x", "line": "Some CPU, ..., 1 torch thread(s)"}
    runs = [{"model": model, "dataset": dataset, "seed": seed, "threads": 2}
            for model in three_minute_models.MODELS for dataset in three_minute_models.DATASETS
            for seed in three_minute_models.SEEDS]
    runs.append({"model": "smp_unet_resnet18", "dataset": "digits", "seed": 0, "threads": 2})
    return {"machine": machine, "part_dates": {"training": "2026-12-01"}, "training": runs,
            "settings": {"training": {"seconds": seconds, "seeds": list(three_minute_models.SEEDS),
                                      "recipe": recipe, "threads": 2}}}


def test_the_machine_line_quotes_the_training_threads_not_the_inference_ones(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(_benchmark(three_minute_models._recipe())))
    runs, machine = three_minute_models.runs_from_benchmark(path)
    assert len(runs) == 24 and {run["model"] for run in runs} == set(three_minute_models.MODELS)
    assert "training with 2 torch thread(s)" in machine and "1 torch thread" not in machine
    assert machine.startswith("Some CPU, 2 cores, 24 GiB RAM") and "2026-12-01" in machine


def test_a_benchmark_with_another_budget_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(_benchmark(three_minute_models._recipe(), seconds=60.0)))
    with pytest.raises(ValueError, match="not this study's"):
        three_minute_models.runs_from_benchmark(path)
