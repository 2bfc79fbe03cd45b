"""Lesson 08's re-tune study: its record matches its command and settings, and the script refuses what it cannot do."""

from __future__ import annotations

import json
import math
import shlex
import sys
from pathlib import Path

import pytest

from experiments import fcn_retune_study
from segedu.course.experiments import RESULTS_DIR, load_experiment
from segedu.training.shipped import pretrained_info


def test_the_records_command_parses_to_the_scripts_settings() -> None:
    record = load_experiment("fcn_retune_study")
    words = shlex.split(record["command"])
    assert words[:3] == ["python", "-m", "experiments.fcn_retune_study"]
    arguments = fcn_retune_study.build_parser().parse_args(words[3:])
    assert sorted(arguments.seeds) == record["seeds"] and arguments.steps == record["settings"]["steps"]
    assert list(record["results"]["runs"]) == arguments.branches


def test_the_shipped_record_matches_its_settings() -> None:
    record = load_experiment("fcn_retune_study")
    assert record["settings"] == {**fcn_retune_study.SETTINGS, "steps": 200} and record["seeds"] == [0, 1, 2]
    assert record["settings"]["lr"] == pytest.approx(0.003 * 0.5 * (1 + math.cos(math.pi * 0.75)))  # step 3,000 of 4,000
    shipped = pretrained_info("fcn8s", "shapes")
    assert record["settings"]["model_sha256"] == shipped["sha256"]  # the shipped FCN-8s
    runs = record["results"]["runs"]
    assert list(runs) == list(fcn_retune_study.BRANCHES)
    for branch, by_seed in runs.items():
        assert list(by_seed) == ["0", "1", "2"]
        for seed, run in by_seed.items():
            assert (run["branch"], str(run["seed"]), run["steps"]) == (branch, seed, 200)
            assert run["held_layer_unchanged"]
            assert run["test"]["all on"] == shipped["test_metrics"]["mean_iou"]  # the shipped model, scored again
            assert run["val"]["all on"] == shipped["final_val_mean_iou"]
            if branch == "none":
                assert run["test"]["zeroed"] == run["test"]["all on"]  # nothing zeroed
        assert len({json.dumps([run["val"]["zeroed"], run["test"]["zeroed"]]) for run in by_seed.values()}) == 1


def test_the_scenes_are_ones_the_shipped_model_never_saw() -> None:
    recipe = pretrained_info("fcn8s", "shapes")["recipe"]
    scenes = fcn_retune_study.retune_scenes()
    assert len(scenes) == 3200 and scenes.indices[0] == recipe["steps"] * recipe["batch_size"]


@pytest.mark.system  # re-tunes the shipped FCN-8s for 2 steps and scores the validation and test splits: about 20 s
def test_a_tiny_run_writes_a_complete_record(tmp_path: Path) -> None:
    fcn_retune_study.main(["--steps", "2", "--seeds", "0", "--branches", "pool3", "--workers", "1",
                           "--output", str(tmp_path)])
    record = json.loads((tmp_path / "fcn_retune_study.json").read_text())
    run = record["results"]["runs"]["pool3"]["0"]
    assert record["settings"]["steps"] == 2 and run["held_layer_unchanged"]
    assert run["test"]["zeroed"] < run["test"]["all on"]
    assert record["command"].endswith(f"--workers 1 --output {tmp_path}")


def test_too_many_steps_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        fcn_retune_study.main(["--steps", "201", "--output", str(tmp_path)])
    assert "needs 3216 scenes" in capsys.readouterr().err


def test_the_shipped_record_is_protected(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["fcn_retune_study", "--output", str(RESULTS_DIR)])
    with pytest.raises(SystemExit):
        fcn_retune_study.main()
    assert "--overwrite" in capsys.readouterr().err
