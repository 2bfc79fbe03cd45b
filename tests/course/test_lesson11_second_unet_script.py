"""Lesson 12's second U-Net: the script refuses what it cannot do, and its shipped run is the recipe_seeds run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from experiments import lesson11_second_unet
from segedu.course.experiments import RESULTS_DIR, load_experiment
from segedu.models import get_model
from segedu.training.checkpoints import load_checkpoint


def test_seed_zero_is_refused(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["lesson11_second_unet", "--seed", "0", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        lesson11_second_unet.main()  # refuses before any training
    assert "seed 0 is the shipped checkpoint" in capsys.readouterr().err


def test_the_shipped_record_is_protected(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["lesson11_second_unet", "--output", str(RESULTS_DIR)])
    with pytest.raises(SystemExit):
        lesson11_second_unet.main()
    assert "--overwrite" in capsys.readouterr().err


def test_the_shipped_checkpoint_is_the_recipe_seeds_run() -> None:
    """Its file matches its hash, loads into the recipe's U-Net, and its test scores are those recipe_seeds lists."""
    record = load_experiment("lesson11_second_unet")
    (seed,) = record["seeds"]
    stored = record["results"]["checkpoint"]
    assert stored["file"] == lesson11_second_unet.checkpoint_name(seed)
    checkpoint = load_checkpoint(RESULTS_DIR / stored["file"], expected_sha256=stored["sha256"])
    model = get_model("unet", **checkpoint["metadata"]["model_kwargs"])
    model.load_state_dict(checkpoint["state_dict"])
    listed = load_experiment("recipe_seeds")["results"]["runs"]["shapes"]["unet"][str(seed)]
    assert record["results"]["test"] == listed["test"] and record["settings"]["recipe"] == listed["command"]
