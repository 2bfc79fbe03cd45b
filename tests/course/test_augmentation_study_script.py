"""Lesson 12's study script protects the shipped record, copies part 2 only when it matches, and its record fits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from experiments import augmentation_study
from segedu.course.experiments import RESULTS_DIR, load_experiment


def test_the_shipped_record_is_protected(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert (RESULTS_DIR / "augmentation_study.json").is_file()
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--output", str(RESULTS_DIR)])
    with pytest.raises(SystemExit):
        augmentation_study.main()  # refuses before any training
    assert "--overwrite" in capsys.readouterr().err


def test_a_default_run_writes_outside_the_package() -> None:
    arguments = augmentation_study.build_parser().parse_args([])
    assert arguments.output == Path("runs") and not arguments.overwrite
    assert arguments.steps == augmentation_study.STEPS and arguments.learning_rate_from is None


def test_part_two_is_copied_only_from_a_matching_record(tmp_path: Path, monkeypatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    other = load_experiment("augmentation_study")
    other["settings"]["learning_rate"] = {**other["settings"]["learning_rate"], "steps": 999}
    source = tmp_path / "other.json"
    source.write_text(json.dumps(other))
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--output", str(tmp_path / "out"),
                                      "--learning-rate-from", str(source)])
    with pytest.raises(SystemExit):
        augmentation_study.main()  # refuses before any training
    assert "other part-2 settings" in capsys.readouterr().err


def test_the_shipped_record_matches_the_script() -> None:
    record = load_experiment("augmentation_study")
    settings = record["settings"]["augmentation"]
    assert settings["steps"] == augmentation_study.STEPS and len(record["seeds"]) >= 3
    for seed in record["seeds"]:
        for arm in augmentation_study.ARMS:
            run = record["results"]["augmentation"][str(seed)][arm]
            assert run["steps"][-1] == settings["steps"] and len(run["loss"]) == settings["steps"]
            assert len(run["train"]) == len(run["val"]) == settings["steps"] // settings["score_every"] + 1
