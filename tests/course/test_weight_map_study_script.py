"""The weight-map study script: a tiny run writes a complete record; a shipped record is never overwritten unasked."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

import segedu.course.experiments as course_experiments
from experiments import weight_map_study
from experiments._pool_study import settings_fingerprint
from segedu.analysis.touching_objects import OUTCOMES


def test_a_default_run_writes_outside_the_package() -> None:
    arguments = weight_map_study.build_parser().parse_args([])
    assert arguments.output == Path("runs") and not arguments.overwrite
    assert arguments.steps == weight_map_study.SETTINGS["steps"] and arguments.test_scenes == 1000
    assert weight_map_study.PARTS_DIR == Path("runs/weight_map_study_parts")


def test_a_tiny_study_writes_a_complete_record_and_guards_it(monkeypatch, tmp_path: Path, capsys,
                                                               pool_in_this_process) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    monkeypatch.setattr(course_experiments, "RESULTS_DIR", shipped)  # stands in for the package's records
    monkeypatch.setattr(weight_map_study, "PARTS_DIR", tmp_path / "parts")
    monkeypatch.setattr(weight_map_study, "SETTINGS", json.loads(json.dumps(weight_map_study.SETTINGS)))
    monkeypatch.setattr(weight_map_study, "_DATA", {})
    tiny = ["weight_map_study", "--steps", "2", "--train-scenes", "6", "--test-scenes", "40", "--seeds", "0", "1",
            "--output", str(shipped)]
    monkeypatch.setattr(sys, "argv", tiny)
    weight_map_study.main()
    record = json.loads((shipped / "weight_map_study.json").read_text())
    settings, results = record["settings"], record["results"]
    assert record["seeds"] == [0, 1] and "--steps 2" in record["command"]
    assert settings["steps"] == 2 and settings["train_scenes"] == 6 and settings["test_scenes"] == 40
    assert settings["weight_map"]["w0"] == 10.0 and settings["weight_map"]["sigma"] == 5.0
    assert "w_c = 1" in settings["weight_map"]["class_weights"] and "pilot" in settings
    pairs = results["nearby_pairs"]
    assert results["nearby_pair_count"] == len(pairs) > 0
    assert all(2.0 <= pair["distance"] <= 4.0 + 1e-4 and pair["first"] < pair["second"] for pair in pairs)
    assert settings["picture_scenes"] == sorted({pair["scene"] for pair in pairs})[:4]
    assert len(results["test_masks_for_pictures"]) == len(settings["picture_scenes"])
    assert 0 < results["gap_pixel_count"] < results["test_pixel_count"] == 40 * 64 * 64
    assert results["train_weights"]["max"] > 1.0
    assert list(results["runs"]) == weight_map_study.ARMS
    for arm in weight_map_study.ARMS:
        assert list(results["runs"][arm]) == ["0", "1"]
        for seed, run in results["runs"][arm].items():
            confusion = torch.tensor(run["confusion"])
            assert confusion.shape == (4, 4) and int(confusion.sum()) == 40 * 64 * 64
            gap = torch.tensor(run["gap_confusion"])
            assert int(gap.sum()) == results["gap_pixel_count"] == int(gap[0].sum())  # gaps are background
            assert torch.tensor(run["band_confusion"]).shape == (4, 4)
            assert len(run["pair_outcomes"]) == len(pairs) and set(run["pair_outcomes"]) <= set(OUTCOMES)
            assert run["outcome_counts"] == {outcome: run["pair_outcomes"].count(outcome) for outcome in OUTCOMES}
            assert [step for step, _ in run["loss_curve"]] == [] and run["parameters"] > 0 and run["cpu_seconds"] >= 0
            pictures = run.get("pictures")
            if seed == "0":
                assert len(pictures) == len(settings["picture_scenes"]) and len(pictures[0]) == 64
            else:
                assert pictures is None
    # The record now stands where the course ships its records: a second run refuses before any training...
    with pytest.raises(SystemExit):
        weight_map_study.main()
    assert "--overwrite" in capsys.readouterr().err
    # ...and --overwrite replaces it (the finished runs come back from their parts).
    monkeypatch.setattr(sys, "argv", [*tiny, "--overwrite"])
    weight_map_study.main()
    assert json.loads((shipped / "weight_map_study.json").read_text())["results"]["runs"] == results["runs"]
    assert sorted(path.name for path in (tmp_path / "parts").glob("*.json")) == sorted(
        f"{arm}_{seed}_2_6_40_{settings_fingerprint(weight_map_study.SETTINGS)}.json"
        for arm in weight_map_study.ARMS for seed in (0, 1))


def test_an_unknown_arm_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown arm"):
        weight_map_study.one_run(("focal", 0))
