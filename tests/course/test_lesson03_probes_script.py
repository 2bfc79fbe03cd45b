"""Lesson 03's probe study script on tiny settings: both records, the checkpoint, and merging seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import lesson03_classifier_probes as study


@pytest.fixture()
def tiny(monkeypatch) -> None:
    settings = {**study.SETTINGS, "steps": 50, "train_scenes": 200,
                "probe_images": {"train": 40, "validation": 20, "test": 20}}
    monkeypatch.setattr(study, "SETTINGS", settings)
    monkeypatch.setattr(study, "TRAIN_ACCURACY_SCENES", 100)


def test_separate_seed_runs_merge_into_both_records_and_the_checkpoint(tmp_path: Path, tiny) -> None:
    for seed in (1, 0):
        (tmp_path / f"seed{seed}").mkdir()
        study.run_seeds([seed], tmp_path / f"seed{seed}")
    target = tmp_path / "merged"
    target.mkdir()
    study.merge([tmp_path / "seed1", tmp_path / "seed0"], target=target)
    record = json.loads((target / f"{study.NAME}.json").read_text())
    control = json.loads((target / f"{study.CONTROL}.json").read_text())
    assert record["seeds"] == control["seeds"] == [0, 1]
    assert record["settings"]["checkpoint"]["seed"] == 0 and (target / study.CHECKPOINT).is_file()
    fc = record["results"]["1"]["fc"]
    assert len(fc["loss_curve"]) == 1 and fc["train_cpu_seconds"] > 0 and 0 <= fc["train_all_right"] <= 1
    assert control["results"]["1"]["trained"]["probe_error"] == fc["probe_error"]
    mixed = control["results"]["1"]["trained stages, initial head"]["probe_error"]["whole"]
    assert mixed["stage3"] == fc["probe_error"]["whole"]["stage3"]  # the same trained stages
    assert mixed["fc1"] != fc["probe_error"]["whole"]["fc1"]  # under another fc1
