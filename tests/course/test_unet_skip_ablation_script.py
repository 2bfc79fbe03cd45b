"""Lesson 10's skip-ablation script: record names per step count, and merging seeds run apart."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from experiments import unet_skip_ablation
from segedu.analysis import skip_ablation
from segedu.course.experiments import RESULTS_DIR, save_experiment


def test_the_default_keeps_the_lessons_record_and_longer_runs_get_their_own() -> None:
    assert unet_skip_ablation.record_name(200) == "unet_skip_ablation"
    assert unet_skip_ablation.record_name(1000) == "unet_skip_ablation_1000"
    assert (RESULTS_DIR / "unet_skip_ablation.json").is_file()
    longer = json.loads((RESULTS_DIR / "unet_skip_ablation_1000.json").read_text())
    assert longer["command"] == "python -m experiments.unet_skip_ablation_1000"  # the wrapper, named like the record
    assert longer["settings"]["steps"] == unet_skip_ablation.LONGER_STEPS and longer["seeds"] == [0, 1, 2, 3, 4]


def _fake(directory: Path, seeds: list[int], settings: dict | None = None) -> Path:
    results = {"per_seed": {str(seed): {"with skips": [float(seed)]} for seed in seeds},
               "maps": {"seed": seeds[0], "scenes": [0]}, "cpu_seconds": 10.0, "wall_seconds": 20.0}
    return save_experiment("unet_skip_ablation_9", command="python -m experiments.unet_skip_ablation --steps 9",
                           settings=settings or {"steps": 9}, seeds=seeds, results=results, directory=directory)


def test_merge_joins_seeds_run_as_separate_processes(tmp_path: Path) -> None:
    parts = [_fake(tmp_path / name, seeds) for name, seeds in (("b", [3, 4]), ("a", [0, 1, 2]))]
    merged = json.loads(unet_skip_ablation.merge_records(parts, tmp_path).read_text())
    assert merged["name"] == "unet_skip_ablation_9" and merged["seeds"] == [0, 1, 2, 3, 4]
    assert list(merged["results"]["per_seed"]) == ["0", "1", "2", "3", "4"]
    assert merged["results"]["per_seed"]["4"] == {"with skips": [4.0]}
    assert merged["results"]["maps"]["seed"] == 0  # the maps of the first seed, as in one run
    assert merged["results"]["cpu_seconds"] == 20.0 and "per_seed_live_steps" not in merged["results"]
    assert merged["ran_on"] == json.loads(parts[0].read_text())["ran_on"]


def test_merge_refuses_overlapping_seeds_or_other_settings(tmp_path: Path) -> None:
    first = _fake(tmp_path / "a", [0, 1])
    with pytest.raises(ValueError, match="overlap"):
        unet_skip_ablation.merge_records([first, _fake(tmp_path / "b", [1, 2])], tmp_path)
    with pytest.raises(ValueError, match="same study"):
        unet_skip_ablation.merge_records([first, _fake(tmp_path / "c", [2], {"steps": 8})], tmp_path)


def test_a_longer_run_writes_its_own_record_without_live_rows(monkeypatch, tmp_path: Path) -> None:
    render = skip_ablation.object_scenes
    monkeypatch.setattr(unet_skip_ablation, "object_scenes", lambda split, length: render(split, 8))
    monkeypatch.setattr(sys, "argv", ["unet_skip_ablation", "--steps", "2", "--seeds", "0",
                                      "--directory", str(tmp_path)])
    unet_skip_ablation.main()  # reads sys.argv, as on the command line
    record = json.loads((tmp_path / "unet_skip_ablation_2.json").read_text())
    assert record["command"] == "python -m experiments.unet_skip_ablation --steps 2"
    assert record["settings"]["steps"] == 2 and "live_steps" not in record["settings"]
    assert set(record["results"]) == {"per_seed", "maps", "cpu_seconds", "wall_seconds"}
    assert len(record["results"]["per_seed"]["0"]["with skips"]) == len(skip_ablation.SCORE_NAMES)
