"""Lesson 07's crop-classifier script: a tiny run writes a record and a checkpoint that loads by hash, the shipped
record protects itself, and the shipped checkpoint is the one its record names."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from experiments import lesson07_crop_classifier as script
from segedu.course.experiments import RESULTS_DIR, load_experiment
from segedu.models import TinyClassifier
from segedu.training.checkpoints import file_sha256, load_checkpoint


def _loaded(path: Path, sha256: str) -> TinyClassifier:
    classifier = TinyClassifier(3, 3, base_channels=8, image_size=24)
    classifier.load_state_dict(load_checkpoint(path, expected_sha256=sha256)["state_dict"])
    return classifier.eval()


def test_a_tiny_run_writes_a_record_and_a_checkpoint_that_loads_by_hash(tmp_path: Path, monkeypatch) -> None:
    for key, value in (("train_scenes", 4), ("test_scenes", 2), ("curve_every", 1)):
        monkeypatch.setitem(script.SETTINGS, key, value)
    monkeypatch.setattr(sys, "argv", ["lesson07_crop_classifier", "--steps", "3", "--output", str(tmp_path)])
    script.main()
    record = json.loads((tmp_path / f"{script.NAME}.json").read_text())
    results = record["results"]
    assert record["seeds"] == [0] and record["settings"]["steps"] == 3 and "--steps 3" in record["command"]
    assert [step for step, _ in results["loss_curve"]] == [1, 2, 3]
    assert results["test_crops"] == 2 * 36 and sorted(results["test_accuracy"]) == sorted(script.SHAPES)
    stored = results["checkpoint"]
    classifier = _loaded(tmp_path / stored["file"], stored["sha256"])
    crops, labels = script.crops_and_labels("test", 2)
    assert script.accuracy_per_shape(classifier, crops, labels) == results["test_accuracy"]
    assert script.yes_rates(classifier, crops, labels) == results["test_yes_rates"]


def test_the_shipped_record_protects_itself(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    before = (RESULTS_DIR / f"{script.NAME}.json").read_bytes()
    monkeypatch.setattr(sys, "argv", ["lesson07_crop_classifier", "--output", str(RESULTS_DIR)])
    with pytest.raises(SystemExit):
        script.main()  # refuses before any training
    assert "--overwrite" in capsys.readouterr().err
    assert (RESULTS_DIR / f"{script.NAME}.json").read_bytes() == before


def test_the_shipped_checkpoint_is_the_one_its_record_names() -> None:
    record = load_experiment(script.NAME)
    stored = record["results"]["checkpoint"]
    assert file_sha256(RESULTS_DIR / stored["file"]) == stored["sha256"]
    assert record["settings"]["steps"] == 2000 and record["settings"]["batch_size"] == 128
    assert record["ran_on"].endswith("1 threads") and len(record["results"]["loss_curve"]) == 2000 // 50
    _loaded(RESULTS_DIR / stored["file"], stored["sha256"])  # loads with weights_only=True
